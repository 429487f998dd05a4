package io.countersign.policy;

import static io.countersign.policy.TestPolicies.amount;
import static io.countersign.policy.TestPolicies.input;
import static io.countersign.policy.TestPolicies.json;
import static io.countersign.policy.TestPolicies.opaBinary;
import static io.countersign.policy.TestPolicies.policyDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WasmEngineTest {
  @TempDir static Path work;

  private static ManagedOpa opa;
  private static OpaServerEngine server;
  private static WasmEngine wasm;
  private static WasmBundle bundle;

  @BeforeAll
  static void start() {
    String revision = PolicyRevision.ofDirectory(policyDir());
    opa = ManagedOpa.start(opaBinary(), policyDir());
    server = new OpaServerEngine(opa.url(), revision);
    wasm = WasmEngine.fromDirectory(opaBinary(), policyDir(), work);
    bundle = WasmBundle.read(work.resolve("bundle.tar.gz"));
  }

  @AfterAll
  static void stop() {
    if (wasm != null) {
      wasm.close();
    }
    if (server != null) {
      server.close();
    }
    if (opa != null) {
      opa.close();
    }
  }

  /** One parity case: an input and the action and rule both engines must agree on. */
  record Case(String note, PolicyInput input, String action, String rule, String failure) {}

  private static final List<Case> CASES =
      List.of(
          new Case("read on crm is allowed", input("GET", "crm", "sales", null), "allow", "read_methods", null),
          new Case("HEAD counts as a read", input("HEAD", "crm", "sales", null), "allow", "read_methods", null),
          new Case("small crm write is allowed", input("PATCH", "crm", "sales", amount(500)), "allow", "small_write", null),
          new Case("large crm write is held", input("PATCH", "crm", "sales", amount(1200)), "hold", "amount_limit", null),
          new Case("billing write under its own limit", input("POST", "billing", "sales", amount(40)), "allow", "small_write", null),
          new Case("billing limit comes from data (50)", input("POST", "billing", "sales", amount(60)), "hold", "amount_limit", null),
          new Case("fractional amount just above the limit", input("POST", "billing", "sales", amount(50.5)), "hold", "amount_limit", null),
          new Case("write without a body uses amount 0", input("POST", "billing", "sales", null), "allow", "small_write", null),
          new Case("string amount orders above numbers", input("PATCH", "crm", "sales", amount("abc")), "hold", "amount_limit", null),
          new Case("method not on the route is denied", input("DELETE", "crm", "sales", null), "deny", "method_not_allowed", null),
          new Case("blocked agent from data is denied (sprintf)", input("GET", "crm", "rogue-bot", null), "deny", "blocked_agent", null),
          new Case("non-ASCII input survives both engines",
              input("PATCH", "crm", "vendedor-ñ", amount(5000), "/v3/deals/über-42"), "hold", "amount_limit", null),
          new Case("unknown route is undefined", input("GET", "payroll", "sales", null), "deny", null, "policy_undefined"),
          new Case("nested body object is fine",
              input("POST", "crm", "sales", json("{\"amount\":1,\"lines\":[{\"sku\":\"a\"}]}")), "allow", "small_write", null));

  @Test
  void wasmAndOpaServerMakeIdenticalDecisionsOnEveryCase() throws Exception {
    assertEquals(server.revision(), wasm.revision());
    for (Case c : CASES) {
      Decision fromServer = server.evaluate(c.input()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      Decision fromWasm = wasm.evaluate(c.input()).toCompletableFuture().getNow(null);
      assertEquals(c.action(), fromServer.action().wireName(), c.note() + ": " + fromServer);
      assertEquals(c.rule(), fromServer.rule(), c.note());
      assertEquals(c.failure(), fromServer.failure(), c.note() + ": " + fromServer);
      assertEquals(fromServer, fromWasm, c.note());
    }
  }

  @Test
  void evaluationRunsOnTheCallingThreadAndReturnsACompletedStage() {
    CompletableFuture<Decision> f = wasm.evaluate(input("GET", "crm", "sales", null)).toCompletableFuture();
    assertTrue(f.isDone());
    assertEquals("read_methods", f.join().rule());
  }

  @Test
  void manyEvaluationsInARowOnSeveralThreadsStayCorrect() throws Exception {
    // Each thread alternates answers that depend on data (limits, routes, blocked agents), so an
    // instance that lost its data or entry point after the first call would be caught at once.
    List<Case> rotation = List.of(CASES.get(4), CASES.get(5), CASES.get(3), CASES.get(2), CASES.get(10), CASES.get(12));
    List<Decision> expected = new ArrayList<>();
    for (Case c : rotation) {
      expected.add(server.evaluate(c.input()).toCompletableFuture().get(10, TimeUnit.SECONDS));
    }
    int threads = 4;
    int rounds = 2_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    WasmEngine wasm = new WasmEngine(bundle, server.revision());
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t;
        results.add(pool.submit(() -> {
          for (int i = 0; i < rounds; i++) {
            int k = (i + offset) % rotation.size();
            Decision d = wasm.evaluate(rotation.get(k).input()).toCompletableFuture().getNow(null);
            if (!expected.get(k).equals(d)) {
              return "round " + i + " (" + rotation.get(k).note() + "): got " + d + ", expected " + expected.get(k);
            }
          }
          return null;
        }));
      }
      for (Future<String> r : results) {
        String problem = r.get(120, TimeUnit.SECONDS);
        assertEquals(null, problem, problem);
      }
    } finally {
      pool.shutdownNow();
      wasm.close();
    }
    // Only the deliberate undefined case (last in the rotation) failed closed, once per use.
    long undefinedUses = 0;
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < rounds; i++) {
        if ((i + t) % rotation.size() == rotation.size() - 1) {
          undefinedUses++;
        }
      }
    }
    assertEquals(Map.of("policy_undefined", undefinedUses), wasm.failClosedCounts());
  }

  @Test
  void theBundleIsBuiltWithoutTestsAndReadBack() throws Exception {
    Path out = work.resolve("again");
    Path bundle = WasmBundle.build(opaBinary(), policyDir(), out);
    List<String> entries = WasmBundle.entries(bundle);
    assertTrue(entries.stream().anyMatch(e -> e.endsWith("policy.wasm")), entries.toString());
    assertFalse(entries.stream().anyMatch(e -> e.endsWith("_test.rego")), entries.toString());
    WasmBundle b = WasmBundle.read(bundle);
    assertEquals(50, b.data().path("routes").path("billing").path("max_amount").asInt());
    assertEquals(PolicyRevision.ofBundle(bundle), b.revision());
  }

  @Test
  void aBrokenPolicyFailsTheBuildNamingTheCommandAndOpasError(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("broken.rego"), "package countersign\n\ndecision := {\n");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> WasmBundle.build(opaBinary(), dir, dir.resolve("out")));
    assertTrue(e.getMessage().contains("build -t wasm -e countersign/decision"), e.getMessage());
    assertTrue(e.getMessage().contains("broken.rego"), e.getMessage());
  }

  @Test
  void aPolicyThatErrorsAtRuntimeFailsClosedAsPolicyErrorWithoutThrowing(@TempDir Path dir) throws Exception {
    // Two else-less complete rules with different values: OPA reports a conflict at eval time.
    Files.writeString(dir.resolve("conflict.rego"),
        "package countersign\n\n"
            + "decision := {\"risk\": \"low\", \"action\": \"allow\"} if input.request.method == \"GET\"\n\n"
            + "decision := {\"risk\": \"high\", \"action\": \"allow\"} if input.request.route == \"crm\"\n");
    try (WasmEngine e = WasmEngine.fromDirectory(opaBinary(), dir, dir.resolve("out"))) {
      Decision d = e.evaluate(input("GET", "crm", "sales", null)).toCompletableFuture().getNow(null);
      assertEquals("policy_error", d.failure(), d.toString());
      assertEquals(PolicyAction.DENY, d.action());
      // The instance was dropped and rebuilt: the next input decides normally.
      Decision ok = e.evaluate(input("GET", "billing", "sales", null)).toCompletableFuture().getNow(null);
      assertEquals("low", ok.risk().wireName(), ok.toString());
      assertEquals(Map.of("policy_error", 1L), e.failClosedCounts());
    }
  }
}
