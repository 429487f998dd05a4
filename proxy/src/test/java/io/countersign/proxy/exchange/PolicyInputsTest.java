package io.countersign.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.RequestRecord;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.eval.DecisionSummary;
import io.countersign.policy.eval.RecordedExchange;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A replay judges the input rebuilt from the ledger as the proxy built it when it was recorded. */
class PolicyInputsTest {
  private static final Instant EVENT_TIME = Instant.parse("2026-11-25T10:00:01Z");

  private static DecisionRecord decision(String action, String risk, String rule) {
    return new DecisionRecord(risk, action, List.of("r"), rule, "rev", "wasm", null, null);
  }

  @Test
  void inputIsRebuiltFromTheDecidedEventAsTheProxyBuiltIt() {
    RequestRecord request = new RequestRecord("PATCH", "/crm/v3/deals/42", "http://127.0.0.1:9000",
        "/v3/deals/42?b=2&a=A&q=x%20y&p=1%2B1&flag", "b=2&a=A&q=x%20y&p=1%2B1&flag",
        Map.of("content-type", "application/json"), null, 19, "ab",
        JsonNodeFactory.instance.objectNode().put("discount_pct", 10));
    Caller caller = new Caller("sales-assistant", "quote-prep", "r-81", null, "acme", "update_deal",
        null, List.of("doc:1"));
    RecordedExchange x = PolicyInputs.recorded("ex-1", 7, EVENT_TIME, new ExchangeDecided("crm",
        request, caller, decision("allow", "low", "crm.deal_update"), null, 12,
        "2026-11-25T10:00:00.123456Z"));
    PolicyInput.Request r = x.input().request();
    assertEquals("crm", r.route());
    assertEquals("/v3/deals/42", r.upstreamPath());
    assertEquals(Map.of("b", List.of("2"), "a", List.of("A"), "q", List.of("x y"), "p", List.of("1+1"),
        "flag", List.of("")), r.query());
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
    RequestRecord request = new RequestRecord("POST", "/billing/v1/refunds", null, "/v1/refunds", null,
        Map.of(), null, 14, "cd", null);
    RecordedExchange x = PolicyInputs.recorded("ex-2", 8, EVENT_TIME, new ExchangeDecided("billing",
        request, null, decision("allow", "low", "billing.refund_small"), Map.of("workflow_today", 4L), 0,
        null));
    assertNull(x.input().request().body());
    assertFalse(x.bodyRecorded());
    assertEquals(Map.of(), x.input().request().query());
    assertEquals("2026-11-25T10:00:01Z", x.input().context().time(), "the event time without received_at");
    assertEquals(Map.of("workflow_today", 4L), x.input().context().spend());
  }

  @Test
  void anEmptyBodyCountsAsRecorded() {
    RequestRecord request = new RequestRecord("GET", "/crm/v3", null, "/v3", null, Map.of(), null, 0,
        null, null);
    RecordedExchange x = PolicyInputs.recorded("ex-3", 9, EVENT_TIME, new ExchangeDecided("crm",
        request, null, decision("allow", "read_only", "crm.read"), null, 0, null));
    assertTrue(x.bodyRecorded());
  }

  @Test
  void anEventWithoutADecisionIsRefused() {
    RequestRecord request = new RequestRecord("GET", "/crm/v3", null, "/v3", null, Map.of(), null, 0,
        null, null);
    assertThrows(IllegalArgumentException.class, () -> PolicyInputs.recorded("ex-4", 1, EVENT_TIME,
        new ExchangeDecided("crm", request, null, null, null, 0, null)));
  }

  @Test
  void mcpIsRecordedAndReplayedAsThePolicySawIt() {
    com.fasterxml.jackson.databind.node.ObjectNode args =
        JsonNodeFactory.instance.objectNode().put("amount", 250);
    io.countersign.ledger.event.McpRecord mcp = new io.countersign.ledger.event.McpRecord(
        "tools/call", "issue_refund", args, JsonNodeFactory.instance.numberNode(7), "s-1",
        "2025-06-18", null, null, false, false, null);
    RequestRecord request = new RequestRecord("POST", "/mcp", "http://127.0.0.1:9000", "/mcp",
        null, Map.of("content-type", "application/json"), null, 90, "ab",
        JsonNodeFactory.instance.objectNode().put("jsonrpc", "2.0"));
    RecordedExchange x = PolicyInputs.recorded("ex-9", 9, EVENT_TIME, new ExchangeDecided(
        "support-mcp", request, null, decision("hold", "high", "mcp.support.refund_large"), null, 1,
        null, mcp));
    PolicyInput.Mcp m = x.input().mcp();
    assertEquals("tools/call", m.method());
    assertEquals("issue_refund", m.tool());
    assertEquals(250, m.arguments().path("amount").asInt());
    assertEquals(7, m.requestId().asInt());
    assertEquals("s-1", m.sessionId());
    assertEquals("2025-06-18", m.protocolVersion());
    assertNull(m.batch());
    assertNull(PolicyInputs.recorded("ex-1", 1, EVENT_TIME, new ExchangeDecided("crm", request,
        null, decision("allow", "low", "r"), null, 1, null)).input().mcp(), "no mcp off MCP routes");
  }

  @Test
  void aBatchPutsEachMessageInBatchAndNoneAtTheTop() {
    io.countersign.proxy.canonical.McpCall call = new io.countersign.proxy.canonical.McpCall(
        List.of(new io.countersign.proxy.canonical.McpCall.Message(
            io.countersign.proxy.canonical.McpCall.Kind.REQUEST, "tools/call",
            JsonNodeFactory.instance.numberNode(1), "lookup_customer", null, null, null),
            new io.countersign.proxy.canonical.McpCall.Message(
                io.countersign.proxy.canonical.McpCall.Kind.NOTIFICATION,
                "notifications/progress", null, null, null, null, null)),
        true, "s-1", null);
    PolicyInput.Mcp m = PolicyInputs.mcp(call);
    assertNull(m.method());
    assertFalse(m.isNotification());
    assertEquals("s-1", m.sessionId());
    assertEquals(2, m.batch().size());
    assertEquals("lookup_customer", m.batch().get(0).tool());
    assertTrue(m.batch().get(1).isNotification());
    PolicyInput.Mcp none = PolicyInputs.mcp(new io.countersign.proxy.canonical.McpCall(List.of(),
        false, null, null));
    assertNull(none.method());
    assertNull(none.batch());
  }
}
