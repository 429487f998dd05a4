package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.canonical.QueryCanonicalizer.CanonicalQuery;
import io.countersign.proxy.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.Map;

/**
 * The one canonical form of a request: what the policy sees, what the ledger records and exactly
 * what is forwarded (plus the route's injected credential and the upstream Host). Nothing about the
 * request is derived again after this.
 *
 * <p>Owns a reference to {@code body}; whoever ends the exchange calls {@link #release()}.
 *
 * <p>For the ledger: {@code content} is the body as the policy read it ({@code content.kind()} is
 * {@code request.body_kind}, {@code content.view()} is {@code request.body} for every kind, not
 * only JSON, and {@code content.nested()} is {@code request.body_nested}); {@code stripped} names
 * what the route's {@code overrides: strip} removed before the policy saw the request. Record both
 * with the request so the journal says what was judged and what was taken away.
 *
 * @param method upper-case method
 * @param route the matched route
 * @param path the canonical path the agent used (with the route prefix)
 * @param upstreamPath the canonical path sent upstream
 * @param query the canonical query
 * @param headers forwarded headers in order, lower-case names, one entry per name
 * @param body the exact body bytes forwarded (the received bytes, or their canonical re-encoding
 *     for a form body, or the multipart body without a stripped part)
 * @param content the parsed body, exactly as the policy reads it; {@link CanonicalBody#unparsed}
 *     when constructed with null (a held request restored from the ledger, forwarded as recorded)
 * @param bodySha256 hex SHA-256 of {@code body}
 * @param caller who is calling and why
 * @param respondAsync the agent asked (Prefer: respond-async) for a ticket if the request is held;
 *     that preference is for the proxy and is not forwarded
 * @param stripped what was removed by the route's {@code overrides: strip}, each as {@code
 *     header:<name>}, {@code query:<name>}, {@code form:<name>} or {@code multipart:<name>}; empty
 *     when nothing was
 * @param mcp on an MCP route, the JSON-RPC messages of the body and the session and revision
 *     headers ({@code input.mcp}); null on other routes
 */
public record CanonicalRequest(
    String method,
    Route route,
    String path,
    String upstreamPath,
    CanonicalQuery query,
    List<Map.Entry<String, String>> headers,
    ByteBuf body,
    CanonicalBody content,
    String bodySha256,
    CallerIdentity caller,
    boolean respondAsync,
    List<String> stripped,
    McpCall mcp) {

  /** Fills in an unparsed body and an empty stripped list when none are given. */
  public CanonicalRequest {
    if (content == null) {
      content = CanonicalBody.unparsed(body.readableBytes());
    }
    stripped = stripped == null ? List.of() : List.copyOf(stripped);
  }

  /** A request of a route that is not an MCP route. */
  public CanonicalRequest(String method, Route route, String path, String upstreamPath,
      CanonicalQuery query, List<Map.Entry<String, String>> headers, ByteBuf body,
      CanonicalBody content, String bodySha256, CallerIdentity caller, boolean respondAsync,
      List<String> stripped) {
    this(method, route, path, upstreamPath, query, headers, body, content, bodySha256, caller,
        respondAsync, stripped, null);
  }

  /**
   * A request rebuilt from its record (a restored hold): the body is forwarded as recorded and
   * not parsed again, and nothing was stripped.
   */
  public CanonicalRequest(String method, Route route, String path, String upstreamPath,
      CanonicalQuery query, List<Map.Entry<String, String>> headers, ByteBuf body,
      CanonicalBody content, String bodySha256, CallerIdentity caller, boolean respondAsync) {
    this(method, route, path, upstreamPath, query, headers, body, content, bodySha256, caller,
        respondAsync, List.of(), null);
  }

  /** The parsed body when it is JSON, else null (the record of JSON bodies the ledger keeps). */
  public JsonNode bodyJson() {
    return content.kind() == BodyKind.JSON ? content.view() : null;
  }

  /** The request target sent upstream: path plus canonical query. */
  public String upstreamTarget() {
    return query.canonical() == null ? upstreamPath : upstreamPath + "?" + query.canonical();
  }

  /** Body size in bytes. */
  public int size() {
    return body.readableBytes();
  }

  /**
   * This request without its body bytes or parsed view, for a hold that keeps only what it shows
   * and checks (the bytes stay in the ledger, journaled with {@code approval.opened}, and are read
   * back to execute the hold; the MCP reading, which holds the arguments, is dropped with the
   * view). Releases this request's body; {@link #size()} of the result is 0.
   */
  public CanonicalRequest detached() {
    CanonicalRequest d = new CanonicalRequest(method, route, path, upstreamPath, query, headers,
        Unpooled.EMPTY_BUFFER, new CanonicalBody(content.kind(), null, null, content.mediaType()),
        bodySha256, caller, respondAsync, stripped, null);
    body.release();
    return d;
  }

  /** Releases the body. */
  public void release() {
    body.release();
  }
}
