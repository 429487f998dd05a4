package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.ledger.event.HoldTerms;
import java.time.Duration;
import java.time.format.DateTimeParseException;

/**
 * What a hold decision asks for: which group approves, how many distinct approvers, how long the
 * hold waits, and what a timeout means. Read from the decision's {@code approval} obligation.
 *
 * @param group the approver group
 * @param quorum distinct approvers needed
 * @param timeout how long the hold waits
 * @param onTimeout what a timeout means; only {@code deny} is served (fail closed)
 * @param escalateGroup a second group notified after {@code escalateAfter}, or null
 * @param escalateAfter when to notify {@code escalateGroup}, or null
 * @param requireOnBehalfOf the hold needs the request to say whom the agent acts for ({@code
 *     X-Countersign-On-Behalf-Of}), so that the approver can be checked to be someone else; a hold
 *     without it is refused
 */
public record ApprovalTerms(
    String group,
    int quorum,
    Duration timeout,
    String onTimeout,
    String escalateGroup,
    Duration escalateAfter,
    boolean requireOnBehalfOf) {

  /** Terms that do not require an on-behalf-of. */
  public ApprovalTerms(String group, int quorum, Duration timeout, String onTimeout,
      String escalateGroup, Duration escalateAfter) {
    this(group, quorum, timeout, onTimeout, escalateGroup, escalateAfter, false);
  }

  /** The most approvers a decision may require. */
  public static final int MAX_QUORUM = 10;

  /**
   * Reads the terms of a hold.
   *
   * @param approval the decision's {@code approval} object
   * @param defaultTimeout used when the decision names none
   * @throws IllegalArgumentException saying what is wrong; the proxy then fails closed
   */
  public static ApprovalTerms from(JsonNode approval, Duration defaultTimeout) {
    if (approval == null || !approval.isObject()) {
      throw new IllegalArgumentException("a hold decision must carry an approval object");
    }
    String group = approval.path("group").asText("");
    if (group.isBlank()) {
      throw new IllegalArgumentException("approval.group is missing");
    }
    JsonNode q = approval.path("quorum");
    int quorum = q.isMissingNode() ? 1 : q.isIntegralNumber() ? q.asInt() : -1;
    if (quorum < 1 || quorum > MAX_QUORUM) {
      throw new IllegalArgumentException("approval.quorum must be a whole number from 1 to " + MAX_QUORUM);
    }
    Duration timeout = duration(approval.path("timeout"), "approval.timeout", defaultTimeout);
    String onTimeout = approval.path("on_timeout").asText("deny");
    if (!"deny".equals(onTimeout)) {
      throw new IllegalArgumentException(
          "approval.on_timeout is '" + onTimeout + "'; only deny is served (a timeout never allows)");
    }
    JsonNode esc = approval.path("escalate");
    String escGroup = null;
    Duration escAfter = null;
    if (esc.isObject()) {
      escGroup = esc.path("group").asText(null);
      escAfter = duration(esc.path("after"), "approval.escalate.after", null);
      if (escGroup == null || escAfter == null) {
        throw new IllegalArgumentException("approval.escalate needs group and after");
      }
      if (escAfter.compareTo(timeout) >= 0) {
        throw new IllegalArgumentException("approval.escalate.after must be shorter than the timeout");
      }
    }
    JsonNode required = approval.path("require_on_behalf_of");
    if (!required.isMissingNode() && !required.isBoolean()) {
      throw new IllegalArgumentException("approval.require_on_behalf_of must be true or false");
    }
    return new ApprovalTerms(group, quorum, timeout, onTimeout, escGroup, escAfter,
        required.asBoolean(false));
  }

  /**
   * The terms as journaled in {@code approval.opened}.
   *
   * @throws IllegalArgumentException when they do not parse (the hold is then not restored)
   */
  public static ApprovalTerms from(HoldTerms t) {
    try {
      return new ApprovalTerms(t.group(), t.quorum(), Duration.parse(t.timeout()), t.onTimeout(),
          t.escalate() == null ? null : t.escalate().group(),
          t.escalate() == null ? null : Duration.parse(t.escalate().after()),
          Boolean.TRUE.equals(t.requireOnBehalfOf()));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the journaled approval terms do not parse: " + e.getMessage(), e);
    }
  }

  private static Duration duration(JsonNode n, String key, Duration dflt) {
    if (n.isMissingNode() || n.isNull()) {
      return dflt;
    }
    try {
      Duration d = Duration.parse(n.asText());
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(key + " must be positive");
      }
      return d;
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(key + " is '" + n.asText() + "', not an ISO-8601 duration");
    }
  }
}
