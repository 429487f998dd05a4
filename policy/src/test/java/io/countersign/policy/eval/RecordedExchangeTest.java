package io.countersign.policy.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.policy.PolicyInput;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordedExchangeTest {
  private static final Instant EVENT_TIME = Instant.parse("2026-11-25T10:00:01Z");

  @Test
  void inputIsRebuiltFromTheDecidedEventAsTheProxyBuiltIt() {
    RecordedExchange x = RecordedExchange.fromDecided("ex-1", 7, EVENT_TIME, EvalCasesTest.json("""
        {"route": "crm",
         "request": {"method": "PATCH", "path": "/crm/v3/deals/42", "upstream": "http://127.0.0.1:9000",
                     "upstream_target": "/v3/deals/42?b=2&a=A&q=x%20y&p=1%2B1&flag",
                     "query": "b=2&a=A&q=x%20y&p=1%2B1&flag", "headers": {"content-type": "application/json"},
                     "size": 19, "body_sha256": "ab", "body": {"discount_pct": 10}},
         "caller": {"agent": "sales-assistant", "workflow": "quote-prep", "run": "r-81", "on_behalf_of": null,
                    "account": "acme", "tool": "update_deal", "prompt_ref": null, "context_refs": ["doc:1"]},
         "decision": {"risk": "low", "action": "allow", "reasons": ["r"], "rule": "crm.deal_update"},
         "received_at": "2026-11-25T10:00:00.123456Z"}
        """));
    PolicyInput.Request r = x.input().request();
    assertEquals("crm", r.route());
    assertEquals("/v3/deals/42", r.upstreamPath());
    assertEquals(Map.of("b", List.of("2"), "a", List.of("A"), "q", List.of("x y"), "p", List.of("1+1"), "flag", List.of("")), r.query());
    assertEquals(10, r.body().path("discount_pct").asInt());
    assertEquals(19, r.size());
    assertEquals("ab", r.bodySha256());
    assertEquals("quote-prep", x.input().caller().workflow());
    assertEquals(List.of("doc:1"), x.input().caller().contextRefs());
    assertNull(x.input().caller().onBehalfOf());
    assertEquals("2026-11-25T10:00:00.123Z", x.input().context().time(), "to the millisecond, like the proxy");
    assertEquals(Map.of(), x.input().context().spend());
    assertEquals(new DecisionSummary("allow", "low", "crm.deal_update"), x.before());
    assertTrue(x.bodyRecorded());
    assertEquals("PATCH /crm/v3/deals/42", x.requestLine());
  }

  @Test
  void aBodyOnlyDigestedIsReplayedAsNullAndFlagged() {
    RecordedExchange x = RecordedExchange.fromDecided("ex-2", 8, EVENT_TIME, EvalCasesTest.json("""
        {"route": "billing", "request": {"method": "POST", "path": "/billing/v1/refunds",
           "upstream_target": "/v1/refunds", "query": null, "headers": {}, "size": 14, "body_sha256": "cd"},
         "caller": {}, "decision": {"risk": "low", "action": "allow", "rule": "billing.refund_small"},
         "spend": {"workflow_today": 4}}
        """));
    assertNull(x.input().request().body());
    assertFalse(x.bodyRecorded());
    assertEquals(Map.of(), x.input().request().query());
    assertEquals("2026-11-25T10:00:01Z", x.input().context().time(), "the event time without received_at");
    assertEquals(Map.of("workflow_today", 4L), x.input().context().spend());
  }

  @Test
  void anEmptyBodyCountsAsRecorded() {
    RecordedExchange x = RecordedExchange.fromDecided("ex-3", 9, EVENT_TIME, EvalCasesTest.json("""
        {"route": "crm", "request": {"method": "GET", "path": "/crm/v3", "upstream_target": "/v3", "size": 0},
         "decision": {"risk": "read_only", "action": "allow", "rule": "crm.read"}}
        """));
    assertTrue(x.bodyRecorded());
  }

  @Test
  void anEventWithoutADecisionIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> RecordedExchange.fromDecided("ex-4", 1, EVENT_TIME,
        EvalCasesTest.json("{\"request\": {}}")));
  }
}
