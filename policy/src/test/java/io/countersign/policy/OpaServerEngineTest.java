package io.countersign.policy;

import static io.countersign.policy.TestPolicies.amount;
import static io.countersign.policy.TestPolicies.await;
import static io.countersign.policy.TestPolicies.closedPort;
import static io.countersign.policy.TestPolicies.input;
import static io.countersign.policy.TestPolicies.opaBinary;
import static io.countersign.policy.TestPolicies.policyDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OpaServerEngineTest {
  private static ManagedOpa opa;
  private static OpaServerEngine engine;

  private HttpServer fake;
  private ExecutorService fakeThreads;
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeAll
  static void startOpa() {
    opa = ManagedOpa.start(opaBinary(), policyDir());
    engine = new OpaServerEngine(opa.url(), PolicyRevision.ofDirectory(policyDir()));
  }

  @AfterAll
  static void stopOpa() {
    if (engine != null) {
      engine.close();
    }
    if (opa != null) {
      opa.close();
    }
  }

  @AfterEach
  void stopFake() {
    release.countDown();
    if (fake != null) {
      fake.stop(0);
      fakeThreads.shutdownNow();
    }
  }

  private static Decision decided(java.util.concurrent.CompletionStage<Decision> stage)
      throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void opaDecidesAllowDenyAndHoldWithTheRevisionAndObligations() throws Exception {
    Decision allow = decided(engine.evaluate(input("GET", "crm", "sales", null)));
    assertEquals(PolicyAction.ALLOW, allow.action());
    assertEquals(RiskClass.READ_ONLY, allow.risk());
    assertEquals(engine.revision(), allow.revision());
    assertEquals("none", allow.obligations().path("record").path("body").asText());

    Decision deny = decided(engine.evaluate(input("GET", "crm", "rogue-bot", null)));
    assertEquals(PolicyAction.DENY, deny.action());
    assertEquals(List.of("agent rogue-bot is blocked"), deny.reasons());
    assertFalse(deny.isFailure());

    Decision hold = decided(engine.evaluate(input("POST", "billing", "sales", amount(60))));
    assertEquals(PolicyAction.HOLD, hold.action());
    assertEquals(RiskClass.HIGH, hold.risk());
    assertEquals(List.of("amount above 50 needs approval"), hold.reasons());
    assertEquals("finance", hold.obligations().path("approval").path("group").asText());
    assertEquals(2, hold.obligations().path("cost").asInt());
  }

  @Test
  void anUndefinedDecisionFailsClosedAsPolicyUndefined() throws Exception {
    try (OpaServerEngine e = new OpaServerEngine(opa.url(), "rev")) {
      Decision d = decided(e.evaluate(input("GET", "no-such-route", "sales", null)));
      assertEquals("policy_undefined", d.failure(), d.toString());
      assertEquals(PolicyAction.DENY, d.action());
      assertEquals(Map.of("policy_undefined", 1L), e.failClosedCounts());
    }
  }

  @Test
  void anOpaThatIsDownFailsClosedWithTheReasonAndIsCounted() throws Exception {
    String url = "http://127.0.0.1:" + closedPort();
    try (OpaServerEngine e = new OpaServerEngine(url, "rev")) {
      Decision d = decided(e.evaluate(input("GET", "crm", "sales", null)));
      assertEquals("policy_error", d.failure());
      assertEquals(PolicyAction.DENY, d.action());
      assertTrue(
          d.reasons().get(0).contains("OPA at " + url + " unreachable: Connection refused"),
          d.reasons().toString());
      decided(e.evaluate(input("GET", "crm", "sales", null)));
      assertEquals(Map.of("policy_error", 2L), e.failClosedCounts());
    }
  }

  @Test
  void aSlowOpaTimesOutWithinTheDeadlineAndTheCallRunsOffTheCallersThread() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    String url = startFake(exchange -> {
      arrived.countDown();
      awaitQuietly(release);
      exchange.close();
    });
    try (OpaServerEngine e = new OpaServerEngine(url, "rev", Duration.ofMillis(300), 2, 8)) {
      long start = System.nanoTime();
      CompletableFuture<Decision> pending =
          e.evaluate(input("GET", "crm", "sales", null)).toCompletableFuture();
      assertTrue(arrived.await(10, TimeUnit.SECONDS), "the fake OPA never got the call");

      // The blocking HTTP call is in flight now: find the thread making it.
      List<String> callers = threadsInsideTheOpaClient();
      assertFalse(callers.isEmpty(), "no thread is inside opa-java-client");
      for (String name : callers) {
        assertTrue(name.startsWith("countersign-opa-client-"), name);
        assertFalse(name.equals(Thread.currentThread().getName()), name);
      }

      Decision d = pending.get(5, TimeUnit.SECONDS);
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertEquals("policy_timeout", d.failure(), d.toString());
      assertTrue(d.reasons().get(0).contains("did not answer within 300 ms"), d.reasons().toString());
      assertTrue(tookMs >= 300 && tookMs < 2_000, "took " + tookMs + " ms");
      assertEquals(Map.of("policy_timeout", 1L), e.failClosedCounts());
      // The timed-out call was interrupted, so the client thread is free again.
      await(Duration.ofSeconds(5), "the timed-out call to leave opa-java-client",
          () -> threadsInsideTheOpaClient().isEmpty());
    }
  }

  @Test
  void aFullQueueFailsClosedAtOnceInsteadOfWaiting() throws Exception {
    String url = startFake(exchange -> {
      awaitQuietly(release);
      exchange.close();
    });
    OpaServerEngine e = new OpaServerEngine(url, "rev", Duration.ofSeconds(5), 1, 1);
    try {
      CompletableFuture<Decision> running = e.evaluate(input("GET", "crm", "a", null)).toCompletableFuture();
      CompletableFuture<Decision> queued = e.evaluate(input("GET", "crm", "b", null)).toCompletableFuture();
      Decision rejected = decided(e.evaluate(input("GET", "crm", "c", null)));
      assertEquals("policy_error", rejected.failure());
      assertTrue(rejected.reasons().get(0).contains("too many policy calls"), rejected.toString());
      assertFalse(running.isDone() || queued.isDone());
      e.close();
      assertEquals("policy_error", queued.get(5, TimeUnit.SECONDS).failure(), "queued call fails on close");
      assertEquals("policy_error", running.get(5, TimeUnit.SECONDS).failure(), "running call fails on close");
    } finally {
      e.close();
    }
  }

  @Test
  void anOpaAnsweringWithAServerErrorOrBadJsonFailsClosedAsPolicyError() throws Exception {
    String url = startFake(exchange -> {
      byte[] body;
      int status;
      if (exchange.getRequestURI().getPath().equals("/v1/data/countersign/decision")
          && new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
              .contains("\"agent\":\"broken-json\"")) {
        status = 200;
        body = "{\"result\": {".getBytes(StandardCharsets.UTF_8);
      } else {
        status = 500;
        body = "{\"code\":\"internal_error\"}".getBytes(StandardCharsets.UTF_8);
      }
      exchange.sendResponseHeaders(status, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    try (OpaServerEngine e = new OpaServerEngine(url, "rev")) {
      Decision status = decided(e.evaluate(input("GET", "crm", "sales", null)));
      assertEquals("policy_error", status.failure());
      assertTrue(status.reasons().get(0).contains("status code: 500"), status.toString());
      Decision json = decided(e.evaluate(input("GET", "crm", "broken-json", null)));
      assertEquals("policy_error", json.failure());
      assertTrue(json.reasons().get(0).contains("unusable answer"), json.toString());
    }
  }

  @Test
  void theRequestBodyIsThePolicyInputAsPolicyJsonWritesIt() throws Exception {
    List<String> bodies = new ArrayList<>();
    String url = startFake(exchange -> {
      synchronized (bodies) {
        bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      }
      byte[] body = "{\"result\":{\"risk\":\"low\",\"action\":\"allow\"}}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    PolicyInput in = input("POST", "crm", "sales", amount(5));
    try (OpaServerEngine e = new OpaServerEngine(url + "/", "rev")) {
      assertFalse(decided(e.evaluate(in)).isFailure());
    }
    String expected =
        "{\"input\":" + new String(PolicyJson.toJson(in), StandardCharsets.UTF_8) + "}";
    assertEquals(
        PolicyJson.mapper().readTree(expected), PolicyJson.mapper().readTree(bodies.get(0)));
  }

  private static List<String> threadsInsideTheOpaClient() {
    List<String> names = new ArrayList<>();
    Thread.getAllStackTraces().forEach((t, stack) -> {
      for (StackTraceElement frame : stack) {
        if (frame.getClassName().startsWith("com.bisnode.opa.client.query.")) {
          names.add(t.getName());
          break;
        }
      }
    });
    return names;
  }

  private interface Handler {
    void handle(com.sun.net.httpserver.HttpExchange exchange) throws IOException;
  }

  private String startFake(Handler handler) throws IOException {
    fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    fakeThreads = Executors.newCachedThreadPool();
    fake.setExecutor(fakeThreads);
    fake.createContext("/", handler::handle);
    fake.start();
    return "http://127.0.0.1:" + fake.getAddress().getPort();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
