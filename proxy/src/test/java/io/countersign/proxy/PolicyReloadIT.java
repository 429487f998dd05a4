package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.policyload.PolicyReloader;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.PolicyVariant;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policy reloads: under load, broken candidates, and on file change. */
class PolicyReloadIT {

  private static ProxyConfig config(Engine engine, Path rego, String upstream, Path ledger, boolean watch) {
    ProxyConfig base = ProxyFixture.config(engine, null, upstream, ledger,
        ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
    ProxyConfig.Policy p = base.policy();
    return new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(), base.limits(),
        new ProxyConfig.Policy(engine, null, p.opaBinary(), rego, p.timeout(), 0, Duration.ofMinutes(5),
            watch, null),
        base.ledgerDir(), base.upstream(), base.routes(), base.approvals());
  }

  private static void setLimit(Path rego, int limit) throws Exception {
    Path data = rego.resolve("countersign/catalog/data.json");
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    ObjectNode catalog = (ObjectNode) json.readTree(data.toFile());
    ((ObjectNode) catalog.path("limits")).put("crm.deal_discount_pct", limit);
    Path tmp = data.resolveSibling("data.json.tmp");
    json.writeValue(tmp.toFile(), catalog);
    Files.move(tmp, data, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void aReloadUnderLoadDropsNothingAndDecisionsSwitchAtOneRevision(@TempDir Path tmp) throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"), c -> { });
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture p = ProxyFixture.start(config(Engine.OPA, rego, upstream.url(), tmp.resolve("ledger"), false))) {
      String before = p.server().policy().revision();
      AtomicBoolean stop = new AtomicBoolean();
      List<String> failures = new CopyOnWriteArrayList<>();
      Map<String, Integer> statusById = new ConcurrentHashMap<>();
      List<Thread> load = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread th = new Thread(() -> {
          long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (!stop.get() && System.nanoTime() < deadline) {
            HttpResponse<String> r = p.send("PATCH", "/crm/v3/deals/7", "{\"discount_pct\": 12}",
                "Prefer", "respond-async");
            statusById.put(r.headers().firstValue("x-countersign-exchange-id").orElse("?"), r.statusCode());
            if (r.statusCode() != 200 && r.statusCode() != 202) {
              failures.add(r.statusCode() + " " + r.body());
            }
          }
        });
        th.start();
        load.add(th);
      }
      Await.until("some traffic before the reload", Duration.ofSeconds(30), () -> statusById.size() > 50);
      setLimit(rego, 10); // 12 % was within the limit; now it needs an approval
      PolicyReloader.Result result = p.server().reloadPolicy();
      assertTrue(result.reloaded(), result.message());
      int atReload = statusById.size();
      Await.until("traffic after the reload", Duration.ofSeconds(30), () -> statusById.size() > atReload + 50);
      stop.set(true);
      for (Thread th : load) {
        th.join(30_000);
      }
      assertEquals(List.of(), failures, "no request failed during the reload");
      String after = result.revision();
      assertNotEquals(before, after);

      // In ledger order: every decision is by the old or the new revision, and decisions by the
      // old one end at the policy.reloaded event (give or take evaluations already in flight)
      List<JsonNode> events = p.ledger();
      int reloadedAt = -1;
      for (int i = 0; i < events.size(); i++) {
        if (events.get(i).path("type").asText().equals("policy.reloaded")) {
          reloadedAt = i;
        }
      }
      assertTrue(reloadedAt > 0, "the reload is journaled");
      assertEquals(after, events.get(reloadedAt).path("body").path("to").asText());
      int oldAfter = 0;
      int newBefore = 0;
      for (int i = 0; i < events.size(); i++) {
        JsonNode d = events.get(i).path("body").path("decision");
        if (!events.get(i).path("type").asText().equals("exchange.decided")) {
          continue;
        }
        String rev = d.path("revision").asText();
        assertTrue(rev.equals(before) || rev.equals(after), rev);
        String action = d.path("action").asText();
        assertEquals(rev.equals(before) ? "allow" : "hold", action, "each revision decides by its own limit");
        if (i > reloadedAt && rev.equals(before)) {
          oldAfter++;
        }
        if (i < reloadedAt && rev.equals(after)) {
          newBefore++;
        }
      }
      assertEquals(0, newBefore, "no decision by the new revision before it was in force");
      assertTrue(oldAfter <= 4, "at most the evaluations in flight at the swap finish on the old revision: " + oldAfter);
    }
  }

  @Test
  void aBrokenPolicyIsRefusedWithItsFileAndLineAndTheOldOneStaysInForce(@TempDir Path tmp) throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"), c -> { });
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture p = ProxyFixture.start(config(Engine.WASM, rego, upstream.url(), tmp.resolve("ledger"), false))) {
      String before = p.server().policy().revision();
      Path broken = rego.resolve("countersign/broken.rego");
      Files.writeString(broken, "package countersign.broken\n\nallow if {\n  input.x ==\n}\n");
      PolicyReloader.Result r = p.server().reloadPolicy();
      assertFalse(r.reloaded());
      assertTrue(r.message().contains("broken.rego:5") || r.message().contains("broken.rego:4"), r.message());
      assertEquals(before, p.server().policy().revision());
      assertEquals(200, p.send("GET", "/crm/v3/deals/1", null).statusCode(), "the old policy still serves");
      assertTrue(p.ledger().stream().anyMatch(e -> e.path("type").asText().equals("policy.reload_refused")
          && e.path("body").path("error").asText().contains("broken.rego")));
    }
  }

  @Test
  void aChangedFileIsPickedUpWhenWatching(@TempDir Path tmp) throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"), c -> { });
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture p = ProxyFixture.start(config(Engine.WASM, rego, upstream.url(), tmp.resolve("ledger"), true))) {
      String before = p.server().policy().revision();
      assertEquals(200, p.send("PATCH", "/crm/v3/deals/7", "{\"discount_pct\": 12}").statusCode());
      setLimit(rego, 10);
      Await.until("the watcher to reload", Duration.ofSeconds(30),
          () -> !p.server().policy().revision().equals(before));
      assertEquals(202, p.send("PATCH", "/crm/v3/deals/7", "{\"discount_pct\": 12}", "Prefer", "respond-async")
          .statusCode());
    }
  }
}
