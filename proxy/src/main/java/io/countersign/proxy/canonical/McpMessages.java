package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.canonical.McpCall.Kind;
import io.countersign.proxy.canonical.McpCall.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the request of an MCP route (streamable HTTP transport, revisions 2025-03-26 to
 * 2025-11-25) into an {@link McpCall}, or refuses it. The body is read from the JSON value the body
 * rule already parsed from the forwarded bytes; nothing is re-encoded. Thread-safe; holds no state.
 *
 * <ul>
 *   <li>No body (GET for the server's event stream, DELETE to end a session): no messages; the
 *       policy judges it as an ordinary request with {@code input.mcp.method} null.
 *   <li>A body must come with POST, be JSON ({@code application/json}, else 415 {@code
 *       mcp_body_not_json}) and one JSON-RPC 2.0 message, or a non-empty array of them (a batch).
 *       A POST without a body, a body with another method, or anything else, is 400 {@code
 *       mcp_invalid_message}.
 *   <li>A batch is refused (400 {@code mcp_batch_not_allowed}) unless the request names no
 *       protocol revision or one before 2025-06-18, which removed batching; {@code initialize}
 *       is never batched.
 * </ul>
 */
final class McpMessages {
  /** The first revision whose streamable HTTP transport forbids batches. */
  private static final String FIRST_WITHOUT_BATCHES = "2025-06-18";

  private static final Pattern REVISION_DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
  private static final Pattern PROTOCOL_VERSION = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Set<String> BODYLESS = Set.of("GET", "HEAD", "DELETE", "OPTIONS");

  private McpMessages() {}

  /**
   * The MCP reading of a request.
   *
   * @param method the HTTP method
   * @param content the body as the body rule parsed it
   * @param size the body's size in bytes
   * @param headers the forwarded headers (lower-case names, one entry per name)
   * @throws RequestRejectedException saying what is not MCP about the request
   */
  static McpCall read(String method, CanonicalBody content, int size,
      List<Map.Entry<String, String>> headers) throws RequestRejectedException {
    String session = header(headers, "mcp-session-id");
    String version = header(headers, "mcp-protocol-version");
    if (session != null && !visibleAscii(session)) {
      throw invalidHeader("Mcp-Session-Id must be sent once, as visible ASCII characters"
          + " (MCP streamable HTTP, session management)");
    }
    if (version != null && !PROTOCOL_VERSION.matcher(version).matches()) {
      throw invalidHeader("MCP-Protocol-Version must be sent once, as one revision such as"
          + " 2025-06-18");
    }
    if (size == 0) {
      if (!BODYLESS.contains(method)) {
        throw invalid("a " + method + " to an MCP route must carry a JSON-RPC 2.0 message");
      }
      return new McpCall(List.of(), false, session, version);
    }
    if (!method.equals("POST")) {
      throw invalid("a " + method + " to an MCP route carries a body; JSON-RPC messages are sent"
          + " with POST, and the GET and DELETE of the transport have no body");
    }
    if (content.kind() != BodyKind.JSON) {
      throw new RequestRejectedException(415, "mcp_body_not_json", "an MCP route takes JSON-RPC"
          + " 2.0 messages as application/json, not " + content.kind().wireName() + " bodies");
    }
    JsonNode root = content.view();
    if (root.isObject()) {
      return new McpCall(List.of(message(root, "the message")), false, session, version);
    }
    if (!root.isArray()) {
      throw invalid("the body is JSON but neither a JSON-RPC message (an object) nor a batch"
          + " (an array of them)");
    }
    if (!batchesAllowed(version)) {
      throw new RequestRejectedException(400, "mcp_batch_not_allowed", "the body is a JSON-RPC"
          + " batch, which MCP revision " + version + " does not allow (batching was removed in "
          + FIRST_WITHOUT_BATCHES + "); send one message per POST");
    }
    if (root.isEmpty()) {
      throw invalid("the batch is empty; JSON-RPC 2.0 requires at least one message");
    }
    List<Message> messages = new ArrayList<>(root.size());
    for (int i = 0; i < root.size(); i++) {
      Message m = message(root.get(i), "message " + i + " of the batch");
      if ("initialize".equals(m.method())) {
        throw invalid("message " + i + " of the batch is initialize, which must be sent alone");
      }
      messages.add(m);
    }
    return new McpCall(messages, true, session, version);
  }

  /** Batches are allowed when no revision is named, or a dated one before 2025-06-18. */
  private static boolean batchesAllowed(String version) {
    return version == null || REVISION_DATE.matcher(version).matches()
        && version.compareTo(FIRST_WITHOUT_BATCHES) < 0;
  }

  private static Message message(JsonNode m, String what) throws RequestRejectedException {
    if (!m.isObject()) {
      throw invalid(what + " is not a JSON object");
    }
    if (!"2.0".equals(m.path("jsonrpc").textValue())) {
      throw invalid(what + " lacks \"jsonrpc\": \"2.0\"");
    }
    JsonNode method = m.get("method");
    JsonNode id = m.get("id");
    if (method == null) {
      return response(m, id, what);
    }
    if (!method.isTextual() || method.textValue().isEmpty()) {
      throw invalid(what + " has a method that is not a non-empty string");
    }
    if (m.has("result") || m.has("error")) {
      throw invalid(what + " has a method and a result or error; it must be one or the other");
    }
    if (id != null && !validId(id)) {
      throw invalid(what + " has an id that is neither a string nor an integer (MCP request ids"
          + " must not be null)");
    }
    JsonNode params = m.get("params");
    if (params != null && !params.isObject()) {
      throw invalid(what + " has params that are not an object");
    }
    String name = method.textValue();
    Kind kind = id == null ? Kind.NOTIFICATION : Kind.REQUEST;
    String tool = null;
    String uri = null;
    String prompt = null;
    JsonNode arguments = null;
    switch (name) {
      case "tools/call" -> {
        tool = requiredText(params, "name", what, name);
        arguments = arguments(params, what, name);
      }
      case "prompts/get" -> {
        prompt = requiredText(params, "name", what, name);
        arguments = arguments(params, what, name);
      }
      case "resources/read", "resources/subscribe", "resources/unsubscribe" ->
          uri = requiredText(params, "uri", what, name);
      default -> { }
    }
    return new Message(kind, name, id, tool, arguments, uri, prompt);
  }

  private static Message response(JsonNode m, JsonNode id, String what)
      throws RequestRejectedException {
    boolean result = m.has("result");
    JsonNode error = m.get("error");
    if (result == (error != null)) {
      throw invalid(what + " has no method, so it must be a response with exactly one of result"
          + " and error");
    }
    if (error != null && !(error.isObject() && error.path("code").isIntegralNumber()
        && error.path("message").isTextual())) {
      throw invalid(what + " has an error that is not {\"code\": integer, \"message\": string}");
    }
    boolean nullIdError = error != null && id != null && id.isNull();
    if (!nullIdError && (id == null || !validId(id))) {
      throw invalid(what + " is a response without a string or integer id");
    }
    return new Message(Kind.RESPONSE, null, id, null, null, null, null);
  }

  private static boolean validId(JsonNode id) {
    return id.isTextual() || id.isIntegralNumber();
  }

  private static String requiredText(JsonNode params, String field, String what, String method)
      throws RequestRejectedException {
    JsonNode v = params == null ? null : params.get(field);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw invalid(what + " is " + method + " without params." + field + " as a non-empty string");
    }
    return v.textValue();
  }

  private static JsonNode arguments(JsonNode params, String what, String method)
      throws RequestRejectedException {
    JsonNode a = params.get("arguments");
    if (a == null || a.isNull()) {
      return null;
    }
    if (!a.isObject()) {
      throw invalid(what + " is " + method + " with params.arguments that are not an object");
    }
    return a;
  }

  private static String header(List<Map.Entry<String, String>> headers, String name) {
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().equals(name)) {
        return h.getValue();
      }
    }
    return null;
  }

  /** RFC 9110 visible ASCII (0x21-0x7E), what MCP allows in a session id; a repeat adds ", ". */
  private static boolean visibleAscii(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static RequestRejectedException invalid(String message) {
    return new RequestRejectedException(400, "mcp_invalid_message", message
        + " (MCP streamable HTTP carries JSON-RPC 2.0 messages)");
  }

  private static RequestRejectedException invalidHeader(String message) {
    return new RequestRejectedException(400, "mcp_invalid_header", message);
  }
}
