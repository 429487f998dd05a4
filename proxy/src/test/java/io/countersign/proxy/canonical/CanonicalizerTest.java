package io.countersign.proxy.canonical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a received request becomes: the headers forwarded, the caller's identity, the parsed body
 * and its digest; or the status and code it is refused with. Every request built here is released.
 */
class CanonicalizerTest {
  private static final RouteTable ROUTES =
      RouteTable.from(
          List.of(
              new RouteConfig(
                  "crm",
                  "/crm",
                  "http://127.0.0.1:9000/api",
                  new Credential("X-Api-Key", "", "CRM_KEY", null)),
              new RouteConfig("billing", "/billing", "https://billing.example", null)),
          Map.of("CRM_KEY", "secret"));

  private final Canonicalizer canonicalizer = new Canonicalizer(ROUTES, "sales-assistant");

  // ---- fixtures ----

  private static FullHttpRequest request(String method, String uri, String body, String... headers) {
    return request(method, uri, body.getBytes(StandardCharsets.UTF_8), headers);
  }

  private static FullHttpRequest request(String method, String uri, byte[] body, String... headers) {
    FullHttpRequest r =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri, Unpooled.copiedBuffer(body));
    boolean host = false;
    for (int i = 0; i < headers.length; i += 2) {
      r.headers().add(headers[i], headers[i + 1]);
      host |= headers[i].equalsIgnoreCase("host");
    }
    if (!host) {
      r.headers().add("Host", "proxy"); // every HTTP/1.1 request carries one (RFC 9112 3.2)
    }
    return r;
  }

  private static FullHttpRequest get(String uri, String... headers) {
    return request("GET", uri, "", headers);
  }

  /** Canonicalizes, hands the result to {@code check}, then releases both. */
  private void accept(FullHttpRequest r, Check check) throws Exception {
    try {
      CanonicalRequest c = canonicalizer.canonicalize(r);
      try {
        check.on(c);
      } finally {
        c.release();
      }
    } finally {
      r.release();
    }
  }

  private RequestRejectedException refuse(FullHttpRequest r) {
    try {
      return assertThrows(RequestRejectedException.class, () -> canonicalizer.canonicalize(r));
    } finally {
      assertEquals(1, r.refCnt(), "a refused request must not keep a reference to its body");
      r.release();
    }
  }

  interface Check {
    void on(CanonicalRequest c) throws Exception;
  }

  /** The forwarded headers, without the traceparent the proxy adds when the agent sent none. */
  private static Map<String, String> headerMap(CanonicalRequest c) {
    Map<String, String> m = new LinkedHashMap<>();
    c.headers().forEach(e -> m.put(e.getKey(), e.getValue()));
    m.remove("traceparent");
    return m;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  // ---- the request line ----

  @Test
  void theRouteAndTheUpstreamTargetComeFromTheCanonicalPathAndQuery() throws Exception {
    accept(
        get("/crm/v3/deals%2d1/?b=2&a=x+y"),
        c -> {
          assertEquals("GET", c.method());
          assertEquals("crm", c.route().name());
          assertEquals("/crm/v3/deals-1/", c.path());
          assertEquals("/api/v3/deals-1/", c.upstreamPath());
          assertEquals("b=2&a=x%20y", c.query().canonical());
          assertEquals("/api/v3/deals-1/?b=2&a=x%20y", c.upstreamTarget());
        });
  }

  @Test
  void aRequestWithoutAQueryHasAnUpstreamTargetWithoutAQuestionMark() throws Exception {
    accept(
        get("/billing?"),
        c -> {
          assertNull(c.query().canonical());
          assertEquals("/", c.upstreamTarget());
        });
  }

  // ---- headers ----

  @Test
  void hopByHopFramingAndCredentialHeadersAreDropped() throws Exception {
    FullHttpRequest r =
        get(
            "/crm/deals",
            "Host", "proxy:8080",
            "Connection", "keep-alive",
            "Keep-Alive", "timeout=5",
            "Proxy-Connection", "keep-alive",
            "TE", "trailers",
            "Trailer", "X-Checksum",
            "Transfer-Encoding", "chunked",
            "Upgrade", "websocket",
            "Content-Length", "0",
            "Expect", "100-continue",
            "Authorization", "Bearer agent-token",
            "Proxy-Authorization", "Basic eA==",
            "Cookie", "session=1",
            "X-Api-Key", "agent-guess",
            "Accept", "application/json");
    accept(r, c -> assertEquals(Map.of("accept", "application/json"), headerMap(c)));
  }

  @Test
  void headersListedInConnectionAreDropped() throws Exception {
    FullHttpRequest r =
        get(
            "/crm/deals",
            "Connection", "close, X-Hop-One ,x-hop-two",
            "X-Hop-One", "1",
            "X-HOP-TWO", "2",
            "X-End-To-End", "3");
    accept(r, c -> assertEquals(Map.of("x-end-to-end", "3"), headerMap(c)));
  }

  @Test
  void aConnectionListingAHeaderTheProxyReadsIsRefused() throws Exception {
    for (String listed : List.of("Content-Type", "host", "X-Countersign-On-Behalf-Of", "prefer")) {
      RequestRejectedException e = refuse(get("/crm/deals", "Connection", "keep-alive, " + listed));
      assertEquals("connection_option_refused", e.code(), listed);
    }
  }

  @Test
  void theRouteCredentialHeaderIsDroppedWhateverItsCase() throws Exception {
    accept(
        get("/crm/deals", "x-API-key", "forged", "Accept", "*/*"),
        c -> assertEquals(Map.of("accept", "*/*"), headerMap(c)));
  }

  @Test
  void anotherRoutesCredentialHeaderIsForwarded() throws Exception {
    accept(
        get("/billing/invoices", "X-Api-Key", "mine"),
        c -> assertEquals(Map.of("x-api-key", "mine"), headerMap(c)));
  }

  @Test
  void repeatedHeadersAreCombinedInOrderUnderOneLowerCaseName() throws Exception {
    FullHttpRequest r =
        get(
            "/crm/deals",
            "Accept", "text/plain",
            "X-Tag", "a",
            "accept", "application/json",
            "x-tag", "b",
            "X-TAG", "c");
    accept(
        r,
        c ->
            assertEquals(
                List.of(
                    Map.entry("accept", "text/plain, application/json"),
                    Map.entry("x-tag", "a, b, c")),
                c.headers().subList(0, 2)));
  }

  @Test
  void forwardedHeadersCannotBeChangedByTheirReaders() throws Exception {
    accept(
        get("/crm/deals", "Accept", "*/*"),
        c -> assertThrows(UnsupportedOperationException.class, () -> c.headers().clear()));
  }

  // ---- identity ----

  @Test
  void identityHeadersBecomeTheCallerAndAreNeverForwarded() throws Exception {
    FullHttpRequest r =
        get(
            "/crm/deals",
            "X-Countersign-Workflow", "renewals",
            "X-Countersign-Run", "run-42",
            "X-Countersign-On-Behalf-Of", "alice@acme.example",
            "X-Countersign-Account", "acme",
            "X-Countersign-Tool", "update_deal",
            "X-Countersign-Prompt-Ref", "sha256:abc",
            "X-Countersign-Context-Refs", "doc:1, ,doc:2 ,, doc:3",
            "X-Countersign-Agent", "someone-else",
            "X-Countersign-Unknown", "x",
            "Accept", "*/*");
    accept(
        r,
        c -> {
          assertEquals(
              new CallerIdentity(
                  "sales-assistant",
                  "renewals",
                  "run-42",
                  "alice@acme.example",
                  "acme",
                  "update_deal",
                  "sha256:abc",
                  List.of("doc:1", "doc:2", "doc:3")),
              c.caller());
          assertEquals(Map.of("accept", "*/*"), headerMap(c));
        });
  }

  @Test
  void theAgentIdComesFromConfigAndAbsentIdentityHeadersAreNull() throws Exception {
    accept(
        get("/crm/deals", "X-Countersign-Workflow", ""),
        c ->
            assertEquals(
                new CallerIdentity("sales-assistant", null, null, null, null, null, null, null),
                c.caller()));
  }

  @Test
  void identityValuesMayBeExactly256Characters() throws Exception {
    String longest = "r".repeat(256);
    accept(
        get("/crm/deals", "X-Countersign-Run", longest),
        c -> assertEquals(longest, c.caller().run()));
  }

  // ---- body ----

  @Test
  void aJsonBodyIsParsedAndItsExactBytesAreHashed() throws Exception {
    String body = "{ \"deal\": 7, \"name\": \"J\u00fcrgen\" }\n";
    FullHttpRequest r =
        request("POST", "/crm/deals", body, "Content-Type", "application/json; charset=utf-8");
    accept(
        r,
        c -> {
          assertEquals(7, c.bodyJson().get("deal").asInt());
          assertEquals("J\u00fcrgen", c.bodyJson().get("name").asText());
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          assertEquals(sha256(bytes), c.bodySha256());
          assertEquals(bytes.length, c.size());
          assertEquals(body, c.body().toString(StandardCharsets.UTF_8));
        });
  }

  @Test
  void structuredSyntaxJsonTypesAreParsedToo() throws Exception {
    accept(
        request("PATCH", "/crm/deals/7", "[{\"op\":\"remove\",\"path\":\"/a\"}]",
            "Content-Type", "Application/JSON-Patch+JSON"),
        c -> assertEquals("remove", c.bodyJson().get(0).get("op").asText()));
  }

  @Test
  void aNonJsonBodyIsHashedButNotParsed() throws Exception {
    String body = "{not json at all";
    accept(
        request("POST", "/crm/notes", body, "Content-Type", "text/plain"),
        c -> {
          assertNull(c.bodyJson());
          assertEquals(sha256(body.getBytes(StandardCharsets.UTF_8)), c.bodySha256());
        });
  }

  @Test
  void aTextBodyIsReadAsTextAndForwardedAsSent() throws Exception {
    accept(request("POST", "/crm/notes", "call back on Monday\n", "Content-Type",
        "text/plain; charset=UTF-8"), c -> {
          assertEquals(BodyKind.TEXT, c.content().kind());
          assertEquals("call back on Monday\n", c.content().view().textValue());
          assertEquals("call back on Monday\n", c.body().toString(StandardCharsets.UTF_8));
        });
  }

  @Test
  void anEmptyBodyHasNoJsonAndTheDigestOfNothing() throws Exception {
    accept(
        request("POST", "/crm/deals", "", "Content-Type", "application/json"),
        c -> {
          assertNull(c.bodyJson());
          assertEquals(0, c.size());
          assertEquals(
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", c.bodySha256());
        });
  }

  @Test
  void theDigestCoversOnlyTheReadableBytesAndMovesNoIndex() throws Exception {
    ByteBuf buf = Unpooled.copiedBuffer("xxhello", StandardCharsets.US_ASCII);
    buf.skipBytes(2);
    try {
      assertEquals(sha256("hello".getBytes(StandardCharsets.US_ASCII)), Canonicalizer.sha256(buf));
      assertEquals(2, buf.readerIndex());
      assertEquals(5, buf.readableBytes());
    } finally {
      buf.release();
    }
  }

  @Test
  void theBodyHandedOnIsARetainedSliceReleasedWithTheCanonicalRequest() throws Exception {
    assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
    FullHttpRequest r = request("PUT", "/crm/deals/7", "{\"a\":1}", "Content-Type", "application/json");
    CanonicalRequest c = canonicalizer.canonicalize(r);
    assertEquals(2, r.refCnt(), "the canonical request holds its own reference");
    assertEquals(0, r.content().readerIndex(), "parsing and hashing move no index");
    assertTrue(ByteBufUtil.equals(r.content(), c.body()));
    r.release();
    assertEquals(1, c.body().refCnt(), "the body outlives the request the caller released");
    assertEquals("{\"a\":1}", c.body().toString(StandardCharsets.UTF_8));
    c.release();
    assertEquals(0, r.content().refCnt());
    assertFalse(c.body().refCnt() > 0);
  }

  // ---- refusals ----

  /**
   * @param note what the case is about
   * @param request builds the request
   * @param status the expected status
   * @param code the expected error code
   */
  record Refused(String note, Supplier<FullHttpRequest> request, int status,
      String code) {
    @Override
    public String toString() {
      return note;
    }
  }

  static Stream<Refused> refusals() {
    List<Refused> cases = new ArrayList<>();
    for (String m : new String[] {"CONNECT", "TRACE", "PROPFIND", "get"}) {
      cases.add(new Refused("method " + m, () -> get("/crm/deals").setMethod(HttpMethod.valueOf(m)),
          405, "method_not_allowed"));
    }
    cases.addAll(
        List.of(
            new Refused("a path no route covers", () -> get("/admin/users"), 404, "no_route"),
            new Refused("a prefix that ends inside a segment", () -> get("/crmx/deals"), 404,
                "no_route"),
            new Refused("the root path", () -> get("/"), 404, "no_route"),
            new Refused("a dot-segment", () -> get("/crm/../admin"), 400, "path_dot_segment"),
            new Refused("an absolute-form target", () -> get("http://h/crm"), 400,
                "bad_request_target"),
            new Refused("a bad query escape", () -> get("/crm/deals?a=%zz"), 400,
                "bad_percent_encoding"),
            new Refused("a gzip body", () -> request("POST", "/crm/deals", "x",
                "Content-Encoding", "gzip"), 415, "content_encoding_unsupported"),
            new Refused("a stacked encoding", () -> request("POST", "/crm/deals", "x",
                "Content-Encoding", "identity, br"), 415, "content_encoding_unsupported"),
            new Refused("a repeated identity header", () -> get("/crm/deals",
                "X-Countersign-Run", "a", "x-countersign-run", "b"), 400,
                "identity_header_repeated"),
            new Refused("two Host headers", () -> get("/crm/deals", "Host", "a.example",
                "Host", "b.example"), 400, "host_repeated"),
            new Refused("an HTTP/1.1 request without Host", () -> {
              FullHttpRequest r = get("/crm/deals");
              r.headers().remove("Host");
              return r;
            }, 400, "host_missing"),
            new Refused("a Host that is not an authority", () -> get("/crm/deals", "Host",
                "a.example/admin"), 400, "host_invalid"),
            new Refused("a Host with user info", () -> get("/crm/deals", "Host", "u@a.example"),
                400, "host_invalid"),
            new Refused("a second Expect that is not 100-continue", () -> get("/crm/deals",
                "Expect", "100-continue", "Expect", "magic"), 417, "expectation_failed"),
            new Refused("a too-long identity header", () -> get("/crm/deals",
                "X-Countersign-Tool", "t".repeat(257)), 400, "identity_header_too_long"),
            new Refused("invalid JSON", () -> request("POST", "/crm/deals", "{\"a\":",
                "Content-Type", "application/json"), 400, "bad_json_body"),
            new Refused("a duplicate JSON key", () -> request("POST", "/crm/deals",
                "{\"amount\":1,\"amount\":1000000}", "Content-Type", "application/json"), 400,
                "bad_json_body"),
            new Refused("a duplicate key in a nested object", () -> request("POST", "/crm/deals",
                "{\"a\":{\"b\":1,\"b\":2}}", "Content-Type", "application/vnd.x+json"), 400,
                "bad_json_body"),
            new Refused("a second JSON value after the first", () -> request("POST", "/crm/deals",
                "{\"a\":1} {\"a\":2}", "Content-Type", "application/json"), 400, "bad_json_body"),
            new Refused("trailing garbage after the JSON value", () -> request("POST",
                "/crm/deals", "{\"a\":1}x", "Content-Type", "application/json"), 400,
                "bad_json_body"),
            new Refused("JSON that is not UTF-8", () -> request("POST", "/crm/deals",
                new byte[] {'"', (byte) 0xC3, (byte) 0x28, '"'}, "Content-Type",
                "application/json"), 400, "bad_json_body")));
    return cases.stream();
  }

  @ParameterizedTest
  @MethodSource("refusals")
  void eachRefusalHasItsStatusAndCodeAndKeepsNoReference(Refused c) {
    RequestRejectedException e = refuse(c.request().get());
    assertEquals(c.status(), e.status(), e.getMessage());
    assertEquals(c.code(), e.code(), e.getMessage());
    assertFalse(e.getMessage().isBlank());
  }

  @Test
  void anHttp10RequestMayOmitHostAndAnIpv6HostWithAPortIsValid() throws Exception {
    FullHttpRequest old = get("/crm/deals");
    old.headers().remove("Host");
    old.setProtocolVersion(HttpVersion.HTTP_1_0);
    accept(old, c -> assertEquals("/crm/deals", c.path()));
    accept(get("/crm/deals", "Host", "[::1]:8080"), c -> assertEquals("/crm/deals", c.path()));
  }

  @Test
  void identityContentEncodingIsAccepted() throws Exception {
    accept(
        request("POST", "/crm/deals", "x", "Content-Encoding", "IDENTITY", "Content-Type",
            "text/plain"),
        c -> assertEquals("x", c.body().toString(StandardCharsets.UTF_8)));
  }

  @Test
  void aNoRouteRefusalListsTheConfiguredPrefixes() {
    RequestRejectedException e = refuse(get("/admin"));
    assertTrue(e.getMessage().contains("/billing"), e.getMessage());
    assertTrue(e.getMessage().contains("/crm"), e.getMessage());
  }

  @Test
  void everyProxiedMethodIsAccepted() throws Exception {
    for (String m : new String[] {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
      accept(request(m, "/crm/deals", "", new String[0]), c -> assertEquals(m, c.method()));
    }
  }

  // ---- regressions found in review (each failed before its fix) ----

  @Test
  void aRepeatedContentEncodingIsRefusedIfAnyValueIsNotIdentity() {
    RequestRejectedException e = refuse(request("POST", "/crm/deals", "x",
        "Content-Encoding", "identity", "Content-Encoding", "gzip"));
    assertEquals(415, e.status());
  }

  @Test
  void aRepeatedContentTypeIsRefused() {
    assertEquals("content_type_repeated", refuse(request("POST", "/crm/deals", "{}",
        "Content-Type", "application/json", "Content-Type", "text/plain")).code());
  }

  @Test
  void aJsonBodyOfOnlyWhiteSpaceIsRefused() {
    assertEquals("bad_json_body", refuse(request("POST", "/crm/deals", "  \n",
        "Content-Type", "application/json")).code());
  }

  @Test
  void jsonNumbersThatParsersReadDifferentlyAreRefused() {
    for (String n : new String[] {"15.0000000000000001", "1e400", "9007199254740993", "-9007199254740993"}) {
      RequestRejectedException e = refuse(request("PATCH", "/crm/deals/1", "{\"discount_pct\": " + n + "}",
          "Content-Type", "application/json"));
      assertEquals("bad_json_number", e.code(), n);
    }
  }

  @Test
  void jsonNumbersEveryParserReadsAlikeAreAccepted() throws Exception {
    accept(request("PATCH", "/crm/deals/1", "{\"a\": 15.5, \"b\": 0.1, \"c\": 9007199254740991, \"d\": 1e3}",
        "Content-Type", "application/json"), c -> assertEquals(15.5, c.bodyJson().path("a").asDouble()));
  }

  @Test
  void anExpectationOtherThan100ContinueIsRefused() {
    RequestRejectedException e = refuse(get("/crm/deals", "Expect", "something-else"));
    assertEquals(417, e.status());
    assertEquals("expectation_failed", e.code());
  }

  @Test
  void positionHeadersAreRefusedOnAStrictRoute() {
    for (String name : new String[] {"X-Forwarded-Port", "X-Forwarded-Prefix", "Forwarded", "Via",
        "X-Real-IP", "True-Client-IP"}) {
      RequestRejectedException e = refuse(get("/crm/deals", name, "1"));
      assertEquals("override_header", e.code(), name);
      assertTrue(e.getMessage().contains(name), e.getMessage());
    }
  }

  @Test
  void aValidTraceparentIsForwardedAsSentAndAMissingOrMalformedOneStartsANewTrace() throws Exception {
    String sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    accept(get("/crm/deals", "traceparent", sent, "tracestate", "v=1"), c -> {
      assertEquals(sent, headerValue(c, "traceparent"));
      assertEquals("v=1", headerValue(c, "tracestate"));
    });
    for (String bad : new String[] {null, "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
      FullHttpRequest r = bad == null ? get("/crm/deals") : get("/crm/deals", "traceparent", bad, "tracestate", "v=1");
      accept(r, c -> {
        String t = headerValue(c, "traceparent");
        org.junit.jupiter.api.Assertions.assertTrue(t.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01"), t);
        org.junit.jupiter.api.Assertions.assertNull(headerValue(c, "tracestate"));
      });
    }
  }

  private static String headerValue(CanonicalRequest c, String name) {
    return c.headers().stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue)
        .findFirst().orElse(null);
  }
}
