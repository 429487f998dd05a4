package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The canonical request as journaled with its intent: exactly what the policy saw and what is
 * forwarded (the injected credential is named, never written).
 *
 * @param method the method
 * @param path the canonical path the agent used (with the route prefix)
 * @param upstream the upstream origin, e.g. {@code https://crm.example.com}
 * @param upstreamTarget the request target sent upstream (path and canonical query)
 * @param query the canonical query, or null
 * @param headers the forwarded headers (lower-case names), in order
 * @param credentialInjected the header the route's credential is injected into, or null
 * @param size the body's size in bytes
 * @param bodySha256 hex SHA-256 of the body bytes
 * @param body the body as the policy saw it ({@code input.request.body}: the JSON value, a form's
 *     fields, multipart's fields and files, the text), when the decision lets the ledger keep it;
 *     else null
 * @param bodyKind {@code input.request.body_kind} ({@code none}, {@code json}, {@code form},
 *     {@code multipart}, {@code text}, {@code opaque}); null in ledgers written before body kinds
 * @param bodyNested {@code input.request.body_nested} (form and multipart names read as nested
 *     objects), when kept; else null
 * @param stripped what the route's {@code overrides: strip} removed before the policy saw the
 *     request ({@code header:NAME}, {@code query:NAME}, {@code form:NAME}, {@code
 *     multipart:NAME}), or null when nothing was
 */
public record RequestRecord(
    String method,
    String path,
    String upstream,
    String upstreamTarget,
    String query,
    Map<String, String> headers,
    String credentialInjected,
    long size,
    String bodySha256,
    JsonNode body,
    String bodyKind,
    JsonNode bodyNested,
    List<String> stripped) {

  /** Normalizes: no null header map, a JSON null body is no body, an empty stripped list none. */
  public RequestRecord {
    headers = headers == null ? Map.of() : headers;
    body = Json.orNull(body);
    bodyNested = Json.orNull(bodyNested);
    stripped = stripped == null || stripped.isEmpty() ? null : List.copyOf(stripped);
  }

  /** A record without body kind, nested view or stripped names (as ledgers before them had). */
  public RequestRecord(String method, String path, String upstream, String upstreamTarget,
      String query, Map<String, String> headers, String credentialInjected, long size,
      String bodySha256, JsonNode body) {
    this(method, path, upstream, upstreamTarget, query, headers, credentialInjected, size,
        bodySha256, body, null, null, null);
  }
}
