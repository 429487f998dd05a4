package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.PolicyVariant;
import io.countersign.proxy.support.ProxyFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A candidate policy runs beside the enforced one on live traffic; disagreements are journaled. */
class ShadowPolicyIT {

  @Test
  void disagreementsAreJournaledAndCountedButNeverEnforced(@TempDir Path tmp) throws Exception {
    Path candidate = PolicyVariant.of(tmp.resolve("candidate"),
        c -> ((ObjectNode) c.path("limits")).put("crm.deal_discount_pct", 10));
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
          ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
      ProxyConfig.Policy p = base.policy();
      ProxyConfig config = new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(),
          base.limits(), new ProxyConfig.Policy(p.engine(), null, p.opaBinary(), p.regoDir(), p.timeout(),
              0, Duration.ofMinutes(5), false, candidate),
          base.ledgerDir(), base.upstream(), base.routes(), base.approvals());
      try (ProxyFixture proxy = ProxyFixture.start(config)) {
        String agreed = proxy.send("PATCH", "/crm/v3/deals/1", "{\"discount_pct\": 5}")
            .headers().firstValue("x-countersign-exchange-id").orElseThrow();
        var differs = proxy.send("PATCH", "/crm/v3/deals/1", "{\"discount_pct\": 12}");
        assertEquals(200, differs.statusCode(), "the enforced policy decides: 12 % is within its limit");
        String id = differs.headers().firstValue("x-countersign-exchange-id").orElseThrow();
        Await.until("the disagreement in the ledger", Duration.ofSeconds(20), () ->
            proxy.ledger(id).stream().anyMatch(e -> e.path("type").asText().equals("policy.shadow_disagreed")));
        JsonNode d = proxy.ledger(id).stream()
            .filter(e -> e.path("type").asText().equals("policy.shadow_disagreed")).findFirst().orElseThrow();
        assertEquals("allow", d.path("body").path("enforced").path("action").asText());
        assertEquals("hold", d.path("body").path("shadow").path("action").asText());
        assertEquals(List.of("exchange.decided", "exchange.completed"),
            proxy.ledger(agreed).stream().map(e -> e.path("type").asText()).toList());
        String metrics = new AdminClient(proxy.server().adminAddress()).get("/metrics", null).body();
        assertEquals(true, metrics.contains("countersign_shadow_decisions_total{agreed=\"false\"} 1.0"), metrics);
        assertEquals(true, metrics.contains("countersign_shadow_decisions_total{agreed=\"true\"} 1.0"), metrics);
      }
    }
  }
}
