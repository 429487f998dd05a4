package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile agent cannot knock the sidecar over with holds: held bodies live in the ledger, not in
 * memory, their bytes are bounded, a hold beyond the bound is refused with 429 and journaled, and
 * an approved hold still forwards the exact bytes that were judged (read back from the ledger).
 */
class HoldFloodIT {
  private static final int BODY = 200 * 1024;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static String bigDiscount(int n) {
    // a 30 % discount (held) with a large note: ~200 KiB of JSON
    return "{\"discount_pct\": 30, \"note\": \"" + String.valueOf((char) ('a' + n % 26)).repeat(BODY - 32) + "\"}";
  }

  private HttpResponse<String> hold(ProxyFixture p, int n, String workflow) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + p.address().getPort() + "/crm/v3/deals/" + n))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .header("Prefer", "respond-async")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(bigDiscount(n)));
    if (workflow != null) {
      r.header("X-Countersign-Workflow", workflow); // without: the calls of no workflow, one share
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void largeHoldsBeyondTheByteBoundAreRefusedAndAnApprovedOneForwardsItsExactBytes(@TempDir Path tmp)
      throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
          ProxyFixture.upstreamSettings(Duration.ofSeconds(5)),
          new ProxyConfig.Limits(4096, 8192, 1 << 20, Duration.ofSeconds(10), Duration.ofSeconds(60), 8,
              Duration.ofSeconds(10)));
      ProxyConfig.Approvals ap = ProxyFixture.approvals(ApprovalsIT.approversFile(tmp));
      // room for 4 held bodies in all, 3 per workflow
      ProxyConfig.Approvals bounded = new ProxyConfig.Approvals(ap.approversFile(), ap.maxPending(),
          ap.maxHeldConnections(), ap.defaultTimeout(), ap.publicUrl(), ap.webhooks(), ap.slack(),
          ap.oidc(), 4L * BODY + 1000, 3L * BODY + 1000, List.of());
      try (ProxyFixture p = ProxyFixture.start(ProxyFixture.withApprovals(base, bounded))) {
        List<String> tickets = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          HttpResponse<String> r = hold(p, i, "quote-prep");
          assertEquals(202, r.statusCode(), r.body());
          tickets.add(ProxyFixture.json(r.body()).path("ticket").asText());
        }
        HttpResponse<String> fourthOfWorkflow = hold(p, 3, "quote-prep");
        assertEquals(429, fourthOfWorkflow.statusCode(), fourthOfWorkflow.body());
        assertEquals("workflow_held_bytes_full", ProxyFixture.json(fourthOfWorkflow.body()).path("error").asText());
        assertEquals(202, hold(p, 4, null).statusCode());
        HttpResponse<String> full = hold(p, 5, null);
        assertEquals(429, full.statusCode(), full.body());
        assertEquals("held_bytes_full", ProxyFixture.json(full.body()).path("error").asText());
        String refused = full.headers().firstValue("x-countersign-exchange-id").orElseThrow();
        JsonNode outcome = p.awaitLedger(refused, 2).get(1);
        assertEquals("hold_refused", outcome.path("body").path("outcome").asText());
        assertEquals(429, outcome.path("body").path("status").asInt());
        assertEquals(0, upstream.received().size(), "nothing held or refused reached the upstream");
        assertEquals(4L * BODY, p.server().approvals().heldBytes(), "held bodies are counted, not kept");

        AdminClient admin = new AdminClient(p.server().adminAddress());
        String id = tickets.get(1);
        JsonNode detail = ProxyFixture.json(admin.get("/v1/approvals/" + id, ApprovalsIT.MARIA).body());
        assertEquals(30, detail.at("/request/body/discount_pct").asInt(), "the approver sees the body");
        assertEquals(BODY, detail.at("/request/size").asInt());
        assertEquals(200, admin.vote(id, "approve", ApprovalsIT.MARIA, "ok",
            detail.path("digest").asText()).statusCode());
        p.awaitTicket(id, 200);
        assertEquals(1, upstream.received().size());
        assertEquals(bigDiscount(1), upstream.received().get(0).body(), "the exact bytes judged");
        assertTrue(p.server().approvals().heldBytes() <= 3L * BODY, "an executed hold gives its bytes back");
      }
    }
  }
}
