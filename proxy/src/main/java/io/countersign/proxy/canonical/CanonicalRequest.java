package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.canonical.QueryCanonicalizer.CanonicalQuery;
import io.countersign.proxy.route.Route;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;

/**
 * The one canonical form of a request: what the policy sees, what the ledger records and exactly
 * what is forwarded (plus the route's injected credential and the upstream Host). Nothing about the
 * request is derived again after this.
 *
 * <p>Owns a reference to {@code body}; whoever ends the exchange calls {@link #release()}.
 *
 * @param method upper-case method
 * @param route the matched route
 * @param path the canonical path the agent used (with the route prefix)
 * @param upstreamPath the canonical path sent upstream
 * @param query the canonical query
 * @param headers forwarded headers in order, lower-case names, one entry per name
 * @param body the exact body bytes forwarded
 * @param bodyJson the parsed body when it is JSON, else null
 * @param bodySha256 hex SHA-256 of {@code body}
 * @param caller who is calling and why
 * @param respondAsync the agent asked (Prefer: respond-async) for a ticket if the request is held;
 *     that preference is for the proxy and is not forwarded
 */
public record CanonicalRequest(
    String method,
    Route route,
    String path,
    String upstreamPath,
    CanonicalQuery query,
    List<Map.Entry<String, String>> headers,
    ByteBuf body,
    JsonNode bodyJson,
    String bodySha256,
    CallerIdentity caller,
    boolean respondAsync) {

  /** The request target sent upstream: path plus canonical query. */
  public String upstreamTarget() {
    return query.canonical() == null ? upstreamPath : upstreamPath + "?" + query.canonical();
  }

  /** Body size in bytes. */
  public int size() {
    return body.readableBytes();
  }

  /** Releases the body. */
  public void release() {
    body.release();
  }
}
