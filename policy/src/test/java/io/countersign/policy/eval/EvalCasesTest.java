package io.countersign.policy.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.PolicyJson;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvalCasesTest {

  static JsonNode json(String text) {
    try {
      return PolicyJson.mapper().readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Test
  void shortFormExpandsToTheInputTheProxyWouldBuild() {
    List<EvalCase> cases = EvalCases.read("f.json", json("""
        {"defaults": {"caller": {"agent": "sales-assistant", "workflow": "quote-prep", "account": "acme"},
                      "time": "2026-11-25T10:00:00Z", "spend": {"workflow_today": 3}},
         "cases": [{"note": "n", "request": "PATCH crm /v3/deals/42?b=2&a=%41&q=x%20y",
                    "body": {"discount_pct": 15}, "caller": {"tool": "update_deal", "account": null},
                    "want": {"action": "allow", "rule": "crm.deal_update"}}]}
        """));
    PolicyInput in = cases.get(0).input();
    assertEquals("PATCH", in.request().method());
    assertEquals("crm", in.request().route());
    assertEquals("/crm/v3/deals/42", in.request().path());
    assertEquals("/v3/deals/42", in.request().upstreamPath());
    assertEquals(Map.of("b", List.of("2"), "a", List.of("A"), "q", List.of("x y")), in.request().query());
    assertEquals(Map.of("content-type", "application/json"), in.request().headers());
    assertEquals(15, in.request().body().path("discount_pct").asInt());
    assertEquals("{\"discount_pct\":15}".length(), in.request().size());
    assertEquals(EvalCases.sha256("{\"discount_pct\":15}".getBytes(java.nio.charset.StandardCharsets.UTF_8)), in.request().bodySha256());
    assertEquals("sales-assistant", in.caller().agent());
    assertEquals("quote-prep", in.caller().workflow());
    assertEquals("update_deal", in.caller().tool());
    assertNull(in.caller().account(), "a case may clear a default");
    assertEquals("2026-11-25T10:00:00Z", in.context().time());
    assertEquals(Map.of("workflow_today", 3L), in.context().spend());
    assertEquals(new Expectation("allow", null, "crm.deal_update"), cases.get(0).want());
  }

  @Test
  void shortFormWithoutBodyHasNoContentTypeAndTheEmptyDigest() {
    PolicyInput in = EvalCases.read("f", json("""
        {"cases": [{"note": "n", "request": {"method": "GET", "route": "crm", "path": "/v3/deals"},
                    "query": {"limit": 10, "tag": ["a", "b"]}, "want": {"action": "allow"}}]}
        """)).get(0).input();
    assertEquals(Map.of(), in.request().headers());
    assertNull(in.request().body());
    assertEquals(0, in.request().size());
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", in.request().bodySha256());
    assertEquals(Map.of("limit", List.of("10"), "tag", List.of("a", "b")), in.request().query());
    assertEquals(EvalCases.DEFAULT_TIME, in.context().time());
  }

  @Test
  void fullInputIsUsedAsWritten() {
    PolicyInput in = EvalCases.read("f", json("""
        {"cases": [{"note": "n", "want": {"rule": "default_deny"},
          "input": {"request": {"method": "PUT", "route": "crm", "path": "/crm/x", "upstream_path": "/x",
                                "query": {}, "headers": {}, "body": null, "body_sha256": "00", "size": 0},
                    "caller": {"agent": "sales-assistant", "on_behalf_of": "ana@example.com"},
                    "context": {"time": "2026-11-25T10:00:00Z", "spend": {"agent_today": 2}}}}]}
        """)).get(0).input();
    assertEquals("/x", in.request().upstreamPath());
    assertEquals("ana@example.com", in.caller().onBehalfOf());
    assertEquals(Map.of("agent_today", 2L), in.context().spend());
  }

  @Test
  void aMisspelledKeyIsRefusedNamingTheFileTheCaseAndTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalCases.read("quote.yaml", json("""
        {"cases": [{"note": "ok", "request": "GET crm /v3", "want": {"action": "allow"}},
                   {"note": "typo", "request": "GET crm /v3", "wnat": {"action": "allow"}}]}
        """)));
    assertTrue(e.getMessage().startsWith("quote.yaml: case 2 (typo): unknown key 'wnat'"), e.getMessage());
  }

  @Test
  void aCaseThatExpectsNothingIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalCases.read("f", json("""
        {"cases": [{"note": "n", "request": "GET crm /v3", "want": {}}]}
        """)));
    assertTrue(e.getMessage().contains("names at least one of action, risk, rule"), e.getMessage());
  }

  @Test
  void aCaseWithBothFormsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalCases.read("f", json("""
        {"cases": [{"note": "n", "request": "GET crm /v3", "input": {}, "want": {"action": "allow"}}]}
        """)));
    assertTrue(e.getMessage().contains("either 'input'"), e.getMessage());
  }

  @Test
  void aMalformedRequestLineIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalCases.read("f", json("""
        {"cases": [{"note": "n", "request": "GET /v3", "want": {"action": "allow"}}]}
        """)));
    assertTrue(e.getMessage().contains("METHOD ROUTE /upstream/path"), e.getMessage());
  }

  @Test
  void aFileWithoutCasesIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> EvalCases.read("f", json("{\"cases\": []}")));
    assertThrows(IllegalArgumentException.class, () -> EvalCases.read("f", json("[1]")));
  }
}
