package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * The answer the agent got from the upstream, as journaled with the outcome.
 *
 * @param status the status
 * @param headers the headers the agent got (lower-case names)
 * @param size the body's size in bytes
 * @param bodySha256 hex SHA-256 of the body bytes
 * @param body the body when it is JSON and the decision lets the ledger keep it; else null
 * @param stream how the body went when it was streamed to the agent as it arrived; else null
 */
public record ResponseRecord(
    int status, Map<String, String> headers, long size, String bodySha256, JsonNode body,
    StreamRecord stream) {

  /** An answer read whole. */
  public ResponseRecord(int status, Map<String, String> headers, long size, String bodySha256,
      JsonNode body) {
    this(status, headers, size, bodySha256, body, null);
  }

  /** Normalizes: no null header map, and a JSON null body is no body. */
  public ResponseRecord {
    headers = headers == null ? Map.of() : headers;
    body = Json.orNull(body);
  }
}
