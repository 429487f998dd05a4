package io.countersign.proxy.exchange;

import java.util.EnumSet;
import java.util.Set;

/**
 * The states of one exchange. The ledger records the intent (with the decision) on leaving
 * RECEIVED, every approval step of a hold, and the outcome on reaching a final state.
 */
public enum ExchangeState {
  /** Parsed and canonicalized; nothing decided yet. */
  RECEIVED,
  /** The policy decided; the intent is being appended (nothing leaves before it is written). */
  DECIDED,
  /** Waiting for a human approval. */
  HELD,
  /** Approved by enough humans. */
  APPROVED,
  /** Denied by the policy, an approver, or failing closed. */
  DENIED,
  /** The hold timed out. */
  EXPIRED,
  /** Sent upstream. */
  FORWARDED,
  /** The upstream's answer is streaming to the agent; its end will be recorded. */
  STREAMING,
  /** The upstream answered and the answer was recorded. */
  COMPLETED,
  /** No usable answer (upstream down, timeout) or the exchange could not be recorded. */
  FAILED;

  private Set<ExchangeState> next;

  static {
    RECEIVED.next = EnumSet.of(DECIDED, DENIED, FAILED);
    DECIDED.next = EnumSet.of(HELD, DENIED, FORWARDED, FAILED);
    HELD.next = EnumSet.of(APPROVED, DENIED, EXPIRED, FAILED);
    APPROVED.next = EnumSet.of(FORWARDED, FAILED);
    DENIED.next = EnumSet.noneOf(ExchangeState.class);
    EXPIRED.next = EnumSet.noneOf(ExchangeState.class);
    FORWARDED.next = EnumSet.of(STREAMING, COMPLETED, FAILED);
    STREAMING.next = EnumSet.of(COMPLETED);
    COMPLETED.next = EnumSet.noneOf(ExchangeState.class);
    FAILED.next = EnumSet.noneOf(ExchangeState.class);
  }

  /** Whether the state machine allows moving from this state to {@code to}. */
  public boolean canMoveTo(ExchangeState to) {
    return next.contains(to);
  }

  /** Whether no transition leaves this state. */
  public boolean isFinal() {
    return next.isEmpty();
  }
}
