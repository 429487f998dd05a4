package io.countersign.proxy.canonical;

import io.countersign.proxy.route.Route;

/**
 * A request the proxy refuses before any policy sees it. Carries what the agent is told: the HTTP
 * status, a stable error code and a sentence saying what was wrong; and the route, once it is
 * known, so the refusal is written in the route's error dialect.
 */
public class RequestRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final transient Route route;

  /**
   * @param status the HTTP status to answer with
   * @param code a stable machine-readable code, e.g. {@code path_dot_segment}
   * @param message what was wrong, for the agent and the ledger
   */
  public RequestRejectedException(int status, String code, String message) {
    this(status, code, message, null);
  }

  private RequestRejectedException(int status, String code, String message, Route route) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.route = route;
  }

  /** This refusal, found on {@code route}. */
  public RequestRejectedException on(Route route) {
    return new RequestRejectedException(status, code, getMessage(), route);
  }

  /** The route the request matched, or null when it was refused before one was known. */
  public Route route() {
    return route;
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
