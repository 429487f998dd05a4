package io.countersign.policy.eval;

import io.countersign.policy.PolicyInput;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.countersign.policy.WasmEngine;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Eval and replay against the project's real rego/, compiled to wasm by the real OPA. */
class EngineRunsTest {
  @TempDir static Path work;
  static WasmEngine engine;

  @BeforeAll
  static void buildThePolicy() {
    String opa = System.getProperty("countersign.opa.binary");
    String rego = System.getProperty("countersign.rego.dir");
    if (opa == null || rego == null || !Files.isExecutable(Path.of(opa))) {
      fail("countersign.opa.binary and countersign.rego.dir must name the real OPA and rego/ (the root pom sets them)");
    }
    engine = WasmEngine.fromDirectory(Path.of(opa), Path.of(rego), work);
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  private static String printed(java.util.function.Consumer<PrintWriter> print) {
    StringWriter text = new StringWriter();
    try (PrintWriter out = new PrintWriter(text)) {
      print.accept(out);
    }
    return text.toString();
  }

  @Test
  void evalReportsEveryMismatchWithTheDecisionsReasons() {
    List<EvalCase> cases = EvalCases.read("f", EvalCasesTest.json("""
        {"defaults": {"caller": {"agent": "sales-assistant"}},
         "cases": [
          {"note": "discount at the limit", "request": "PATCH crm /v3/deals/42", "body": {"discount_pct": 15},
           "want": {"action": "allow", "risk": "low", "rule": "crm.deal_update"}},
          {"note": "a wrong expectation", "request": "DELETE crm /v3/deals/42",
           "want": {"action": "allow", "rule": "crm.deal_delete_forbidden"}}]}
        """));
    EvalReport report = EvalRun.run(engine, cases);
    assertEquals(1, report.failed());
    assertTrue(report.results().get(0).passed());
    assertEquals(List.of("action"), report.results().get(1).mismatches());
    String out = printed(report::print);
    assertTrue(out.contains("ok      discount at the limit"), out);
    assertTrue(out.contains("FAIL a wrong expectation: action differ"), out);
    assertTrue(out.contains("reason: agents may not delete deals"), out);
    assertTrue(out.contains("2 cases, 1 passed, 1 failed (engine wasm, policy sha256:"), out);
  }

  @Test
  void replayReportsOnlyTheExchangesWhoseDecisionMoves() {
    List<RecordedExchange> recorded = new ArrayList<>();
    String[] discounts = {"5", "15", "16", "40"};
    // As recorded by an older policy whose limit was 20: 16 was allowed then.
    String[] before = {"allow low crm.deal_update", "allow low crm.deal_update", "allow low crm.deal_update",
        "hold high crm.deal_discount_over_limit"};
    for (int i = 0; i < discounts.length; i++) {
      String[] b = before[i].split(" ");
      var body = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
          .put("discount_pct", Integer.parseInt(discounts[i]));
      PolicyInput input = new PolicyInput(
          new PolicyInput.Request("PATCH", "crm", "/crm/v3/deals/" + i, "/v3/deals/" + i, Map.of(),
              Map.of("content-type", "application/json"), body, "x", 10),
          new PolicyInput.Caller("sales-assistant", null, null, null, null, null, null, null),
          new PolicyInput.Context("1970-01-01T00:00:00Z", Map.of()));
      recorded.add(new RecordedExchange("ex-" + i, i, input, new DecisionSummary(b[0], b[1], b[2]), true));
    }
    ReplayReport report = Replay.run(engine, recorded, ReplayExpectations.none());
    assertEquals(List.of("ex-2"), report.changes().stream().map(o -> o.exchange().exchangeId()).toList());
    assertEquals(1, report.unexpectedChanges().size());
    assertEquals(new DecisionSummary("hold", "high", "crm.deal_discount_over_limit"), report.changes().get(0).after());
    String out = printed(p -> report.print(p, "ledger/"));
    assertTrue(out.contains("crm    low   allow   3       2      -1"), out);
    assertTrue(out.contains("crm    high  hold    1       2      +1"), out);
    assertTrue(out.contains("1 changed (0 expected, 1 unexpected)"), out);
    assertTrue(out.contains("ex-2      PATCH /crm/v3/deals/2"), out);

    ReplayReport expected = Replay.run(engine, recorded,
        ReplayExpectations.parse("e", "crm.deal_update -> crm.deal_discount_over_limit\nex-0\n"));
    assertEquals(0, expected.unexpectedChanges().size());
    assertEquals(java.util.Set.of("ex-0"), expected.expectedButUnchanged());
  }
}
