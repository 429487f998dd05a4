package io.countersign.proxy.upstream;

/** No usable response came from the upstream. Tells the agent-facing status and error code. */
public class UpstreamException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final boolean requestSent;

  /**
   * @param status 502 or 504
   * @param code stable error code, e.g. {@code upstream_unreachable}
   * @param message what happened
   * @param requestSent whether the request may have reached the upstream
   */
  public UpstreamException(int status, String code, String message, boolean requestSent) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.requestSent = requestSent;
  }

  /** The status to answer the agent with. */
  public int status() {
    return status;
  }

  /** The stable error code. */
  public String code() {
    return code;
  }

  /** Whether the request may have reached the upstream (so it may have acted). */
  public boolean requestSent() {
    return requestSent;
  }

  /**
   * The TLS failure in {@code cause}'s chain as a 502 {@code upstream_tls_error} (nothing was sent:
   * requests are only written after the handshake), or null when the failure is not TLS.
   */
  static UpstreamException ifTls(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException) {
        return new UpstreamException(
            502, "upstream_tls_error", "TLS with the upstream failed: " + t.getMessage(), false);
      }
    }
    return null;
  }
}
