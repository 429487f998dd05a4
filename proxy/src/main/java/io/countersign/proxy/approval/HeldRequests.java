package io.countersign.proxy.approval;

import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.HeldRequest;
import io.countersign.proxy.canonical.BodyKind;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalBody;
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
  private HeldRequests() {}

  /**
   * The digest an approval is bound to: SHA-256 over method, route, upstream target, forwarded
   * headers and the body's SHA-256. Two requests with one digest forward the same bytes.
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
  public static HeldRequest toRecord(CanonicalRequest r) {
    List<List<String>> headers = new ArrayList<>(r.headers().size());
    r.headers().forEach(h -> headers.add(List.of(h.getKey(), h.getValue())));
    return new HeldRequest(r.method(), r.route().name(), r.path(), r.upstreamPath(),
        r.query().canonical(), headers, Base64.getEncoder().encodeToString(ByteBufUtil.getBytes(r.body())),
        r.bodySha256(), caller(r.caller()), r.content().kind().wireName(), r.content().view(),
        r.content().nested());
  }

  private static CallerIdentity identity(Caller journaled) {
    Caller c = journaled == null ? new Caller(null, null, null, null, null, null, null, null) : journaled;
    return new CallerIdentity(c.agent(), c.workflow(), c.run(), c.onBehalfOf(), c.account(),
        c.tool(), c.promptRef(), c.contextRefs());
  }

  /** A caller as journaled. */
  public static Caller caller(CallerIdentity c) {
    return new Caller(c.agent(), c.workflow(), c.run(), c.onBehalfOf(), c.account(), c.tool(),
        c.promptRef(), c.contextRefs());
  }

  /**
   * A stored request as a hold keeps it in memory: everything but its body bytes and parsed view,
   * which stay in the ledger ({@link CanonicalRequest#detached()}); {@link HeldBodies} reads them
   * back to execute it.
   *
   * @throws IllegalArgumentException when the route no longer exists
   */
  public static CanonicalRequest detachedFromRecord(HeldRequest n, RouteTable routes) {
    RouteTable.Match match = routes.match(n.path());
    if (match == null || !match.route().name().equals(n.route())) {
      throw new IllegalArgumentException("route " + n.route() + " is no longer configured");
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (List<String> h : n.headers()) {
      if (h.size() != 2) {
        throw new IllegalArgumentException("a stored header is not a [name, value] pair: " + h);
      }
      headers.add(new SimpleImmutableEntry<>(h.get(0), h.get(1)));
    }
    CanonicalBody content = n.bodyKind() == null ? null
        : new CanonicalBody(BodyKind.fromWire(n.bodyKind()), null, null, null);
    return new CanonicalRequest(n.method(), match.route(), n.path(), n.upstreamPath(),
        new QueryCanonicalizer.CanonicalQuery(n.query(), Map.of()), List.copyOf(headers),
        Unpooled.EMPTY_BUFFER, content, n.bodySha256(), identity(n.caller()), true);
  }

  /** The size of a body stored as base64, without decoding it. */
  public static int storedSize(HeldRequest n) {
    String b = n.bodyBase64();
    if (b == null || b.isEmpty()) {
      return 0;
    }
    int padding = b.endsWith("==") ? 2 : b.endsWith("=") ? 1 : 0;
    return b.length() / 4 * 3 - padding;
  }

  /**
   * Rebuilds a stored request against the current routes.
   *
   * @throws IllegalArgumentException when the route no longer exists or the body does not match
   *     its recorded digest (the request is then never forwarded)
   */
  public static CanonicalRequest fromRecord(HeldRequest n, RouteTable routes) {
    CanonicalRequest held = detachedFromRecord(n, routes);
    byte[] body = Base64.getDecoder().decode(n.bodyBase64() == null ? "" : n.bodyBase64());
    var buf = Unpooled.wrappedBuffer(body);
    if (!Canonicalizer.sha256(buf).equals(n.bodySha256())) {
      buf.release();
      throw new IllegalArgumentException("the stored body does not match its SHA-256");
    }
    // the bytes are forwarded as recorded, never parsed again; the reading kept with them is
    // what approvers are shown
    CanonicalBody content = n.bodyKind() == null ? null : new CanonicalBody(
        BodyKind.fromWire(n.bodyKind()), n.body(), n.bodyNested(), null);
    return new CanonicalRequest(held.method(), held.route(), held.path(), held.upstreamPath(),
        held.query(), held.headers(), buf, content, held.bodySha256(), held.caller(), true);
  }
}
