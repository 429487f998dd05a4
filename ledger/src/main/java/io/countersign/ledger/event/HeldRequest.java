package io.countersign.ledger.event;

import java.util.List;

/**
 * A held request as journaled when its hold opens: every byte needed to forward exactly what was
 * judged, later or after a restart.
 *
 * @param method the method
 * @param route the route's name
 * @param path the canonical path the agent used
 * @param upstreamPath the canonical path sent upstream
 * @param query the canonical query, or null
 * @param headers the forwarded headers in order, each {@code [name, value]}
 * @param bodyBase64 the body bytes, base64
 * @param bodySha256 hex SHA-256 of the body bytes (checked when the request is rebuilt)
 * @param caller who called and why
 */
public record HeldRequest(
    String method,
    String route,
    String path,
    String upstreamPath,
    String query,
    List<List<String>> headers,
    String bodyBase64,
    String bodySha256,
    Caller caller) {

  /** Normalizes: no null header list. */
  public HeldRequest {
    headers = headers == null ? List.of() : headers;
  }
}
