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
 */
public record PolicyInput(Request request, Caller caller, Context context) {

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
}
