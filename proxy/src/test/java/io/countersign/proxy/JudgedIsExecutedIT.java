package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import io.countersign.proxy.support.RawHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 12, the request side: every way main let the policy judge one request while the upstream
 * ran another, sent as raw bytes through the real proxy (a real OPA or the wasm build of rego/, a
 * real Chronicle ledger, a recording upstream on 127.0.0.1). A refusal leaves nothing upstream and
 * an {@code exchange.rejected} event saying why; what is accepted reaches the upstream exactly as
 * the policy judged it.
 *
 * <p>Routes: {@code /crm} with the strict defaults; {@code /billing} with every switch open
 * (overrides stripped, {@code ;} and {@code %25} in paths, opaque bodies).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JudgedIsExecutedIT {
  private static final String ASYNC = "Prefer: respond-async\r\n";
  private static final RequestRules OPEN =
      new RequestRules(RequestRules.Overrides.STRIP, true, true, true, false);

  private LoopbackUpstream upstream;
  private final Map<Engine, ProxyFixture> proxies = new EnumMap<>(Engine.class);

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    upstream = new LoopbackUpstream();
    for (Engine engine : Engine.values()) {
      ProxyConfig base = ProxyFixture.config(engine, null, upstream.url(),
          tmp.resolve(engine.name()), ProxyFixture.upstreamSettings(Duration.ofSeconds(10)),
          ProxyFixture.limits());
      List<ProxyConfig.RouteConfig> routes = List.of(
          base.routes().get(0),
          new ProxyConfig.RouteConfig("billing", "/billing", upstream.url(),
              base.routes().get(1).credential(), OPEN));
      proxies.put(engine, ProxyFixture.start(new ProxyConfig(base.agentId(), base.agentListen(),
          base.adminListen(), base.limits(), base.policy(), base.ledgerDir(), base.upstream(),
          routes, base.approvals())));
    }
  }

  @AfterAll
  void stop() {
    proxies.values().forEach(ProxyFixture::close);
    upstream.close();
  }

  private ProxyFixture wasm() {
    return proxies.get(Engine.WASM);
  }

  // ---- refusals: one case per class ----

  /**
   * @param note the class of request, and the case
   * @param raw the bytes sent
   * @param status the expected status
   * @param error the expected error code
   */
  record Refusal(String note, String raw, int status, String error) {
    @Override
    public String toString() {
      return note;
    }
  }

  private static String get(String target, String... headerLines) {
    return "GET " + target + " HTTP/1.1\r\nHost: proxy\r\n" + String.join("", headerLines) + "\r\n";
  }

  private static String send(String method, String target, String contentType, String body) {
    return send(method, target, contentType, body, "");
  }

  /** A request with a body; {@code extra} is more header lines, each ending in CRLF. */
  private static String send(String method, String target, String contentType, String body,
      String extra) {
    return method + " " + target + " HTTP/1.1\r\nHost: proxy\r\n" + extra
        + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  static Stream<Refusal> refusals() {
    String form = "application/x-www-form-urlencoded";
    return Stream.of(
        new Refusal("method override header: the policy would judge GET, the app run DELETE",
            get("/crm/v3/deals/42", "X-HTTP-Method-Override: DELETE\r\n"), 400, "override_header"),
        new Refusal("method override header spelled with underscores (CGI reads it the same)",
            get("/crm/v3/deals/42", "X_HTTP_Method_Override: DELETE\r\n"), 400, "override_header"),
        new Refusal("URL override header (IIS, old Symfony): the app routes another path",
            get("/crm/v3/deals/42", "X-Original-URL: /v3/admin\r\n"), 400, "override_header"),
        new Refusal("host override header", get("/crm/v3/deals/42", "X-Forwarded-Host: a\r\n"),
            400, "override_header"),
        new Refusal("identity assertion of an authenticating proxy",
            get("/crm/v3/deals/42", "X-Forwarded-Email: ceo@example.com\r\n"), 400,
            "override_header"),
        new Refusal("framework-internal header (Next.js CVE-2025-29927)",
            get("/crm/v3/deals/42", "X-Middleware-Subrequest: middleware\r\n"), 400,
            "override_header"),
        new Refusal("method override parameter in the query (Salesforce _HttpMethod)",
            send("POST", "/crm/v3/notes?_HttpMethod=DELETE", "application/json", "{}"), 400,
            "override_parameter"),
        new Refusal("method override parameter in a form body (Rails, Laravel, Symfony _method)",
            send("POST", "/crm/v3/notes", form, "_method=DELETE&text=x"), 400,
            "override_parameter"),
        new Refusal("servlet path parameter around a dot-segment ('..;')",
            get("/crm/v3/deals/..;/admin"), 400, "path_dot_segment"),
        new Refusal("matrix parameter on a strict route", get("/crm/v3/deals;jsessionid=1"), 400,
            "path_parameter"),
        new Refusal("double percent-encoding (%252e%252e is '..' to a second decoder)",
            get("/crm/v3/deals/%252e%252e/admin"), 400, "path_encoded_percent"),
        new Refusal("double percent-encoding where %25 is allowed",
            get("/billing/v1/%252e%252e/admin"), 400, "path_double_encoding"),
        new Refusal("a fullwidth '..' that Unicode folding reads as a dot-segment",
            get("/crm/v3/%EF%BC%8E%EF%BC%8E/admin"), 400, "path_unicode_confusable"),
        new Refusal("a raw backslash", get("/crm/v3/deals\\..\\admin"), 400,
            "path_encoded_separator"),
        new Refusal("the asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: proxy\r\n\r\n", 400,
            "bad_request_target"),
        new Refusal("the authority-form target", "CONNECT api.example:443 HTTP/1.1\r\nHost: p\r\n\r\n",
            405, "method_not_allowed"),
        new Refusal("two Host headers (RFC 9112: 400)",
            "GET /crm/v3/deals HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400,
            "host_repeated"),
        new Refusal("no Host on HTTP/1.1", "GET /crm/v3/deals HTTP/1.1\r\n\r\n", 400,
            "host_missing"),
        new Refusal("JSON sent as text/plain", send("PATCH", "/crm/v3/contacts/1", "text/plain",
            "{\"email\":\"x@evil.example\"}"), 415, "body_type_mismatch"),
        new Refusal("JSON sent without a Content-Type", send("PATCH", "/crm/v3/contacts/1", null,
            "{\"email\":\"x@evil.example\"}"), 415, "body_type_mismatch"),
        new Refusal("a body of a type the proxy cannot read", send("PATCH", "/crm/v3/contacts/1",
            "application/xml", "<email>x</email>"), 415, "body_type_unsupported"),
        new Refusal("a charset other than UTF-8", send("PATCH", "/crm/v3/contacts/1",
            form + "; charset=iso-8859-1", "email=x"), 415, "charset_unsupported"),
        new Refusal("a form name PHP reads as another (discount.pct is discount_pct)",
            send("PATCH", "/crm/v3/deals/42", form, "discount.pct=90"), 400,
            "form_name_ambiguous"),
        new Refusal("a multipart body whose boundary appears inside a part",
            send("POST", "/crm/v3/notes", "multipart/form-data; boundary=B",
                "--B\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nx--B\r\n--B--\r\n"),
            400, "bad_multipart_body"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void aRequestTheUpstreamCouldReadOtherwiseIsRefusedWithItsReasonAndNothingReachesTheUpstream(
      Refusal c) throws Exception {
    int before = upstream.received().size();
    String response = RawHttp.exchange(wasm().address(), c.raw());
    assertEquals(c.status(), RawHttp.status(response), response);
    JsonNode body = ProxyFixture.json(RawHttp.body(response));
    assertEquals(c.error(), body.path("error").asText(), response);
    assertEquals(before, upstream.received().size(), "nothing reached the upstream");
    JsonNode rejected = wasm().awaitLedger(body.path("exchange_id").asText(), 1).get(0);
    assertEquals("exchange.rejected", rejected.path("type").asText());
    assertEquals(c.error(), rejected.path("body").path("error").asText());
    assertEquals(body.path("message").asText(), rejected.path("body").path("message").asText());
    assertTrue(rejected.path("body").path("message").asText().length() > 20, "it says why");
  }

  // ---- accepted: what the policy judged is what the upstream got ----

  @ParameterizedTest
  @EnumSource(Engine.class)
  void theIssuesFormEncodedContactUpdateIsNowDeniedByTheEmailLock(Engine engine) throws Exception {
    ProxyFixture proxy = proxies.get(engine);
    int before = upstream.received().size();
    String response = RawHttp.exchange(proxy.address(), send("PATCH", "/crm/v3/contacts/1",
        "application/x-www-form-urlencoded", "email=x%40evil.example&phone=%2B1+555"));
    assertEquals(403, RawHttp.status(response), response);
    JsonNode body = ProxyFixture.json(RawHttp.body(response));
    assertEquals("crm.contact_locked_fields", body.path("rule").asText(), response);
    assertEquals(before, upstream.received().size(), "the denied update was not forwarded");
    JsonNode decided = proxy.awaitLedger(body.path("exchange_id").asText(), 1).get(0);
    assertEquals("deny", decided.path("body").path("decision").path("action").asText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aFormRefundIsJudgedByItsAmountAndForwardedInTheCanonicalBytesTheLedgerHashed(Engine engine)
      throws Exception {
    ProxyFixture proxy = proxies.get(engine);
    String over = RawHttp.exchange(proxy.address(), send("POST", "/billing/v1/refunds",
        "application/x-www-form-urlencoded", "amount=250&reason=late", ASYNC));
    assertEquals(202, RawHttp.status(over), over);
    assertEquals("billing.refund_large", proxy.awaitLedger(exchangeId(over), 1).get(0)
        .path("body").path("decision").path("rule").asText());

    int before = upstream.received().size();
    String ok = RawHttp.exchange(proxy.address(), send("POST", "/billing/v1/refunds",
        "application/x-www-form-urlencoded", "amount=150&reason=late+delivery&metadata[order]=7"));
    assertEquals(201, RawHttp.status(ok), ok);
    List<LoopbackUpstream.Received> got = upstream.received().subList(before,
        upstream.received().size());
    assertEquals(1, got.size());
    String forwarded = "amount=150&reason=late%20delivery&metadata%5Border%5D=7";
    assertEquals(forwarded, got.get(0).body());
    String id = exchangeId(ok);
    JsonNode decided = proxy.awaitLedger(id, 2).get(0);
    assertEquals("billing.refund_small", decided.path("body").path("decision").path("rule").asText());
    assertEquals(sha256(forwarded), decided.path("body").path("request").path("body_sha256").asText());
    assertEquals(forwarded.length(), decided.path("body").path("request").path("size").asInt());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aMultipartFieldAndABracketNameEachFireTheirLock(Engine engine) throws Exception {
    ProxyFixture proxy = proxies.get(engine);
    String contact = "--B\r\nContent-Disposition: form-data; name=\"account_id\"\r\n\r\nacme-2\r\n"
        + "--B--\r\n";
    String r1 = RawHttp.exchange(proxy.address(), send("PATCH", "/crm/v3/contacts/1",
        "multipart/form-data; boundary=B", contact));
    assertEquals("crm.contact_locked_fields", ProxyFixture.json(RawHttp.body(r1)).path("rule")
        .asText(), r1);
    String r2 = RawHttp.exchange(proxy.address(), send("PATCH", "/crm/v3/deals/42",
        "application/x-www-form-urlencoded", "owner[id]=7", ASYNC));
    assertEquals(202, RawHttp.status(r2), r2);
    JsonNode decided = proxy.awaitLedger(exchangeId(r2), 1).get(0);
    assertEquals("crm.deal_owner_change", decided.path("body").path("decision").path("rule")
        .asText(), decided.toString());
  }

  @Test
  void aMultipartUploadIsForwardedByteForByteWithTheDigestTheLedgerKept() throws Exception {
    int before = upstream.received().size();
    String body = "--B\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\ncall went well\r\n"
        + "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
        + "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n--B--\r\n";
    String r = RawHttp.exchange(wasm().address(), send("POST", "/crm/v3/notes",
        "multipart/form-data; boundary=B", body));
    assertEquals(201, RawHttp.status(r), r);
    LoopbackUpstream.Received up = upstream.received().get(before);
    assertEquals(body, up.body());
    assertEquals("multipart/form-data; boundary=B", up.headers().get("content-type"));
    JsonNode decided = wasm().awaitLedger(exchangeId(r), 2).get(0);
    assertEquals(sha256(body), decided.path("body").path("request").path("body_sha256").asText());
    assertEquals("crm.draft_note", decided.path("body").path("decision").path("rule").asText());
  }

  @Test
  void overridesAreStrippedOnARouteThatStripsThemAndTheUpstreamGetsWhatThePolicySaw()
      throws Exception {
    int before = upstream.received().size();
    String r = RawHttp.exchange(wasm().address(), get("/billing/v1/invoices?_method=DELETE&a=1",
        "X-HTTP-Method-Override: DELETE\r\n", "X-Original-URL: /v1/admin\r\n",
        "X-Forwarded-For: 10.0.0.1\r\n"));
    assertEquals(200, RawHttp.status(r), r);
    LoopbackUpstream.Received up = upstream.received().get(before);
    assertEquals("GET", up.method());
    assertEquals("/v1/invoices?a=1", up.target());
    assertNull(up.headers().get("x-http-method-override"));
    assertNull(up.headers().get("x-original-url"));
    assertNull(up.headers().get("x-forwarded-for"));
    JsonNode decided = wasm().awaitLedger(exchangeId(r), 2).get(0);
    assertEquals("/v1/invoices?a=1", decided.path("body").path("request").path("upstream_target")
        .asText());
    assertFalse(decided.path("body").path("request").path("headers").has("x-http-method-override"));
  }

  @Test
  void aMatrixParameterIsForwardedAsSentWhereTheRouteAllowsThem() throws Exception {
    int before = upstream.received().size();
    String r = RawHttp.exchange(wasm().address(), get("/billing/v1/invoices;v=2"));
    assertEquals(200, RawHttp.status(r), r);
    assertEquals("/v1/invoices;v=2", upstream.received().get(before).target());
  }

  @Test
  void anOpaqueMutationIsDeniedByTheShippedPolicyWhereTheRouteForwardsOpaqueBodies()
      throws Exception {
    int before = upstream.received().size();
    String r = RawHttp.exchange(wasm().address(), send("POST", "/billing/v1/refunds",
        "application/octet-stream", "amount=5000"));
    assertEquals(403, RawHttp.status(r), r);
    JsonNode body = ProxyFixture.json(RawHttp.body(r));
    assertEquals("body.opaque", body.path("rule").asText(), r);
    assertEquals(before, upstream.received().size());
    JsonNode decided = wasm().awaitLedger(body.path("exchange_id").asText(), 1).get(0);
    assertEquals("deny", decided.path("body").path("decision").path("action").asText());
  }

  @Test
  void aTextBodyFiresTheLocksItCannotRuleOut() throws Exception {
    String r = RawHttp.exchange(wasm().address(), send("PATCH", "/crm/v3/contacts/1",
        "text/plain; charset=utf-8", "email=x@evil.example"));
    assertEquals(403, RawHttp.status(r), r);
    assertEquals("crm.contact_locked_fields", ProxyFixture.json(RawHttp.body(r)).path("rule")
        .asText());
  }

  private static String exchangeId(String response) {
    for (String line : response.split("\r\n")) {
      if (line.toLowerCase().startsWith("x-countersign-exchange-id:")) {
        return line.substring(line.indexOf(':') + 1).strip();
      }
    }
    throw new AssertionError("no exchange id in " + response);
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(s.getBytes(StandardCharsets.UTF_8)));
  }
}
