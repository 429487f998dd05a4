package io.countersign.ledger;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.countersign.ledger.event.ApprovalAbandoned;
import io.countersign.ledger.event.ApprovalApproved;
import io.countersign.ledger.event.ApprovalDenied;
import io.countersign.ledger.event.ApprovalExecuting;
import io.countersign.ledger.event.ApprovalExpired;
import io.countersign.ledger.event.ApprovalNotified;
import io.countersign.ledger.event.ApprovalOpened;
import io.countersign.ledger.event.ApprovalRefused;
import io.countersign.ledger.event.EventBody;
import io.countersign.ledger.event.ExchangeCompleted;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.ExchangeFailed;
import io.countersign.ledger.event.ExchangeRejected;
import io.countersign.ledger.event.LedgerRetention;
import io.countersign.ledger.event.PolicyReloadRefused;
import io.countersign.ledger.event.PolicyReloaded;
import io.countersign.ledger.event.PolicyShadowDisagreed;
import java.util.HashMap;
import java.util.Map;

/**
 * The kinds of ledger event, each with its wire name and the record type of its body ({@code
 * io.countersign.ledger.event}). New kinds are added, never renamed: readers skip unknown kinds.
 */
public enum EventType {
  /**
   * Intent: the canonical request, the caller and the decision, appended before anything leaves.
   */
  EXCHANGE_DECIDED("exchange.decided", ExchangeDecided.class),
  /** Outcome: what was forwarded and what came back (or the deny that was answered). */
  EXCHANGE_COMPLETED("exchange.completed", ExchangeCompleted.class),
  /** Outcome: the request was forwarded but no usable response came (upstream down, timeout). */
  EXCHANGE_FAILED("exchange.failed", ExchangeFailed.class),
  /** The request was refused before any policy saw it (bad input, unknown route), and why. */
  EXCHANGE_REJECTED("exchange.rejected", ExchangeRejected.class),
  /**
   * A hold opened: the approval id, its policy (group, quorum, deadline) and everything needed to
   * execute the exact judged request later, also after a restart.
   */
  APPROVAL_OPENED("approval.opened", ApprovalOpened.class),
  /** An approver approved (one vote toward the quorum). */
  APPROVAL_APPROVED("approval.approved", ApprovalApproved.class),
  /** An approver denied; the hold ends. */
  APPROVAL_DENIED("approval.denied", ApprovalDenied.class),
  /** The hold timed out and resolved by its on_timeout rule. */
  APPROVAL_EXPIRED("approval.expired", ApprovalExpired.class),
  /** A sync hold ended because the agent's connection went away (or the proxy restarted). */
  APPROVAL_ABANDONED("approval.abandoned", ApprovalAbandoned.class),
  /** The approved request is about to be forwarded (written before it leaves: at most once). */
  APPROVAL_EXECUTING("approval.executing", ApprovalExecuting.class),
  /** An attempt to approve or deny was refused (bad token, wrong group, self-approval ...). */
  APPROVAL_REFUSED("approval.refused", ApprovalRefused.class),
  /** A notification about a hold was delivered, or finally failed after its retries. */
  APPROVAL_NOTIFIED("approval.notified", ApprovalNotified.class),
  /** A new policy revision is in force (reload by file change or admin call). */
  POLICY_RELOADED("policy.reloaded", PolicyReloaded.class),
  /** A reload was refused (the candidate does not compile); the old policy stays in force. */
  POLICY_RELOAD_REFUSED("policy.reload_refused", PolicyReloadRefused.class),
  /** The shadow (candidate) policy decided differently from the enforced one; never enforced. */
  POLICY_SHADOW_DISAGREED("policy.shadow_disagreed", PolicyShadowDisagreed.class),
  /**
   * The ledger itself deleted whole old roll cycles under its retention setting: which files, and
   * where the chain now starts (so {@code verify} can tell retention from tampering).
   */
  LEDGER_RETENTION("ledger.retention", LedgerRetention.class);

  private static final Map<Class<? extends EventBody>, EventType> BY_BODY = new HashMap<>();

  static {
    for (EventType t : values()) {
      BY_BODY.put(t.bodyType, t);
    }
  }

  private final String wireName;
  private final Class<? extends EventBody> bodyType;

  EventType(String wireName, Class<? extends EventBody> bodyType) {
    this.wireName = wireName;
    this.bodyType = bodyType;
  }

  /** The record type of this kind's body. */
  public Class<? extends EventBody> bodyType() {
    return bodyType;
  }

  /** The kind whose body {@code body} is. */
  public static EventType of(EventBody body) {
    EventType t = BY_BODY.get(body.getClass());
    if (t == null) {
      throw new IllegalArgumentException("no event kind has a body of " + body.getClass());
    }
    return t;
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
