package io.countersign.ledger.event;

/**
 * How an exchange ended: {@link ExchangeCompleted} (an answer was given: the upstream's, or a
 * refusal) or {@link ExchangeFailed} (no usable answer). Every exchange that was decided ends with
 * exactly one outcome.
 */
public sealed interface ExchangeOutcome extends ExchangeEvent permits ExchangeCompleted, ExchangeFailed {
  /**
   * The outcome's name: {@code forwarded}, {@code denied}, {@code hold_refused}, {@code
   * hold_invalid}, {@code approval_denied}, {@code approval_expired}, {@code approval_abandoned},
   * {@code ledger_unavailable} or {@code failed}.
   */
  String outcome();

  /** The status the agent got (or would have got). */
  int status();
}
