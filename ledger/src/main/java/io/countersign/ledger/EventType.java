package io.countersign.ledger;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The kinds of ledger event. New kinds are added, never renamed: readers skip unknown kinds. */
public enum EventType {
  /**
   * Intent: the canonical request, the caller and the decision, appended before anything leaves.
   */
  EXCHANGE_DECIDED("exchange.decided"),
  /** Outcome: what was forwarded and what came back (or the deny that was answered). */
  EXCHANGE_COMPLETED("exchange.completed"),
  /** Outcome: the request was forwarded but no usable response came (upstream down, timeout). */
  EXCHANGE_FAILED("exchange.failed"),
  /** The request was refused before any policy saw it (bad input, unknown route), and why. */
  EXCHANGE_REJECTED("exchange.rejected"),
  /**
   * A hold opened: the approval id, its policy (group, quorum, deadline) and everything needed to
   * execute the exact judged request later, also after a restart.
   */
  APPROVAL_OPENED("approval.opened"),
  /** An approver approved (one vote toward the quorum). */
  APPROVAL_APPROVED("approval.approved"),
  /** An approver denied; the hold ends. */
  APPROVAL_DENIED("approval.denied"),
  /** The hold timed out and resolved by its on_timeout rule. */
  APPROVAL_EXPIRED("approval.expired"),
  /** A sync hold ended because the agent's connection went away (or the proxy restarted). */
  APPROVAL_ABANDONED("approval.abandoned"),
  /** The approved request is about to be forwarded (written before it leaves: at most once). */
  APPROVAL_EXECUTING("approval.executing"),
  /** An attempt to approve or deny was refused (bad token, wrong group, self-approval ...). */
  APPROVAL_REFUSED("approval.refused"),
  /** A notification about a hold was delivered, or finally failed after its retries. */
  APPROVAL_NOTIFIED("approval.notified"),
  /** A new policy revision is in force (reload by file change or admin call). */
  POLICY_RELOADED("policy.reloaded"),
  /** A reload was refused (the candidate does not compile); the old policy stays in force. */
  POLICY_RELOAD_REFUSED("policy.reload_refused"),
  /** The shadow (candidate) policy decided differently from the enforced one; never enforced. */
  POLICY_SHADOW_DISAGREED("policy.shadow_disagreed"),
  /**
   * The ledger itself deleted whole old roll cycles under its retention setting: which files, and
   * where the chain now starts (so {@code verify} can tell retention from tampering).
   */
  LEDGER_RETENTION("ledger.retention");

  private final String wireName;

  EventType(String wireName) {
    this.wireName = wireName;
  }

  /** The name written to the journal. */
  @JsonValue
  public String wireName() {
    return wireName;
  }

  /**
   * Parses a wire name.
   *
   * @throws IllegalArgumentException when {@code name} is not a known kind
   */
  @JsonCreator
  public static EventType fromWire(String name) {
    for (EventType t : values()) {
      if (t.wireName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown ledger event type '" + name + "'");
  }
}
