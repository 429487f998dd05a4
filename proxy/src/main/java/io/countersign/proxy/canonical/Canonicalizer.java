package io.countersign.proxy.canonical;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
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
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  /**
   * Headers never forwarded: hop-by-hop (RFC 9110 7.6.1), framing the proxy recomputes, the Host
   * it replaces, and anything that could carry the agent's own credentials or spoof the proxy's
   * position.
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
          "cookie",
          "forwarded",
          "x-real-ip",
          "via");

  /**
   * Bodies must be I-JSON (RFC 7493): no repeated keys, and numbers every parser reads alike.
   * Numbers are parsed exactly so that a value that a double cannot hold (15.0000000000000001,
   * 1e400, 2^53 + 1) is refused rather than judged as a different number than the upstream reads.
   */
  private static final ObjectMapper STRICT_JSON =
      new ObjectMapper(
              JsonFactory.builder()
                  .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                  .build())
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

  private static final java.math.BigInteger MAX_SAFE_INTEGER =
      java.math.BigInteger.valueOf((1L << 53) - 1);

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
    HttpHeaders in = request.headers();
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
    if (in.getAll("content-type").size() > 1) {
      throw new RequestRejectedException(
          400, "content_type_repeated", "Content-Type is sent more than once");
    }
    String expect = in.get("expect");
    if (expect != null && !expect.equalsIgnoreCase("100-continue")) {
      throw new RequestRejectedException(
          417, "expectation_failed", "the only expectation served is 100-continue, not " + expect);
    }
    CallerIdentity caller = caller(in);
    List<Map.Entry<String, String>> headers = forwardedHeaders(in, match);
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
    ByteBuf body = request.content();
    JsonNode json = parseJsonBody(in.get("content-type"), body);
    String sha = sha256(body);
    return new CanonicalRequest(
        method,
        match.route(),
        path,
        match.upstreamPath(),
        query,
        headers,
        body.retainedSlice(),
        json,
        sha,
        caller,
        respondAsync);
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

  private static List<Map.Entry<String, String>> forwardedHeaders(
      HttpHeaders in, RouteTable.Match match) {
    Set<String> dropped = new HashSet<>(DROPPED);
    for (String listed : in.getAll("connection")) {
      for (String token : listed.split(",")) {
        dropped.add(token.strip().toLowerCase(Locale.ROOT));
      }
    }
    if (match.route().credential() != null) {
      dropped.add(match.route().credential().header());
    }
    Map<String, String> combined = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : in) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (dropped.contains(name)
          || name.startsWith(IDENTITY_PREFIX)
          || name.startsWith("x-forwarded-")) {
        continue;
      }
      combined.merge(name, h.getValue().strip(), (a, b) -> a + ", " + b);
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

  private static JsonNode parseJsonBody(String contentType, ByteBuf body)
      throws RequestRejectedException {
    if (contentType == null || body.readableBytes() == 0 || !isJson(contentType)) {
      return null;
    }
    try (JsonParser parser =
        STRICT_JSON.getFactory().createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
      JsonNode node = STRICT_JSON.readTree(parser);
      if (node == null || node.isMissingNode()) {
        throw new RequestRejectedException(
            400, "bad_json_body", "the body says it is JSON but holds no JSON value");
      }
      requireInteroperableNumbers(node);
      if (parser.nextToken() != null) {
        throw new RequestRejectedException(
            400, "bad_json_body", "the JSON body has content after its first value");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new RequestRejectedException(
          400,
          "bad_json_body",
          "the body says it is JSON but is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new RequestRejectedException(400, "bad_json_body", "the body cannot be read");
    }
  }

  private static void requireInteroperableNumbers(JsonNode node) throws RequestRejectedException {
    if (node.isContainerNode()) {
      for (JsonNode child : node) {
        requireInteroperableNumbers(child);
      }
      return;
    }
    if (!node.isNumber()) {
      return;
    }
    boolean exact;
    if (node.isBigInteger() || node.isIntegralNumber()) {
      exact = node.bigIntegerValue().abs().compareTo(MAX_SAFE_INTEGER) <= 0;
    } else {
      java.math.BigDecimal d = node.decimalValue();
      double asDouble = d.doubleValue();
      exact = Double.isFinite(asDouble)
          && new java.math.BigDecimal(Double.toString(asDouble)).compareTo(d) == 0;
    }
    if (!exact) {
      throw new RequestRejectedException(
          400,
          "bad_json_number",
          "the JSON body holds the number " + node.asText() + ", which parsers read differently;"
              + " send integers within +/-(2^53-1) and decimals a double holds exactly (RFC 7493)");
    }
  }

  private static boolean isJson(String contentType) {
    String mime = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    return mime.equals("application/json") || mime.endsWith("+json");
  }

  /** Hex SHA-256 of the readable bytes, without moving the buffer's indexes. */
  public static String sha256(ByteBuf buf) {
    MessageDigest md = SHA256.get();
    md.reset();
    md.update(buf.nioBuffer());
    return HexFormat.of().formatHex(md.digest());
  }
}
