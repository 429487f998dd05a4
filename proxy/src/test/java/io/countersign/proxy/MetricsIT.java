package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** /metrics on the admin port, scraped over HTTP after real traffic. */
class MetricsIT {

  private static double value(String metrics, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(metrics);
    assertTrue(m.find(), "no series " + series + " in:\n" + metrics);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void theAccessLogHasDenialsAtInfoAndRoutineForwardsOnlyAtDebug(@TempDir Path tmp) throws Exception {
    Logger access = (Logger) LoggerFactory.getLogger("countersign.access");
    Level before = access.getLevel();
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    access.addAppender(lines);
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture p = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      access.setLevel(Level.INFO);
      assertEquals(200, p.send("GET", "/crm/v3/deals/1", null).statusCode());
      HttpResponse<String> denied = p.send("DELETE", "/crm/v3/deals/1", null);
      assertEquals(403, denied.statusCode());
      assertEquals(List.of("INFO denied " + denied.headers().firstValue("x-countersign-exchange-id")
          .orElseThrow()), summaries(lines.list), "only the denial at INFO");

      lines.list.clear();
      access.setLevel(Level.DEBUG);
      HttpResponse<String> read = p.send("GET", "/crm/v3/deals/2", null);
      assertEquals(200, read.statusCode());
      assertEquals(List.of("DEBUG forwarded " + read.headers().firstValue("x-countersign-exchange-id")
          .orElseThrow()), summaries(lines.list), "a routine forward at DEBUG");
    } finally {
      access.detachAppender(lines);
      access.setLevel(before);
    }
  }

  private static List<String> summaries(List<ILoggingEvent> events) {
    return events.stream().map(e -> {
      Map<String, Object> kv = new java.util.HashMap<>();
      e.getKeyValuePairs().forEach(pair -> kv.put(pair.key, pair.value));
      return e.getLevel() + " " + kv.get("outcome") + " " + kv.get("exchange_id");
    }).toList();
  }

  @Test
  void countersAndHistogramsReflectTheTraffic(@TempDir Path tmp) throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture p = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      for (int i = 0; i < 3; i++) {
        assertEquals(200, p.send("GET", "/crm/v3/deals/" + i, null,
            "X-Countersign-Workflow", "quote-prep", "X-Countersign-Run", "r-" + (i % 2)).statusCode());
      }
      assertEquals(200, p.send("PATCH", "/crm/v3/deals/1", "{\"discount_pct\": 5}",
          "X-Countersign-Workflow", "quote-prep", "X-Countersign-Run", "r-0").statusCode());
      assertEquals(403, p.send("DELETE", "/crm/v3/deals/1", null).statusCode());
      assertEquals(400, p.send("GET", "/crm//v3", null).statusCode());

      HttpResponse<String> scrape = new AdminClient(p.server().adminAddress()).get("/metrics", null);
      assertEquals(200, scrape.statusCode());
      assertTrue(scrape.headers().firstValue("content-type").orElseThrow().startsWith("text/plain"));
      String m = scrape.body();
      assertEquals(3, value(m, "countersign_exchanges_total{action=\"allow\",outcome=\"forwarded\","
          + "risk=\"read_only\",route=\"crm\",status_class=\"2xx\"}"));
      assertEquals(1, value(m, "countersign_exchanges_total{action=\"allow\",outcome=\"forwarded\","
          + "risk=\"low\",route=\"crm\",status_class=\"2xx\"}"));
      assertEquals(1, value(m, "countersign_exchanges_total{action=\"deny\",outcome=\"denied\","
          + "risk=\"high\",route=\"crm\",status_class=\"4xx\"}"));
      assertEquals(1, value(m, "countersign_rejected_total{error=\"path_empty_segment\"}"));
      assertEquals(5, value(m, "countersign_policy_latency_seconds_count"));
      assertEquals(5, value(m, "countersign_exchange_latency_seconds_count"));
      assertEquals(4, value(m, "countersign_upstream_latency_seconds_count"));
      assertTrue(value(m, "countersign_ledger_append_latency_seconds_count") >= 11, "2 events per exchange + 1");
      assertTrue(m.contains("countersign_policy_latency_seconds_bucket{le=\"0.001\"}"), "histogram buckets");
      assertEquals(1, value(m, "countersign_cost_total{workflow=\"quote-prep\"}"), "the PATCH costs 1");
      assertEquals(2, value(m, "countersign_workflow_runs_total{workflow=\"quote-prep\"}"));
      assertEquals(0, value(m, "countersign_approvals_pending{mode=\"sync\"}"));
      assertEquals(1, value(m, "countersign_ledger_writable"));
      assertTrue(value(m, "countersign_ledger_size_bytes") > 0);
    }
  }
}
