package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Allow, deny and hold end to end through both engines: a real OPA (managed child process) or the
 * wasm build of the same rego/, a real Chronicle ledger, real sockets on 127.0.0.1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExchangeEndToEndIT {
  private LoopbackUpstream upstream;
  private Path tmp;
  private final Map<Engine, ProxyFixture> proxies = new java.util.EnumMap<>(Engine.class);

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    this.tmp = tmp;
    upstream = new LoopbackUpstream();
    for (Engine e : Engine.values()) {
      proxies.put(e, ProxyFixture.start(e, upstream, tmp.resolve(e.name())));
    }
  }

  @AfterAll
  void stop() {
    proxies.values().forEach(ProxyFixture::close);
    upstream.close();
  }

  private int before;

  @BeforeEach
  void mark() {
    before = upstream.received().size();
  }

  private List<LoopbackUpstream.Received> newlyReceived() {
    List<LoopbackUpstream.Received> all = upstream.received();
    return all.subList(before, all.size());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void allowedRequestReachesTheUpstreamExactlyAsTheLedgerRecordedIt(Engine engine) throws Exception {
    ProxyFixture proxy = proxies.get(engine);
    String body = "{\"discount_pct\": 10, \"note\": \"caf\u00e9\"}";
    HttpResponse<String> r = proxy.send("PATCH", "/crm/v3/deals/42?b=2&a=%41&q=x+y", body,
        "Authorization", "Bearer agent-own-token",
        "Cookie", "sid=agent",
        "X-Countersign-Workflow", "quote-prep",
        "X-Countersign-Run", "r-81",
        "X-Countersign-On-Behalf-Of", "ana@example.com",
        "X-Countersign-Account", "acme",
        "X-Countersign-Tool", "update_deal",
        "X-Countersign-Prompt-Ref", "sha256:abc",
        "X-Countersign-Context-Refs", "doc:1, doc:2",
        "X-Trace", "t-1");
    assertEquals(200, r.statusCode(), r.body());
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();

    List<LoopbackUpstream.Received> got = newlyReceived();
    assertEquals(1, got.size(), "forwarded exactly once");
    LoopbackUpstream.Received up = got.get(0);
    assertEquals("PATCH", up.method());
    assertEquals("/v3/deals/42?b=2&a=A&q=x%20y", up.target());
    assertEquals("Bearer " + ProxyFixture.CRM_TOKEN, up.headers().get("authorization"));
    assertEquals(body, up.body());
    assertFalse(up.headers().keySet().stream().anyMatch(h -> h.startsWith("x-countersign-")),
        "identity headers are stripped: " + up.headers());
    assertNull(up.headers().get("cookie"), "the agent's cookie is not forwarded");

    List<JsonNode> events = proxy.awaitLedger(id, 2);
    JsonNode decided = events.get(0);
    assertEquals("exchange.decided", decided.path("type").asText());
    JsonNode req = decided.path("body").path("request");
    assertEquals("PATCH", req.path("method").asText());
    assertEquals(up.target(), req.path("upstream_target").asText());
    assertEquals(sha256(up.body()), req.path("body_sha256").asText());
    assertEquals(10, req.path("body").path("discount_pct").asInt());
    assertEquals("authorization", req.path("credential_injected").asText());
    assertFalse(decided.toString().contains(ProxyFixture.CRM_TOKEN), "no secret in the ledger");
    assertFalse(decided.toString().contains("agent-own-token"), "no agent credential in the ledger");
    // the headers the ledger says were forwarded are exactly the upstream's, bar what the
    // proxy sets on the way out
    Set<String> setByProxy = Set.of("host", "authorization", "content-length");
    req.path("headers").properties().forEach(h ->
        assertEquals(h.getValue().asText(), up.headers().get(h.getKey()), "header " + h.getKey()));
    up.headers().keySet().stream().filter(h -> !setByProxy.contains(h)).forEach(h ->
        assertTrue(req.path("headers").has(h), "upstream got unrecorded header " + h));

    JsonNode caller = decided.path("body").path("caller");
    assertEquals("sales-assistant", caller.path("agent").asText());
    assertEquals("quote-prep", caller.path("workflow").asText());
    assertEquals("ana@example.com", caller.path("on_behalf_of").asText());
    assertEquals("acme", caller.path("account").asText());
    assertEquals("doc:2", caller.path("context_refs").path(1).asText());
    JsonNode decision = decided.path("body").path("decision");
    assertEquals("allow", decision.path("action").asText());
    assertEquals("low", decision.path("risk").asText());
    assertEquals("crm.deal_update", decision.path("rule").asText());
    assertEquals(engine.name().toLowerCase(), decision.path("engine").asText());
    assertTrue(decision.path("revision").asText().startsWith("sha256:"));

    JsonNode completed = events.get(1);
    assertEquals("exchange.completed", completed.path("type").asText());
    assertEquals("forwarded", completed.path("body").path("outcome").asText());
    assertEquals(200, completed.path("body").path("response").path("status").asInt());
    // a cookie the upstream minted for the route's credential never reaches the agent or the ledger
    assertFalse(completed.path("body").path("response").path("headers").has("set-cookie"));
    assertEquals("set-cookie", completed.path("body").path("response").path("headers")
        .path("x-countersign-scrubbed").asText());
    assertEquals("PATCH", completed.path("body").path("rollback").path("method").asText());
    assertTrue(decided.path("index").asLong() < completed.path("index").asLong());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void deniedRequestGetsA403NamingTheRuleAndIsNeverForwarded(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    HttpResponse<String> r = proxy.send("DELETE", "/crm/v3/deals/42", null);
    assertEquals(403, r.statusCode());
    JsonNode body = ProxyFixture.json(r.body());
    assertEquals("denied", body.path("error").asText());
    assertEquals("crm.deal_delete_forbidden", body.path("rule").asText());
    assertEquals("high", body.path("risk").asText());
    assertEquals("agents may not delete deals", body.path("reasons").path(0).asText());
    assertEquals(0, newlyReceived().size());
    List<JsonNode> events = proxy.awaitLedger(body.path("exchange_id").asText(), 2);
    assertEquals("deny", events.get(0).path("body").path("decision").path("action").asText());
    assertEquals("denied", events.get(1).path("body").path("outcome").asText());
    assertEquals(403, events.get(1).path("body").path("status").asInt());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void heldRequestIsNeverForwardedBeforeApproval(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    HttpResponse<String> r = proxy.send("PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
        "Prefer", "respond-async");
    assertEquals(202, r.statusCode(), r.body());
    JsonNode body = ProxyFixture.json(r.body());
    assertEquals("pending", body.path("status").asText());
    assertTrue(body.path("message").asText().startsWith("approval required"));
    assertEquals(0, newlyReceived().size());
    List<JsonNode> events = proxy.awaitLedger(body.path("exchange_id").asText(), 2);
    JsonNode decision = events.get(0).path("body").path("decision");
    assertEquals("hold", decision.path("action").asText());
    assertEquals("crm.deal_discount_over_limit", decision.path("rule").asText());
    assertEquals("sales-managers", decision.path("obligations").path("approval").path("group").asText());
    assertEquals("approval.opened", events.get(1).path("type").asText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void readOnlyRequestIsForwardedWithTheRoutesOwnCredential(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    HttpResponse<String> r = proxy.send("GET", "/billing/v1/invoices?status=open", null);
    assertEquals(200, r.statusCode(), r.body());
    LoopbackUpstream.Received up = newlyReceived().get(0);
    assertEquals("/v1/invoices?status=open", up.target());
    assertEquals("Bearer " + ProxyFixture.BILLING_TOKEN, up.headers().get("authorization"));
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void anUpstreamThatEchoesTheCredentialDoesNotHandItToTheAgentOrTheLedger(Engine engine)
      throws Exception {
    ProxyFixture proxy = proxies.get(engine);
    HttpResponse<String> r = proxy.send("GET", "/billing/v1/echo", null);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("Bearer " + ProxyFixture.BILLING_TOKEN,
        newlyReceived().get(0).headers().get("authorization"), "the upstream did get it");
    assertFalse(r.body().contains(ProxyFixture.BILLING_TOKEN), r.body());
    assertTrue(r.body().contains("[removed-by-countersign]"), r.body());
    assertEquals("[removed-by-countersign]", r.headers().firstValue("x-debug-auth").orElseThrow());
    assertTrue(r.headers().firstValue("set-cookie").isEmpty(), "no session cookie for the agent");
    assertEquals("set-cookie, credential-in-headers, credential-in-body",
        r.headers().firstValue("x-countersign-scrubbed").orElseThrow());
    assertEquals(String.valueOf(r.body().length()), r.headers().firstValue("content-length").orElseThrow());
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    List<JsonNode> events = proxy.awaitLedger(id, 2);
    assertFalse(events.toString().contains(ProxyFixture.BILLING_TOKEN), events.toString());
    String scrape = new io.countersign.proxy.support.AdminClient(proxy.server().adminAddress())
        .get("/metrics", null).body();
    assertTrue(scrape.lines().anyMatch(l -> l.startsWith("countersign_answers_scrubbed_total{")
        && l.contains("route=\"billing\"") && l.contains("what=\"credential-in-body\"")), scrape);
    byte[] token = ProxyFixture.BILLING_TOKEN.getBytes(StandardCharsets.UTF_8);
    try (var files = java.nio.file.Files.walk(tmp.resolve(engine.name()).resolve("ledger"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".cq4")).toList()) {
        byte[] bytes = java.nio.file.Files.readAllBytes(f);
        for (int i = 0; i + token.length <= bytes.length; i++) {
          assertFalse(java.util.Arrays.equals(bytes, i, i + token.length, token, 0, token.length),
              "the credential is in " + f + " at byte " + i);
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void unknownRouteIsA404ThatTheLedgerRecords(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    HttpResponse<String> r = proxy.send("GET", "/payroll/v1/salaries", null);
    assertEquals(404, r.statusCode());
    JsonNode body = ProxyFixture.json(r.body());
    assertEquals("no_route", body.path("error").asText());
    assertEquals(0, newlyReceived().size());
    JsonNode event = proxy.awaitLedger(body.path("exchange_id").asText(), 1).get(0);
    assertEquals("exchange.rejected", event.path("type").asText());
    assertEquals("no_route", event.path("body").path("error").asText());
    assertEquals("/payroll/v1/salaries", event.path("body").path("target").asText());
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }
}
