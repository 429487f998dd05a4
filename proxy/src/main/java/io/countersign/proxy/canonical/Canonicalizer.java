package io.countersign.proxy.canonical;

import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import io.countersign.proxy.route.Route;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a received request into its {@link CanonicalRequest}, or refuses it with a reason. This is
 * the only place request bytes are interpreted. Thread-safe; holds no per-request state.
 */
public final class Canonicalizer {
  /** Prefix of the identity headers the agent may send; all are stripped before forwarding. */
  public static final String IDENTITY_PREFIX = "x-countersign-";

  private static final int MAX_IDENTITY_VALUE = 256;

  /** Headers the proxy reads to judge or frame a request: never to be dropped by Connection. */
  private static final Set<String> READ_BY_THE_PROXY = Set.of("content-type", "content-length",
      "content-encoding", "transfer-encoding", "host", "expect", "prefer", "traceparent",
      "tracestate");
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  /**
   * Headers never forwarded: hop-by-hop (RFC 9110 7.6.1), framing the proxy recomputes, the Host
   * it replaces, and the agent's own credentials. Headers that would change what the upstream
   * does (overrides, the proxy's position, identity assertions) are {@link Overrides}: refused or
   * stripped by the route's rule.
   */
  private static final Set<String> DROPPED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "host",
          "content-length",
          "expect",
          "authorization",
          "proxy-authorization",
          "cookie");

  /** Headers the proxy reads to parse the body: a '_' spelling of them is ambiguous too. */
  private static final Set<String> READ_BY_PROXY = Set.of("content-type", "content-encoding");

  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("the JDK lacks SHA-256", e);
            }
          });

  private final RouteTable routes;
  private final String agentId;

  /**
   * @param routes the route table
   * @param agentId the agent id from the sidecar's config
   */
  public Canonicalizer(RouteTable routes, String agentId) {
    this.routes = routes;
    this.agentId = agentId;
  }

  /**
   * Canonicalizes a fully received request. On success the result holds a retained slice of the
   * request's content; the caller still owns (and releases) {@code request}.
   *
   * @throws RequestRejectedException saying what was wrong
   */
  public CanonicalRequest canonicalize(FullHttpRequest request) throws RequestRejectedException {
    String method = request.method().name();
    if (!METHODS.contains(method)) {
      throw new RequestRejectedException(
          405, "method_not_allowed", "method " + method + " is not proxied; use one of " + METHODS);
    }
    HttpHeaders in = request.headers();
    checkHost(in, request.protocolVersion());
    String target = request.uri();
    int q = target.indexOf('?');
    String rawPath = q < 0 ? target : target.substring(0, q);
    String rawQuery = q < 0 ? null : target.substring(q + 1);
    String path = PathCanonicalizer.canonicalize(rawPath);
    QueryCanonicalizer.CanonicalQuery query = QueryCanonicalizer.canonicalize(rawQuery);
    RouteTable.Match match = routes.match(path);
    if (match == null) {
      throw new RequestRejectedException(
          404, "no_route", "no route is configured for " + path + "; routes: " + prefixes());
    }
    RequestRules rules = match.route().rules();
    PathCanonicalizer.checkRouteRules(path, rules);
    List<String> stripped = new ArrayList<>(0);
    query = QueryCanonicalizer.applyOverrides(query, rules, stripped);
    if (!rules.caseSensitiveNames() && query.params().size() > 1) {
      NameCollisions.requireDistinct(query.params().keySet().iterator(), "the query");
    }
    for (String value : in.getAll("content-encoding")) {
      for (String coding : value.split(",")) {
        if (!coding.strip().equalsIgnoreCase("identity")) {
          throw new RequestRejectedException(
              415,
              "content_encoding_unsupported",
              "request bodies must not be encoded (Content-Encoding: " + value + "), so the policy"
                  + " can read what is forwarded");
        }
      }
    }
    List<String> contentTypes = in.getAll("content-type");
    if (contentTypes.size() > 1) {
      throw new RequestRejectedException(
          400, "content_type_repeated", "Content-Type is sent more than once");
    }
    for (String expect : in.getAll("expect")) {
      if (!expect.equalsIgnoreCase("100-continue")) {
        throw new RequestRejectedException(
            417, "expectation_failed", "the only expectation served is 100-continue, not " + expect);
      }
    }
    CallerIdentity caller = caller(in);
    List<Map.Entry<String, String>> headers = forwardedHeaders(in, match.route(), stripped);
    boolean respondAsync = false;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.get(i).getKey().equals("prefer")) {
        List<String> kept = new ArrayList<>();
        for (String pref : headers.get(i).getValue().split(",")) {
          if (pref.strip().equalsIgnoreCase("respond-async")) {
            respondAsync = true;
          } else if (!pref.isBlank()) {
            kept.add(pref.strip());
          }
        }
        List<Map.Entry<String, String>> copy = new ArrayList<>(headers);
        if (kept.isEmpty()) {
          copy.remove(i);
        } else {
          copy.set(i, new SimpleImmutableEntry<>("prefer", String.join(", ", kept)));
        }
        headers = List.copyOf(copy);
        break;
      }
    }
    ByteBuf received = request.content();
    BodyCanonicalizer.Result parsed = BodyCanonicalizer.canonicalize(
        contentTypes.isEmpty() ? null : contentTypes.get(0), received, rules, stripped);
    // The forwarded bytes are the received ones (a retained slice, no copy), unless the body was
    // re-encoded canonically (a form) or lost a stripped part (multipart): then the new bytes are
    // what is hashed, judged, recorded and sent.
    // On an MCP route the messages are read from the same parsed JSON; a JSON body is never
    // re-encoded, so what the policy reads in input.mcp is in the bytes forwarded.
    McpCall mcp = match.route().kind() == RouteKind.MCP
        ? McpMessages.read(method, parsed.body(), received.readableBytes(), headers) : null;
    ByteBuf body = parsed.replacement() == null
        ? received.retainedSlice() : BodyCanonicalizer.buffer(parsed.replacement());
    String sha = sha256(body);
    return new CanonicalRequest(
        method,
        match.route(),
        path,
        match.upstreamPath(),
        query,
        headers,
        body,
        parsed.body(),
        sha,
        caller,
        respondAsync,
        stripped.isEmpty() ? List.of() : List.copyOf(stripped),
        mcp);
  }

  /**
   * RFC 9112 3.2: an HTTP/1.1 request has exactly one Host, and a Host that is not a valid
   * authority is refused. The proxy replaces Host anyway; it refuses what an upstream that saw
   * the agent's Host (through a misconfigured intermediary) could read two ways.
   */
  private static void checkHost(HttpHeaders in, HttpVersion version)
      throws RequestRejectedException {
    List<String> hosts = in.getAll("host");
    if (hosts.size() > 1) {
      throw new RequestRejectedException(400, "host_repeated", "Host is sent more than once;"
          + " RFC 9112 requires a 400, since servers pick different copies");
    }
    if (hosts.isEmpty()) {
      if (version.minorVersion() >= 1) {
        throw new RequestRejectedException(
            400, "host_missing", "an HTTP/1.1 request must carry a Host header (RFC 9112 3.2)");
      }
      return;
    }
    String host = hosts.get(0).strip();
    if (host.isEmpty() && version.minorVersion() >= 1) {
      // RFC 9112 allows an empty Host, but Go's net/http and others read it as missing
      throw new RequestRejectedException(
          400, "host_missing", "an HTTP/1.1 request must name its host in Host (it is empty)");
    }
    if (!host.isEmpty() && !validAuthority(host)) {
      throw new RequestRejectedException(400, "host_invalid", "the Host header is not a host"
          + " and optional port (RFC 9112 3.2)");
    }
  }

  /** RFC 3986 host [":" port]: an IP literal in brackets or a reg-name; empty is allowed. */
  private static boolean validAuthority(String h) {
    int hostEnd;
    if (h.startsWith("[")) {
      hostEnd = h.indexOf(']');
      if (hostEnd < 0) {
        return false;
      }
      for (int i = 1; i < hostEnd; i++) {
        char c = h.charAt(i);
        if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
          return false;
        }
      }
      hostEnd++;
    } else {
      hostEnd = h.indexOf(':');
      hostEnd = hostEnd < 0 ? h.length() : hostEnd;
      for (int i = 0; i < hostEnd; i++) {
        char c = h.charAt(i);
        boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
            || "-._~!$&'()*+,;=%".indexOf(c) >= 0;
        if (!ok) {
          return false;
        }
      }
    }
    if (hostEnd == h.length()) {
      return true;
    }
    if (h.charAt(hostEnd) != ':' || h.length() - hostEnd - 1 > 5) {
      return false;
    }
    for (int i = hostEnd + 1; i < h.length(); i++) {
      if (h.charAt(i) < '0' || h.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private String prefixes() {
    List<String> p = new ArrayList<>();
    routes.routes().forEach(r -> p.add(r.prefix()));
    return String.join(", ", p);
  }

  private CallerIdentity caller(HttpHeaders in) throws RequestRejectedException {
    String contextRefs = identity(in, "context-refs");
    return new CallerIdentity(
        agentId,
        identity(in, "workflow"),
        identity(in, "run"),
        identity(in, "on-behalf-of"),
        identity(in, "account"),
        identity(in, "tool"),
        identity(in, "prompt-ref"),
        contextRefs == null ? null : Arrays.stream(contextRefs.split(",")).map(String::strip)
            .filter(s -> !s.isEmpty()).toList());
  }

  private static String identity(HttpHeaders in, String name) throws RequestRejectedException {
    List<String> values = in.getAll(IDENTITY_PREFIX + name);
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw new RequestRejectedException(
          400, "identity_header_repeated", "X-Countersign-" + name + " is sent more than once");
    }
    String v = values.get(0).strip();
    if (v.length() > MAX_IDENTITY_VALUE) {
      throw new RequestRejectedException(
          400,
          "identity_header_too_long",
          "X-Countersign-" + name + " is longer than " + MAX_IDENTITY_VALUE + " characters");
    }
    return v.isEmpty() ? null : v;
  }

  /**
   * The headers to forward. Names are compared lower-case with '_' read as '-' (CGI-style servers
   * map X_Api_Key and X-Api-Key to the same HTTP_X_API_KEY): a spelling with '_' of a header the
   * proxy drops or owns is refused, and override headers are refused or stripped by the route's
   * rule. Only set lookups run per header; prefix checks only for names starting with x- or cf-.
   */
  private static List<Map.Entry<String, String>> forwardedHeaders(
      HttpHeaders in, Route route, List<String> stripped) throws RequestRejectedException {
    Set<String> listedInConnection = Set.of();
    List<String> connection = in.getAll("connection");
    if (!connection.isEmpty()) {
      Set<String> listed = new HashSet<>();
      for (String value : connection) {
        for (String token : value.split(",")) {
          String option = token.strip().toLowerCase(Locale.ROOT).replace('_', '-');
          if (READ_BY_THE_PROXY.contains(option) || option.startsWith(IDENTITY_PREFIX)) {
            // a listed header is dropped on the way out, but the proxy read this one (a
            // Content-Type it parsed the body by): the upstream would get other than was judged
            throw new RequestRejectedException(400, "connection_option_refused", "Connection lists "
                + token.strip() + ", a header the proxy reads; list only hop-by-hop headers");
          }
          listed.add(option);
        }
      }
      listedInConnection = listed;
    }
    String credential = route.credential() == null ? null : route.credential().header();
    RequestRules.Overrides overrides = route.rules().overrides();
    Map<String, String> combined = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : in) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      String lookup = name.indexOf('_') < 0 ? name : name.replace('_', '-');
      if (!lookup.equals(name) && READ_BY_PROXY.contains(lookup)) {
        throw new RequestRejectedException(400, "header_name_ambiguous", "the header "
            + h.getKey() + " reads as " + lookup + " to CGI-style servers (PHP, WSGI, Rack),"
            + " but the proxy read the body by the real " + lookup + "; send one, with '-'");
      }
      if (DROPPED.contains(lookup) || listedInConnection.contains(lookup)
          || lookup.equals(credential) || lookup.startsWith(IDENTITY_PREFIX)) {
        if (!lookup.equals(name)) {
          throw new RequestRejectedException(400, "header_name_ambiguous", "the header "
              + h.getKey() + " reads as " + lookup + " to CGI-style servers (PHP, WSGI, Rack),"
              + " which the proxy drops or sets itself; send it with '-'");
        }
        continue;
      }
      Overrides.Family family = Overrides.header(lookup);
      if (family != null) {
        if (overrides == RequestRules.Overrides.REFUSE) {
          throw Overrides.refusedHeader(h.getKey(), family);
        }
        stripped.add("header:" + name);
        continue;
      }
      String value = h.getValue().strip();
      String before = combined.get(name);
      if (before != null && (before.isEmpty() || value.isEmpty())) {
        // "a, " or ", a" is one list to some parsers and two elements to others
        throw new RequestRejectedException(400, "header_value_empty", "the header " + h.getKey()
            + " is sent more than once with an empty value; send each value once, not empty");
      }
      combined.put(name, before == null ? value : before + ", " + value);
    }
    // W3C trace context: the agent's traceparent goes on as sent; a missing or malformed one
    // starts a new trace here, so every upstream call and ledger entry carries one.
    String traceparent = combined.get("traceparent");
    if (traceparent == null || !TRACEPARENT.matcher(traceparent).matches()) {
      combined.remove("tracestate");
      combined.put("traceparent", newTraceparent());
    }
    List<Map.Entry<String, String>> out = new ArrayList<>(combined.size());
    combined.forEach((k, v) -> out.add(new SimpleImmutableEntry<>(k, v)));
    return List.copyOf(out);
  }

  private static final java.util.regex.Pattern TRACEPARENT =
      java.util.regex.Pattern.compile("00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}");

  private static String newTraceparent() {
    var random = java.util.concurrent.ThreadLocalRandom.current();
    HexFormat hex = HexFormat.of();
    return "00-" + hex.toHexDigits(random.nextLong() | 1L) + hex.toHexDigits(random.nextLong())
        + "-" + hex.toHexDigits(random.nextLong() | 1L) + "-01";
  }

  /** Hex SHA-256 of the readable bytes, without moving the buffer's indexes. */
  public static String sha256(ByteBuf buf) {
    MessageDigest md = SHA256.get();
    md.reset();
    md.update(buf.nioBuffer());
    return HexFormat.of().formatHex(md.digest());
  }
}
