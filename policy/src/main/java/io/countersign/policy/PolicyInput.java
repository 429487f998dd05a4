package io.countersign.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * What the policy sees: the canonical request, who is calling and why, and context the proxy knows.
 * Serialized with {@link PolicyJson} to the JSON documented in {@code docs/policy-contract.md}.
 *
 * @param request the canonical request (exactly what would be forwarded)
 * @param caller the caller's identity and purpose
 * @param context facts the proxy adds (time, spend counters)
 * @param mcp on an MCP route, the JSON-RPC message(s) of the request; null (and left out of the
 *     JSON, so {@code input.mcp} is undefined) on other routes
 */
public record PolicyInput(Request request, Caller caller, Context context,
    @JsonInclude(JsonInclude.Include.NON_NULL) Mcp mcp) {

  /** The input of a request on a route that is not an MCP route. */
  public PolicyInput(Request request, Caller caller, Context context) {
    this(request, caller, context, null);
  }

  /**
   * The canonical request.
   *
   * @param method upper-case HTTP method
   * @param route the name of the configured route that matched
   * @param path the canonical path the agent asked for (with the route prefix)
   * @param upstreamPath the path sent upstream
   * @param query decoded query parameters, in request order per name
   * @param headers forwarded headers, lower-case names (credentials and identity headers excluded)
   * @param bodyKind what the body is: {@code none}, {@code json}, {@code form}, {@code multipart},
   *     {@code text} or {@code opaque}
   * @param body the body as parsed for its kind: the JSON value; a form's names (as sent) to
   *     lists of values; multipart's {@code {"fields": {...}, "files": [...]}}; the text; null for
   *     none and opaque
   * @param bodyNested for form and multipart bodies, the fields with bracket names read as nested
   *     objects ({@code metadata[a]=1} as {@code {"metadata": {"a": ["1"]}}}); else null
   * @param bodySha256 hex SHA-256 of the exact body bytes forwarded
   * @param size body size in bytes
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Request(
      String method,
      String route,
      String path,
      @JsonProperty("upstream_path") String upstreamPath,
      Map<String, List<String>> query,
      Map<String, String> headers,
      @JsonProperty("body_kind") String bodyKind,
      JsonNode body,
      @JsonProperty("body_nested") JsonNode bodyNested,
      @JsonProperty("body_sha256") String bodySha256,
      long size) {

    /**
     * A request whose body is JSON or nothing, as eval cases and ledger records before body kinds
     * describe it: {@code json} when there is a body value, {@code none} when there are no bytes,
     * else {@code opaque} (bytes the record did not keep).
     */
    public Request(String method, String route, String path, String upstreamPath,
        Map<String, List<String>> query, Map<String, String> headers, JsonNode body,
        String bodySha256, long size) {
      this(method, route, path, upstreamPath, query, headers,
          body != null && !body.isNull() ? "json" : size == 0 ? "none" : "opaque", body, null,
          bodySha256, size);
    }
  }

  /**
   * Who is calling and why. The agent id comes from the sidecar's own configuration, the rest from
   * request headers that are stripped before forwarding. Absent values are null.
   *
   * @param agent the agent id (from config, never from the agent)
   * @param workflow the workflow the call belongs to
   * @param run the run id within the workflow
   * @param onBehalfOf the human user the agent acts for
   * @param account the customer account the call touches
   * @param tool the agent-side tool name
   * @param promptRef a reference to or digest of the prompt input
   * @param contextRefs references to the retrieved context
   */
  public record Caller(
      String agent,
      String workflow,
      String run,
      @JsonProperty("on_behalf_of") String onBehalfOf,
      String account,
      String tool,
      @JsonProperty("prompt_ref") String promptRef,
      @JsonProperty("context_refs") List<String> contextRefs) {}

  /**
   * Facts the proxy adds.
   *
   * @param time the request's receive time, RFC 3339 in UTC (policies read time here, never from
   *     the clock, so the OPA-server and wasm engines agree and replays are deterministic)
   * @param spend today's spend so far: agent_today, workflow_today, account_today
   */
  public record Context(String time, Map<String, Long> spend) {}

  /**
   * What a request on an MCP route asks for ({@code input.mcp}, docs/mcp.md). For a single message
   * the message's fields are here and {@code batch} is null; for a batch (revisions before
   * 2025-06-18) each message is in {@code batch} and the message fields here are null (false);
   * for a request without a body (the GET event stream, the DELETE ending a session) they are null
   * (false) and {@code batch} is null.
   *
   * @param method the JSON-RPC method, e.g. {@code tools/call}; null for a response or no message
   * @param tool for {@code tools/call}: {@code params.name}
   * @param arguments for {@code tools/call} and {@code prompts/get}: {@code params.arguments}
   * @param requestId the JSON-RPC id (a string or an integer); null for a notification
   * @param sessionId the {@code Mcp-Session-Id} header
   * @param protocolVersion the {@code MCP-Protocol-Version} header
   * @param uri for {@code resources/read}, {@code resources/subscribe}, {@code
   *     resources/unsubscribe}: {@code params.uri}
   * @param prompt for {@code prompts/get}: {@code params.name}
   * @param isNotification whether the message is a notification (no id)
   * @param isResponse whether the message is the client's response to a server request
   * @param batch the messages of a batch, in order; null when the body is not a batch
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Mcp(
      String method,
      String tool,
      JsonNode arguments,
      @JsonProperty("request_id") JsonNode requestId,
      @JsonProperty("session_id") String sessionId,
      @JsonProperty("protocol_version") String protocolVersion,
      String uri,
      String prompt,
      @JsonProperty("is_notification") boolean isNotification,
      @JsonProperty("is_response") boolean isResponse,
      List<Message> batch) {}

  /**
   * One message of a batch, with the fields {@link Mcp} has for a single message.
   *
   * @param method the JSON-RPC method; null for a response
   * @param tool for {@code tools/call}: {@code params.name}
   * @param arguments for {@code tools/call} and {@code prompts/get}: {@code params.arguments}
   * @param requestId the JSON-RPC id; null for a notification
   * @param uri for the {@code resources/*} methods that name one: {@code params.uri}
   * @param prompt for {@code prompts/get}: {@code params.name}
   * @param isNotification whether the message is a notification
   * @param isResponse whether the message is a response
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Message(
      String method,
      String tool,
      JsonNode arguments,
      @JsonProperty("request_id") JsonNode requestId,
      String uri,
      String prompt,
      @JsonProperty("is_notification") boolean isNotification,
      @JsonProperty("is_response") boolean isResponse) {}
}
