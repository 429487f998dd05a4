package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
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
 * @param bodyKind the body's kind as the policy read it, or null (ledgers before body kinds)
 * @param body the body as the policy read it, or null (shown to approvers; the bytes are what is
 *     forwarded)
 * @param bodyNested the nested reading of a form or multipart body, or null
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
    Caller caller,
    String bodyKind,
    JsonNode body,
    JsonNode bodyNested) {

  /** Normalizes: no null header list, JSON nulls are no value. */
  public HeldRequest {
    headers = headers == null ? List.of() : headers;
    body = Json.orNull(body);
    bodyNested = Json.orNull(bodyNested);
  }
}
