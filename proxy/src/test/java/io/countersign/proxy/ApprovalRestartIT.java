package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Async approvals survive a kill -9 of the real sidecar process: the hold is rebuilt from the
 * ledger, approved after the restart, executed exactly once, and its answer stays fetchable.
 */
class ApprovalRestartIT {
  private static final Path ROOT = ProxyFixture.regoDir().toAbsolutePath().getParent();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Process start(Path config, Path log, int adminPort) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/countersign").toString(), "run",
        "--config", config.toString());
    pb.environment().put("CRM_TOKEN", ProxyFixture.CRM_TOKEN);
    pb.environment().put("BILLING_TOKEN", ProxyFixture.BILLING_TOKEN);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process p = pb.start();
    AdminClient admin = new AdminClient(new InetSocketAddress("127.0.0.1", adminPort));
    Await.until("the sidecar to be ready (log: " + log + ")", Duration.ofSeconds(90), () -> {
      if (!p.isAlive()) {
        throw new AssertionError("the sidecar exited: " + read(log));
      }
      try {
        return admin.get("/readyz", null).statusCode() == 200;
      } catch (RuntimeException e) {
        return false;
      }
    });
    return p;
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "(no log)";
    }
  }

  private static void kill9(Process p) throws Exception {
    p.destroyForcibly(); // SIGKILL: no shutdown hook runs
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
  }

  private HttpResponse<String> agent(int port, String method, String path, String body, String... headers)
      throws Exception {
    return agentAsync(port, method, path, body, headers).get(60, TimeUnit.SECONDS);
  }

  private CompletableFuture<HttpResponse<String>> agentAsync(int port, String method, String path,
      String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anAsyncHoldSurvivesKill9AndRunsExactlyOnceAfterApproval(@TempDir Path tmp) throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      int agentPort = freePort();
      int adminPort = freePort();
      Path approvers = ApprovalsIT.approversFile(tmp);
      Path config = tmp.resolve("countersign.yaml");
      Files.writeString(config, String.join("\n",
          "agent_id: sales-assistant",
          "listen:",
          "  agent: 127.0.0.1:" + agentPort,
          "  admin: 127.0.0.1:" + adminPort,
          "policy:",
          "  engine: wasm",
          "  opa_binary: " + ProxyFixture.opaBinary().toAbsolutePath(),
          "  rego_dir: " + ProxyFixture.regoDir().toAbsolutePath(),
          "ledger:",
          "  dir: " + tmp.resolve("ledger"),
          "approvals:",
          "  approvers_file: " + approvers,
          "routes:",
          "  - name: crm",
          "    prefix: /crm",
          "    upstream: " + upstream.url(),
          "    credential: {header: Authorization, value_prefix: 'Bearer ', from_env: CRM_TOKEN}",
          "  - name: billing",
          "    prefix: /billing",
          "    upstream: " + upstream.url(),
          "    credential: {header: Authorization, value_prefix: 'Bearer ', from_env: BILLING_TOKEN}",
          ""));
      Path log = tmp.resolve("sidecar.log");
      AdminClient admin = new AdminClient(new InetSocketAddress("127.0.0.1", adminPort));

      Process first = start(config, log, adminPort);
      HttpResponse<String> accepted = agent(agentPort, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 35}",
          "Prefer", "respond-async");
      assertEquals(202, accepted.statusCode(), accepted.body());
      String ticket = ProxyFixture.json(accepted.body()).path("ticket").asText();
      String location = accepted.headers().firstValue("location").orElseThrow();
      // a sync hold is waiting too when the process dies
      CompletableFuture<HttpResponse<String>> sync = agentAsync(agentPort, "PATCH", "/crm/v3/deals/7",
          "{\"discount_pct\": 50}");
      Await.until("two pending holds", Duration.ofSeconds(20), () ->
          ProxyFixture.json(admin.get("/v1/approvals", ApprovalsIT.MARIA).body()).path("count").asInt() == 2);
      kill9(first);
      assertTrue(sync.handle((r, e) -> e != null || r.statusCode() >= 500).get(30, TimeUnit.SECONDS),
          "the sync hold's connection died with the process");

      Process second = start(config, log, adminPort);
      try {
        JsonNode pending = ProxyFixture.json(admin.get("/v1/approvals", ApprovalsIT.MARIA).body());
        assertEquals(1, pending.path("count").asInt(), "only the async hold is pending again: " + pending);
        assertEquals(ticket, pending.path("approvals").path(0).path("id").asText());
        assertEquals(202, agent(agentPort, "GET", location, null).statusCode());
        assertEquals(0, upstream.received().size());

        String digest = admin.digest(ticket, ApprovalsIT.MARIA);
        assertEquals(200, admin.vote(ticket, "approve", ApprovalsIT.MARIA, "after restart", digest).statusCode());
        Await.until("the ticket to carry the upstream's answer", Duration.ofSeconds(30),
            () -> {
              try {
                return agent(agentPort, "GET", location, null).statusCode() == 200;
              } catch (Exception e) {
                return false;
              }
            });
        assertEquals(1, upstream.received().size());
        assertEquals("{\"discount_pct\": 35}", upstream.received().get(0).body());
      } finally {
        kill9(second);
      }

      Process third = start(config, log, adminPort);
      try {
        HttpResponse<String> after = agent(agentPort, "GET", location, null);
        assertEquals(200, after.statusCode(), "the answer survives another restart: " + after.body());
        assertEquals(1, upstream.received().size(), "and the request is not sent again");
        assertEquals(0, ProxyFixture.json(admin.get("/v1/approvals", ApprovalsIT.MARIA).body()).path("count").asInt());
      } finally {
        third.destroy();
        third.waitFor(30, TimeUnit.SECONDS);
      }
      String tail = tail(tmp.resolve("ledger"));
      assertTrue(tail.contains("\"type\":\"approval.abandoned\""), "the sync hold is journaled as abandoned");
    }
  }

  private static String tail(Path ledger) throws Exception {
    Process p = new ProcessBuilder(ROOT.resolve("bin/countersign").toString(), "ledger", "tail",
        "--dir", ledger.toString()).redirectError(new File("/dev/null")).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }
}
