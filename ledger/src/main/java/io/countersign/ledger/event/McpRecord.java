package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What a request on an MCP route asked for, as the policy saw it in {@code input.mcp}: recorded in
 * {@code exchange.decided} beside the request. Absent members were null.
 *
 * @param method the JSON-RPC method, e.g. {@code tools/call}
 * @param tool for {@code tools/call}: the tool's name
 * @param arguments the tool's (or prompt's) arguments; kept only when the decision keeps the body
 * @param requestId the JSON-RPC id, a string or an integer
 * @param sessionId the {@code Mcp-Session-Id} header
 * @param protocolVersion the {@code MCP-Protocol-Version} header
 * @param uri the resource URI of {@code resources/read} (and subscribe, unsubscribe)
 * @param prompt the prompt's name of {@code prompts/get}
 * @param isNotification whether the message is a notification
 * @param isResponse whether the message is the client's response to a server request
 * @param batch the messages of a batch (each without session, revision and batch), or null
 */
public record McpRecord(
    String method,
    String tool,
    JsonNode arguments,
    JsonNode requestId,
    String sessionId,
    String protocolVersion,
    String uri,
    String prompt,
    boolean isNotification,
    boolean isResponse,
    List<McpRecord> batch) {

  /** Normalizes a JSON null to none and copies the batch. */
  public McpRecord {
    arguments = Json.orNull(arguments);
    requestId = Json.orNull(requestId);
    batch = batch == null ? null : List.copyOf(batch);
  }
}
