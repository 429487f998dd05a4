package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.PolicyVariant;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proxy counts spend from decisions' cost; the policy enforces the budget, also after a restart. */
class BudgetIT {

  @Test
  void aSpentBudgetIsEnforcedAndStaysSpentAcrossARestart(@TempDir Path tmp) throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"), c -> {
      ArrayNode limits = ((ObjectNode) c.path("agents").path("sales-assistant")).putArray("spend_limits");
      limits.addObject().put("counter", "agent_today").put("limit", 2).put("action", "deny")
          .put("reason", "the agent's daily budget is spent");
    });
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
          ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
      ProxyConfig.Policy p = base.policy();
      ProxyConfig config = new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(),
          base.limits(), new ProxyConfig.Policy(p.engine(), null, p.opaBinary(), rego, p.timeout()),
          base.ledgerDir(), base.upstream(), base.routes(), base.approvals());
      try (ProxyFixture proxy = ProxyFixture.start(config)) {
        for (int i = 0; i < 2; i++) {
          assertEquals(200, proxy.send("PATCH", "/crm/v3/deals/1", "{\"discount_pct\": 5}").statusCode());
        }
        assertEquals(200, proxy.send("GET", "/crm/v3/deals/1", null).statusCode(), "reads cost nothing");
        HttpResponse<String> third = proxy.send("PATCH", "/crm/v3/deals/1", "{\"discount_pct\": 5}");
        assertEquals(403, third.statusCode(), third.body());
        JsonNode body = ProxyFixture.json(third.body());
        assertEquals(true, body.path("rule").asText().startsWith("budget."), third.body());
        JsonNode decided = proxy.awaitLedger(body.path("exchange_id").asText(), 1).get(0);
        assertEquals(2, decided.path("body").path("spend").path("agent_today").asInt(),
            "the ledger records the counters the policy saw");
      }
      try (ProxyFixture restarted = ProxyFixture.start(config)) {
        HttpResponse<String> after = restarted.send("PATCH", "/crm/v3/deals/1", "{\"discount_pct\": 5}");
        assertEquals(403, after.statusCode(), "the budget is rebuilt from the ledger: " + after.body());
        assertEquals(2, upstream.received().stream().filter(r -> r.method().equals("PATCH")).count());
      }
    }
  }
}
