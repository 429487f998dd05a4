package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.canonical.QueryCanonicalizer;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The held request as the ledger keeps it: every byte needed to forward exactly what was judged,
 * later or after a restart. Also the request's digest, which an approval is bound to.
 */
public final class HeldRequests {
  private static final ObjectMapper JSON = new ObjectMapper();

  private HeldRequests() {}

  /**
   * The digest an approval is bound to: SHA-256 over method, upstream target, forwarded headers
   * and the body's SHA-256. Two requests with one digest forward the same bytes.
   */
  public static String digest(CanonicalRequest r) {
    StringBuilder s = new StringBuilder();
    s.append(r.method()).append('\n').append(r.route().name()).append('\n')
        .append(r.upstreamTarget()).append('\n');
    for (Map.Entry<String, String> h : r.headers()) {
      s.append(h.getKey()).append(':').append(h.getValue()).append('\n');
    }
    s.append(r.bodySha256());
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(s.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The request as stored in {@code approval.opened}. */
  public static ObjectNode toJson(CanonicalRequest r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("method", r.method());
    n.put("route", r.route().name());
    n.put("path", r.path());
    n.put("upstream_path", r.upstreamPath());
    n.put("query", r.query().canonical());
    ArrayNode headers = n.putArray("headers");
    r.headers().forEach(h -> headers.addArray().add(h.getKey()).add(h.getValue()));
    n.put("body_base64", Base64.getEncoder().encodeToString(ByteBufUtil.getBytes(r.body())));
    n.put("body_sha256", r.bodySha256());
    CallerIdentity c = r.caller();
    ObjectNode caller = n.putObject("caller");
    caller.put("agent", c.agent());
    caller.put("workflow", c.workflow());
    caller.put("run", c.run());
    caller.put("on_behalf_of", c.onBehalfOf());
    caller.put("account", c.account());
    caller.put("tool", c.tool());
    caller.put("prompt_ref", c.promptRef());
    if (c.contextRefs() != null) {
      c.contextRefs().forEach(caller.putArray("context_refs")::add);
    }
    return n;
  }

  /**
   * Rebuilds a stored request against the current routes.
   *
   * @throws IllegalArgumentException when the route no longer exists or the body does not match
   *     its recorded digest (the request is then never forwarded)
   */
  public static CanonicalRequest fromJson(JsonNode n, RouteTable routes) {
    String path = n.path("path").asText();
    RouteTable.Match match = routes.match(path);
    if (match == null || !match.route().name().equals(n.path("route").asText())) {
      throw new IllegalArgumentException("route " + n.path("route").asText() + " is no longer configured");
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    n.path("headers").forEach(h -> headers.add(new SimpleImmutableEntry<>(h.get(0).asText(), h.get(1).asText())));
    byte[] body = Base64.getDecoder().decode(n.path("body_base64").asText(""));
    var buf = Unpooled.wrappedBuffer(body);
    String sha = Canonicalizer.sha256(buf);
    if (!sha.equals(n.path("body_sha256").asText())) {
      buf.release();
      throw new IllegalArgumentException("the stored body does not match its SHA-256");
    }
    JsonNode c = n.path("caller");
    List<String> refs = null;
    if (c.path("context_refs").isArray()) {
      refs = new ArrayList<>();
      for (JsonNode r : c.path("context_refs")) {
        refs.add(r.asText());
      }
    }
    CallerIdentity caller = new CallerIdentity(text(c, "agent"), text(c, "workflow"), text(c, "run"),
        text(c, "on_behalf_of"), text(c, "account"), text(c, "tool"), text(c, "prompt_ref"), refs);
    String query = n.path("query").isNull() ? null : n.path("query").asText(null);
    return new CanonicalRequest(n.path("method").asText(), match.route(), path,
        n.path("upstream_path").asText(), new QueryCanonicalizer.CanonicalQuery(query, Map.of()),
        List.copyOf(headers), buf, null, sha, caller, "async".equals(n.path("mode").asText()));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
