package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
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
 * @param body the body as the policy saw it, when the decision lets the ledger keep it; else null
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
    JsonNode body) {

  /** Normalizes: no null header map, and a JSON null body is no body. */
  public RequestRecord {
    headers = headers == null ? Map.of() : headers;
    body = Json.orNull(body);
  }
}
