package io.countersign.ledger.event;

/**
 * A hold's approval terms as journaled.
 *
 * @param group the approver group
 * @param quorum distinct approvers needed
 * @param timeout how long the hold waits (ISO-8601 duration)
 * @param onTimeout what a timeout means ({@code deny})
 * @param escalate who else is told, and when, or null
 * @param requireOnBehalfOf whether the hold needed the request to name whom the agent acts for, or
 *     null (not required; ledgers before the setting)
 */
public record HoldTerms(String group, int quorum, String timeout, String onTimeout, Escalation escalate,
    Boolean requireOnBehalfOf) {

  /** Terms without the on-behalf-of requirement. */
  public HoldTerms(String group, int quorum, String timeout, String onTimeout, Escalation escalate) {
    this(group, quorum, timeout, onTimeout, escalate, null);
  }

  /**
   * An escalation step.
   *
   * @param group the group notified
   * @param after how long after the hold opened (ISO-8601 duration)
   */
  public record Escalation(String group, String after) {}
}
