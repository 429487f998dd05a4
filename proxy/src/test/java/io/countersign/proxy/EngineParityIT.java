package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OPA-server engine and the wasm engine, given the same requests through the proxy, make the
 * same decisions (risk, action, rule, reasons, obligations) and the agent sees the same answers.
 */
class EngineParityIT {

  /** A request and the rule the example policy applies to it (a note for failures). */
  record Call(String method, String path, String body, String expectedRule) {}

  private static final List<Call> CALLS = List.of(
      new Call("GET", "/crm/v3/deals/42", null, "crm.read"),
      new Call("GET", "/crm/v3/deals?stage=open&limit=10", null, "crm.read"),
      new Call("POST", "/crm/v3/notes", "{\"deal_id\": 42, \"text\": \"call went well\"}", "crm.draft_note"),
      new Call("PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 15}", "crm.deal_update"),
      new Call("PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 15.5}", "crm.deal_discount_over_limit"),
      new Call("PATCH", "/crm/v3/deals/42", "{\"discount_pct\": \"ten\"}", null),
      new Call("PATCH", "/crm/v3/deals/42", null, null),
      new Call("DELETE", "/crm/v3/deals/42", null, "crm.deal_delete_forbidden"),
      new Call("PUT", "/crm/v3/deals/42", "{\"discount_pct\": 5}", "default_deny"),
      new Call("POST", "/billing/v1/refunds", "{\"amount\": 200}", "billing.refund_small"),
      new Call("POST", "/billing/v1/refunds", "{\"amount\": 200.01}", "billing.refund_large"),
      new Call("POST", "/billing/v1/refunds", "{\"amount\": -5}", null),
      new Call("GET", "/billing/v1/invoices/7", null, "billing.read"),
      new Call("GET", "/crm/v2/legacy", null, "default_deny"));

  @Test
  void bothEnginesDecideEveryRequestAlike(@TempDir Path tmp) throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture opa = ProxyFixture.start(Engine.OPA, upstream, tmp.resolve("opa"));
        ProxyFixture wasm = ProxyFixture.start(Engine.WASM, upstream, tmp.resolve("wasm"))) {
      List<String> mismatches = new ArrayList<>();
      for (Call c : CALLS) {
        JsonNode a = decide(opa, c);
        JsonNode b = decide(wasm, c);
        String note = c.method() + " " + c.path() + " " + c.body();
        if (!a.equals(b)) {
          mismatches.add(note + "\n  opa:  " + a + "\n  wasm: " + b);
        }
        if (c.expectedRule() != null) {
          assertEquals(c.expectedRule(), a.path("decision").path("rule").asText(), note);
        }
      }
      assertEquals(List.of(), mismatches);
    }
  }

  /** The agent-visible status and the recorded decision, without what differs by engine. */
  private static JsonNode decide(ProxyFixture proxy, Call c) {
    // async, so a held request answers 202 at once instead of waiting for an approver
    HttpResponse<String> r = proxy.send(c.method(), c.path(), c.body(), "Prefer", "respond-async");
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    JsonNode decided = proxy.awaitLedger(id, 1).get(0);
    com.fasterxml.jackson.databind.node.ObjectNode out = ProxyFixture.json("{}").deepCopy();
    out.put("status", r.statusCode());
    com.fasterxml.jackson.databind.node.ObjectNode d = decided.path("body").path("decision").deepCopy();
    d.remove("engine");
    out.set("decision", d);
    return out;
  }
}
