package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics on the admin port, scraped over HTTP after real traffic. */
class MetricsIT {

  private static double value(String metrics, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(metrics);
    assertTrue(m.find(), "no series " + series + " in:\n" + metrics);
    return Double.parseDouble(m.group(1));
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
