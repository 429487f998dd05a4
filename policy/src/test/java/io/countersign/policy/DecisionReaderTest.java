package io.countersign.policy;

import static io.countersign.policy.TestPolicies.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class DecisionReaderTest {
  private static final String REV = "sha256:0123456789abcdef";

  /** A case that must fail closed: the failure kind and a fragment its reason must contain. */
  record Failing(String note, JsonNode result, String failure, String detail) {}

  @TestFactory
  Stream<DynamicTest> malformedOrUndefinedResultsFailClosedWithTheExactProblem() {
    List<Failing> cases =
        List.of(
            new Failing("absent result (java null)", null, "policy_undefined", "undefined"),
            new Failing("missing node", MissingNode.getInstance(), "policy_undefined", "undefined"),
            new Failing("json null", NullNode.getInstance(), "policy_undefined", "undefined"),
            new Failing("a string, not an object", json("\"allow\""), "policy_invalid",
                "decision is a string (\"allow\"), expected an object"),
            new Failing("an array", json("[1]"), "policy_invalid", "expected an object"),
            new Failing("risk missing", json("{\"action\":\"allow\"}"), "policy_invalid",
                "decision.risk is missing, expected a string"),
            new Failing("risk is a number", json("{\"risk\":3,\"action\":\"allow\"}"),
                "policy_invalid", "decision.risk is a number (3), expected a string"),
            new Failing("unknown risk", json("{\"risk\":\"medium\",\"action\":\"allow\"}"),
                "policy_invalid", "unknown risk class 'medium'"),
            new Failing("unknown action", json("{\"risk\":\"low\",\"action\":\"maybe\"}"),
                "policy_invalid", "unknown action 'maybe'"),
            new Failing("action is a boolean", json("{\"risk\":\"low\",\"action\":true}"),
                "policy_invalid", "decision.action is a boolean (true), expected a string"),
            new Failing("deny without reasons",
                json("{\"risk\":\"high\",\"action\":\"deny\",\"reasons\":[]}"), "policy_invalid",
                "decision.action is deny but decision.reasons is empty"),
            new Failing("hold with reasons missing", json("{\"risk\":\"high\",\"action\":\"hold\"}"),
                "policy_invalid", "decision.action is hold but decision.reasons is empty"),
            new Failing("reasons is a string",
                json("{\"risk\":\"high\",\"action\":\"deny\",\"reasons\":\"no\"}"), "policy_invalid",
                "decision.reasons is a string (\"no\"), expected an array of strings"),
            new Failing("a reason is a number",
                json("{\"risk\":\"high\",\"action\":\"deny\",\"reasons\":[\"ok\",7]}"),
                "policy_invalid", "decision.reasons[1] is a number (7), expected a string"),
            new Failing("rule is an object",
                json("{\"risk\":\"low\",\"action\":\"allow\",\"rule\":{}}"), "policy_invalid",
                "decision.rule is a object ({}), expected a string"));
    return cases.stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.note(),
                    () -> {
                      Decision d = DecisionReader.read(c.result(), REV);
                      assertTrue(d.isFailure(), c.note() + ": expected a failure, got " + d);
                      assertEquals(c.failure(), d.failure(), c.note());
                      assertEquals(PolicyAction.DENY, d.action(), c.note());
                      assertEquals(RiskClass.HIGH, d.risk(), c.note());
                      assertEquals(REV, d.revision(), c.note());
                      assertTrue(
                          d.reasons().get(0).contains(c.detail()),
                          c.note() + ": reason '" + d.reasons().get(0) + "' lacks '" + c.detail()
                              + "'");
                    }));
  }

  /** A well-formed decision and what it must read as. */
  record Valid(String note, JsonNode result, Decision expected) {}

  @TestFactory
  Stream<DynamicTest> wellFormedDecisionsAreReadWithTheirObligationsKept() {
    List<Valid> cases =
        List.of(
            new Valid(
                "allow without reasons or rule",
                json("{\"risk\":\"read_only\",\"action\":\"allow\"}"),
                new Decision(RiskClass.READ_ONLY, PolicyAction.ALLOW, List.of(), null,
                    json("{}"), REV, null)),
            new Valid(
                "allow with a null rule and obligations",
                json("{\"risk\":\"low\",\"action\":\"allow\",\"reasons\":[],\"rule\":null,"
                    + "\"record\":{\"body\":\"digest\"},\"cost\":1}"),
                new Decision(RiskClass.LOW, PolicyAction.ALLOW, List.of(), null,
                    json("{\"record\":{\"body\":\"digest\"},\"cost\":1}"), REV, null)),
            new Valid(
                "hold with approval, rollback, record and cost",
                json("{\"risk\":\"high\",\"action\":\"hold\",\"reasons\":[\"discount above 15%\"],"
                    + "\"rule\":\"discount_limit\","
                    + "\"approval\":{\"group\":\"sales-managers\",\"quorum\":1,\"timeout\":\"PT30M\","
                    + "\"on_timeout\":\"deny\"},"
                    + "\"rollback\":{\"method\":\"PATCH\",\"path\":\"/v3/deals/42\"},"
                    + "\"record\":{\"body\":\"digest\"},\"cost\":1.5}"),
                new Decision(RiskClass.HIGH, PolicyAction.HOLD, List.of("discount above 15%"),
                    "discount_limit",
                    json("{\"approval\":{\"group\":\"sales-managers\",\"quorum\":1,"
                        + "\"timeout\":\"PT30M\",\"on_timeout\":\"deny\"},"
                        + "\"rollback\":{\"method\":\"PATCH\",\"path\":\"/v3/deals/42\"},"
                        + "\"record\":{\"body\":\"digest\"},\"cost\":1.5}"),
                    REV, null)),
            new Valid(
                "deny with reasons",
                json("{\"risk\":\"draft\",\"action\":\"deny\",\"reasons\":[\"a\",\"b\"],"
                    + "\"rule\":\"r\"}"),
                new Decision(RiskClass.DRAFT, PolicyAction.DENY, List.of("a", "b"), "r",
                    json("{}"), REV, null)));
    return cases.stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.note(),
                    () -> {
                      Decision d = DecisionReader.read(c.result(), REV);
                      assertFalse(d.isFailure(), c.note() + ": " + d);
                      assertEquals(c.expected(), d, c.note());
                    }));
  }

  @Test
  void readingDoesNotModifyThePolicyResult() {
    JsonNode result = json("{\"risk\":\"low\",\"action\":\"allow\",\"cost\":1}");
    DecisionReader.read(result, REV);
    assertEquals(json("{\"risk\":\"low\",\"action\":\"allow\",\"cost\":1}"), result);
  }
}
