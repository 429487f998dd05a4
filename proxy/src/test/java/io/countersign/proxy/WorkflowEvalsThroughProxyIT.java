package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edge cases of examples/evals (the brief's five workflows), sent through the real proxy as an
 * agent would send them: identity headers, bodies, the agent id from the sidecar's config. The
 * decision the proxy records must be the one each case expects. Cases that need prior spend (a
 * budget already used) cannot be produced by one request; `policy eval` and BudgetIT cover them.
 */
class WorkflowEvalsThroughProxyIT {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path EVALS = ProxyFixture.regoDir().toAbsolutePath().getParent().resolve("examples/evals");

  private static ProxyConfig config(String agent, String upstream, Path ledger) {
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream, ledger,
        ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
    List<ProxyConfig.RouteConfig> routes = new ArrayList<>(base.routes());
    routes.add(new ProxyConfig.RouteConfig("support", "/support", upstream, null));
    routes.add(new ProxyConfig.RouteConfig("onboarding", "/onboarding", upstream, null));
    return new ProxyConfig(agent, base.agentListen(), base.adminListen(), base.limits(), base.policy(),
        base.ledgerDir(), base.upstream(), routes, base.approvals());
  }

  @Test
  void everyWorkflowCaseIsDecidedThroughTheProxyAsExpected(@TempDir Path tmp) throws Exception {
    Map<String, ProxyFixture> proxies = new HashMap<>();
    List<String> mismatches = new ArrayList<>();
    int ran = 0;
    int needSpend = 0;
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      try (var files = Files.list(EVALS)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
          JsonNode doc = YAML.readTree(file.toFile());
          for (JsonNode c : doc.path("cases")) {
            if (c.has("spend") || doc.path("defaults").has("spend")) {
              needSpend++;
              continue;
            }
            ObjectNode caller = doc.path("defaults").path("caller").deepCopy();
            c.path("caller").properties().forEach(e -> caller.set(e.getKey(), e.getValue()));
            String agent = caller.path("agent").asText("sales-assistant");
            ProxyFixture p = proxies.computeIfAbsent(agent, a ->
                ProxyFixture.start(config(a, upstream.url(), tmp.resolve("ledger-" + a))));
            String[] req = c.path("request").asText().split(" ", 3);
            List<String> headers = new ArrayList<>(List.of("Prefer", "respond-async"));
            header(headers, caller, "workflow", "X-Countersign-Workflow");
            header(headers, caller, "account", "X-Countersign-Account");
            header(headers, caller, "tool", "X-Countersign-Tool");
            header(headers, caller, "on_behalf_of", "X-Countersign-On-Behalf-Of");
            header(headers, caller, "run", "X-Countersign-Run");
            String body = c.has("body") ? c.path("body").toString() : null;
            HttpResponse<String> r = p.send(req[0], "/" + req[1] + req[2], body, headers.toArray(String[]::new));
            String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
            JsonNode first = p.awaitLedger(id, 1).get(0);
            JsonNode d = first.path("body").path("decision");
            JsonNode want = c.path("want");
            String note = file.getFileName() + ": " + c.path("note").asText();
            if (first.path("type").asText().equals("exchange.rejected")) {
              // refused before any policy saw it (e.g. a lower-case method): stricter than a deny
              if (!"deny".equals(want.path("action").asText())) {
                mismatches.add(note + ": refused before policy (" + first.path("body").path("error").asText()
                    + ") but the case expects " + want.path("action").asText());
              }
              ran++;
              continue;
            }
            for (String field : List.of("action", "risk", "rule")) {
              if (want.has(field) && !want.path(field).asText().equals(d.path(field).asText())) {
                mismatches.add(note + ": " + field + " " + d.path(field).asText() + " != " + want.path(field).asText());
              }
            }
            ran++;
          }
        }
      } finally {
        proxies.values().forEach(ProxyFixture::close);
      }
    }
    assertEquals(List.of(), mismatches);
    assertTrue(ran >= 40, "ran " + ran + " cases (" + needSpend + " need prior spend)");
  }

  private static void header(List<String> headers, JsonNode caller, String field, String name) {
    if (caller.hasNonNull(field) && !caller.path(field).asText().isBlank()) {
      headers.add(name);
      headers.add(caller.path(field).asText());
    }
  }
}
