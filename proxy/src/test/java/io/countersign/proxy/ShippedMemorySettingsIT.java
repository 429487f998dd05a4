package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's memory settings (docs/footprint.md: SerialGC, a 96 MiB heap, capped metaspace,
 * code cache and direct memory) carry a sidecar through 1,000 pending async holds and a burst of
 * mixed reads and writes on top: every request answered as it should, no OutOfMemoryError (the
 * chart's -XX:+ExitOnOutOfMemoryError would end the process), {@code /readyz} 200 throughout.
 * The real {@code bin/countersign run}, as an operator (and the image) starts it (issue 21).
 */
class ShippedMemorySettingsIT {
  private static final Path ROOT = ProxyFixture.regoDir().toAbsolutePath().getParent();
  private static final int HOLDS = 1_000;
  private static final int REQUESTS = 4_000;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Sends {@code n} requests, {@code parallel} at a time; returns the count of each status. */
  private Map<Integer, Integer> send(int n, int parallel, int port, java.util.function.IntFunction<HttpRequest> request)
      throws Exception {
    Semaphore inFlight = new Semaphore(parallel);
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    CompletableFuture<?>[] all = new CompletableFuture<?>[n];
    for (int i = 0; i < n; i++) {
      inFlight.acquire();
      all[i] = http.sendAsync(request.apply(i), HttpResponse.BodyHandlers.discarding())
          .handle((r, e) -> {
            inFlight.release();
            statuses.computeIfAbsent(e != null ? -1 : r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
            return null;
          });
    }
    CompletableFuture.allOf(all).get(5, TimeUnit.MINUTES);
    Map<Integer, Integer> out = new TreeMap<>();
    statuses.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private static HttpRequest patch(int port, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return b.build();
  }

  @Test
  void theShippedMemorySettingsCarryAThousandHoldsAndABurstOfTrafficWithoutRunningOutOfMemory(
      @TempDir Path tmp) throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      int agentPort = freePort();
      int adminPort = freePort();
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
          "  approvers_file: " + ApprovalsIT.approversFile(tmp),
          "routes:",
          "  - name: crm",
          "    prefix: /crm",
          "    upstream: " + upstream.url(),
          "    credential: {header: Authorization, value_prefix: 'Bearer ', from_env: CRM_TOKEN}",
          ""));
      Path log = tmp.resolve("sidecar.log");
      ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/countersign").toString(), "run",
          "--config", config.toString());
      pb.environment().put("CRM_TOKEN", ProxyFixture.CRM_TOKEN);
      // as the chart runs it: an OutOfMemoryError ends the process instead of limping on
      pb.environment().put("COUNTERSIGN_JAVA_OPTS", "-XX:+ExitOnOutOfMemoryError");
      pb.environment().remove("COUNTERSIGN_MEMORY_OPTS");
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Process p = pb.start();
      try {
        AdminClient admin = new AdminClient(new InetSocketAddress("127.0.0.1", adminPort));
        Await.until("the sidecar to be ready (log: " + log + ")", Duration.ofSeconds(90), () -> {
          assertTrue(p.isAlive(), () -> "the sidecar exited: " + read(log));
          try {
            return admin.get("/readyz", null).statusCode() == 200;
          } catch (RuntimeException e) {
            return false;
          }
        });
        List<String> jvmArgs = p.toHandle().info().arguments().map(List::of).orElse(List.of());
        assertTrue(jvmArgs.contains("-Xmx96m") && jvmArgs.contains("-XX:+UseSerialGC"),
            "started with the launcher's memory settings: " + jvmArgs);

        Map<Integer, Integer> holds = send(HOLDS, 8, agentPort, i -> patch(agentPort, "/crm/v3/deals/" + i,
            "{\"discount_pct\": 30}", "Prefer", "respond-async"));
        assertEquals(Map.of(202, HOLDS), holds, "every hold accepted");
        assertEquals(200, admin.get("/readyz", null).statusCode());

        // one write in five: 800 paid actions stay under the example agent's daily budget of 1,000
        Map<Integer, Integer> traffic = send(REQUESTS, 16, agentPort, i -> i % 5 != 0
            ? HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agentPort + "/crm/v3/deals/" + i))
                .timeout(Duration.ofSeconds(60)).GET().build()
            : patch(agentPort, "/crm/v3/deals/" + i, "{\"discount_pct\": 10}"));
        assertEquals(Map.of(200, REQUESTS), traffic, "every read and low-risk write forwarded");

        assertTrue(p.isAlive(), () -> "the sidecar is still running: " + read(log));
        assertEquals(200, admin.get("/readyz", null).statusCode());
        assertEquals(HOLDS, ProxyFixture.json(admin.get("/v1/approvals", ApprovalsIT.MARIA).body())
            .path("count").asInt(), "every hold still pending");
        assertFalse(read(log).contains("OutOfMemoryError"), () -> "no OutOfMemoryError: " + read(log));
      } finally {
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      }
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "(no log)";
    }
  }
}
