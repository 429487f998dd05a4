package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.policy.ManagedOpa;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a part the proxy depends on fails, requests are refused clearly and nothing leaves unrecorded. */
class FailClosedIT {
  @TempDir Path tmp;
  private LoopbackUpstream upstream;

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new LoopbackUpstream();
  }

  @AfterEach
  void stopUpstream() {
    upstream.close();
  }

  @Test
  void requestsAreDeniedWithAClearReasonWhileAnExternalOpaIsDown() {
    ManagedOpa opa = ManagedOpa.start(ProxyFixture.opaBinary(), ProxyFixture.regoDir());
    String url = opa.url();
    try (ProxyFixture proxy = ProxyFixture.start(ProxyFixture.config(Engine.OPA, url, upstream.url(),
        tmp.resolve("ledger"), ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits()))) {
      assertEquals(200, proxy.send("GET", "/crm/v3/deals/42", null).statusCode());
      opa.close(); // the external OPA goes away for good

      HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
      assertEquals(403, r.statusCode(), r.body());
      JsonNode body = ProxyFixture.json(r.body());
      assertEquals("policy_unavailable", body.path("error").asText());
      assertTrue(body.path("reasons").path(0).asText().contains("unreachable"), r.body());
      assertEquals(1, upstream.received().size(), "the denied request was not forwarded");
      JsonNode decided = proxy.awaitLedger(body.path("exchange_id").asText(), 2).get(0);
      assertEquals("policy_error", decided.path("body").path("decision").path("failure").asText());
      assertEquals(1L, proxy.server().policy().failClosedCounts().getOrDefault("policy_error", 0L));
    } finally {
      opa.close();
    }
  }

  @Test
  void theManagedOpaIsRestartedAfterItIsKilledAndNothingIsForwardedUnjudged() {
    try (ProxyFixture proxy = ProxyFixture.start(Engine.OPA, upstream, tmp)) {
      ManagedOpa opa = proxy.server().managedOpa();
      assertEquals(200, proxy.send("GET", "/crm/v3/deals/42", null).statusCode());
      long pid = opa.pid();
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();

      int[] allowed = {1};
      Await.until("requests allowed again after the OPA restart", Duration.ofSeconds(30), () -> {
        HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
        if (r.statusCode() == 200) {
          allowed[0]++;
          return true;
        }
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("policy_unavailable", ProxyFixture.json(r.body()).path("error").asText());
        return false;
      });
      assertEquals(allowed[0], upstream.received().size(), "only judged requests were forwarded");
      assertEquals(1, opa.restarts());
      assertFalse(pid == opa.pid(), "a new OPA process serves");
    }
  }

  @Test
  void anUnreachableUpstreamIsA502ThatTheLedgerRecords() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (ProxyFixture proxy = ProxyFixture.start(ProxyFixture.config(Engine.WASM, null,
        "http://127.0.0.1:" + closedPort, tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits()))) {
      HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
      assertEquals(502, r.statusCode(), r.body());
      JsonNode body = ProxyFixture.json(r.body());
      assertEquals("upstream_unreachable", body.path("error").asText());
      List<JsonNode> events = proxy.awaitLedger(body.path("exchange_id").asText(), 2);
      assertEquals("exchange.failed", events.get(1).path("type").asText());
      assertEquals("upstream_unreachable", events.get(1).path("body").path("error").asText());
      assertFalse(events.get(1).path("body").path("request_sent").asBoolean());
    }
  }

  @Test
  void aSlowUpstreamIsA504ThatTheLedgerRecords() {
    try (ProxyFixture proxy = ProxyFixture.start(ProxyFixture.config(Engine.WASM, null, upstream.url(),
        tmp.resolve("ledger"), ProxyFixture.upstreamSettings(Duration.ofMillis(300)), ProxyFixture.limits()))) {
      HttpResponse<String> r = proxy.send("GET", "/crm/v3/slow", null);
      assertEquals(504, r.statusCode(), r.body());
      JsonNode body = ProxyFixture.json(r.body());
      assertEquals("upstream_timeout", body.path("error").asText());
      JsonNode failed = proxy.awaitLedger(body.path("exchange_id").asText(), 2).get(1);
      assertEquals("upstream_timeout", failed.path("body").path("error").asText());
      assertTrue(failed.path("body").path("request_sent").asBoolean(), "the upstream may have acted");
      // the proxy stays usable after a timed-out upstream connection
      assertEquals(200, proxy.send("GET", "/crm/v3/deals/42", null).statusCode());
    }
  }

  @Test
  void whenTheLedgerCannotRecordNothingIsForwarded() {
    try (ProxyFixture proxy = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      proxy.server().ledger().close();
      HttpResponse<String> r = proxy.send("PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 5}");
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("ledger_unavailable", ProxyFixture.json(r.body()).path("error").asText());
      assertEquals(0, upstream.received().size());
    }
  }

  @Test
  void aPolicyTimeoutFailsClosed() {
    ProxyConfig base = ProxyFixture.config(Engine.OPA, null, upstream.url(), tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      // an "OPA" that accepts connections and never answers
      ProxyConfig config = new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(), base.limits(),
          new ProxyConfig.Policy(Engine.OPA, "http://127.0.0.1:" + silent.getLocalPort(),
              base.policy().opaBinary(), base.policy().regoDir(), Duration.ofMillis(300)),
          base.ledgerDir(), base.upstream(), base.routes(), base.approvals());
      try (ProxyFixture proxy = ProxyFixture.start(config)) {
        HttpResponse<String> r = proxy.send("GET", "/crm/v3/deals/42", null);
        assertEquals(403, r.statusCode(), r.body());
        JsonNode decided = proxy.awaitLedger(ProxyFixture.json(r.body()).path("exchange_id").asText(), 2).get(0);
        assertEquals("policy_timeout", decided.path("body").path("decision").path("failure").asText());
        assertEquals(0, upstream.received().size());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
