package io.countersign.ledger.event;

/**
 * {@code exchange.failed}: no usable answer came (upstream down, timeout, a broken answer) or the
 * exchange could not go on inside the proxy; the agent got an error.
 *
 * @param outcome always {@code failed}
 * @param status the error status the agent got
 * @param error the error code
 * @param message what happened
 * @param requestSent whether the request may have reached the upstream (it may have acted)
 * @param totalLatencyUs from receiving the request to the error, in microseconds
 */
public record ExchangeFailed(
    String outcome, int status, String error, String message, boolean requestSent, long totalLatencyUs)
    implements ExchangeOutcome {

  /** The outcome's name of every failed exchange. */
  public static final String OUTCOME = "failed";

  /** A failure; {@code outcome} is {@value #OUTCOME}. */
  public ExchangeFailed(int status, String error, String message, boolean requestSent, long totalLatencyUs) {
    this(OUTCOME, status, error, message, requestSent, totalLatencyUs);
  }
}
