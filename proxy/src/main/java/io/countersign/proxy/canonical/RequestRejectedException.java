package io.countersign.proxy.canonical;

/**
 * A request the proxy refuses before any policy sees it. Carries what the agent is told: the HTTP
 * status, a stable error code and a sentence saying what was wrong.
 */
public class RequestRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  /**
   * @param status the HTTP status to answer with
   * @param code a stable machine-readable code, e.g. {@code path_dot_segment}
   * @param message what was wrong, for the agent and the ledger
   */
  public RequestRejectedException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  /** The HTTP status. */
  public int status() {
    return status;
  }

  /** The stable error code. */
  public String code() {
    return code;
  }
}
