package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import io.countersign.proxy.support.JsonRpcUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An MCP route (kind: mcp) end to end, through both engines (a managed OPA and the wasm build of
 * the shipped rego/), a real Chronicle ledger and a JSON-RPC server on 127.0.0.1: a tool call the
 * catalog allows reaches the server byte for byte, a denied one never does, and the ledger's
 * {@code exchange.decided} holds {@code input.mcp} as the policy saw it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class McpRouteIT {
  private static final String SESSION = "3f9c2a-session";
  private JsonRpcUpstream upstream;
  private final Map<Engine, ProxyFixture> proxies = new EnumMap<>(Engine.class);

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    upstream = new JsonRpcUpstream();
    for (Engine e : Engine.values()) {
      ProxyConfig base = ProxyFixture.config(e, null, upstream.url(), tmp.resolve(e.name()),
          ProxyFixture.upstreamSettings(Duration.ofSeconds(10)), ProxyFixture.limits());
      proxies.put(e, ProxyFixture.start(new ProxyConfig("support-bot",
          new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
          base.limits(), base.policy(), base.ledgerDir(), base.upstream(),
          List.of(new ProxyConfig.RouteConfig("support-mcp", "/mcp", upstream.url(), null,
              RequestRules.STRICT, RouteKind.MCP)),
          base.approvals())));
    }
  }

  @AfterAll
  void stop() {
    proxies.values().forEach(ProxyFixture::close);
    upstream.close();
  }

  private static String id(HttpResponse<String> r) {
    return r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
  }

  /** The requests the server got while {@code call} ran. */
  private List<JsonRpcUpstream.Received> during(Runnable call) {
    int before = upstream.received().size();
    call.run();
    List<JsonRpcUpstream.Received> all = upstream.received();
    return all.subList(before, all.size());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void anAllowedToolCallReachesTheServerByteForByteAndTheLedgerHoldsInputMcp(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    // spacing, key order and an escaped character that a re-serialization would change
    String body = "{ \"method\":\"tools/call\", \"jsonrpc\":\"2.0\",\"id\":7,\n \"params\":{\"name\":"
        + "\"lookup_customer\",\"arguments\":{\"id\":\"c-42\",\"note\":\"caf\\u00e9\"}}}";
    AtomicReference<HttpResponse<String>> r = new AtomicReference<>();
    List<JsonRpcUpstream.Received> got = during(() -> r.set(proxy.send("POST", "/mcp", body,
        "Accept", "application/json, text/event-stream", "Mcp-Session-Id", SESSION,
        "MCP-Protocol-Version", "2025-06-18")));
    assertEquals(200, r.get().statusCode(), r.get().body());
    JsonNode answer = ProxyFixture.json(r.get().body());
    assertEquals(7, answer.path("id").asInt());
    assertEquals("called lookup_customer", answer.path("result").path("content").path(0)
        .path("text").asText());
    assertEquals(1, got.size());
    assertArrayEquals(body.getBytes(StandardCharsets.UTF_8), got.get(0).body(), "byte for byte");
    assertEquals(SESSION, got.get(0).headers().get("mcp-session-id"));
    assertEquals("2025-06-18", got.get(0).headers().get("mcp-protocol-version"));

    JsonNode decided = proxy.awaitLedger(id(r.get()), 2).get(0);
    assertEquals("exchange.decided", decided.path("type").asText());
    JsonNode mcp = decided.path("body").path("mcp");
    assertEquals("tools/call", mcp.path("method").asText());
    assertEquals("lookup_customer", mcp.path("tool").asText());
    assertEquals("caf\u00e9", mcp.path("arguments").path("note").asText());
    assertEquals(7, mcp.path("request_id").asInt());
    assertEquals(SESSION, mcp.path("session_id").asText());
    assertEquals("2025-06-18", mcp.path("protocol_version").asText());
    assertEquals(false, mcp.path("is_notification").asBoolean(true));
    JsonNode decision = decided.path("body").path("decision");
    assertEquals("allow", decision.path("action").asText());
    assertEquals("read_only", decision.path("risk").asText());
    assertEquals("support-mcp.lookup_customer", decision.path("rule").asText());
    assertEquals(engine.name().toLowerCase(), decision.path("engine").asText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aDeniedToolCallNeverReachesTheServer(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    String body = "{\"jsonrpc\":\"2.0\",\"id\":\"d-1\",\"method\":\"tools/call\",\"params\":{\"name\":"
        + "\"delete_customer\",\"arguments\":{\"id\":\"c-42\"}}}";
    AtomicReference<HttpResponse<String>> r = new AtomicReference<>();
    List<JsonRpcUpstream.Received> got = during(() -> r.set(proxy.send("POST", "/mcp", body,
        "Mcp-Session-Id", SESSION, "MCP-Protocol-Version", "2025-06-18")));
    assertEquals(403, r.get().statusCode(), r.get().body());
    assertTrue(r.get().body().contains("agents may not delete customers"), r.get().body());
    assertEquals(List.of(), got, "a denied call is not forwarded");
    List<JsonNode> events = proxy.awaitLedger(id(r.get()), 2);
    JsonNode mcp = events.get(0).path("body").path("mcp");
    assertEquals("delete_customer", mcp.path("tool").asText());
    assertEquals("d-1", mcp.path("request_id").asText());
    assertEquals("support-mcp.delete_customer_forbidden",
        events.get(0).path("body").path("decision").path("rule").asText());
    assertEquals("denied", events.get(1).path("body").path("outcome").asText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aRefundAboveTheLimitIsHeldAndNotForwarded(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    String body = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":"
        + "\"issue_refund\",\"arguments\":{\"amount\":950,\"order\":\"o-7\"}}}";
    AtomicReference<HttpResponse<String>> r = new AtomicReference<>();
    List<JsonRpcUpstream.Received> got = during(() -> r.set(proxy.send("POST", "/mcp", body,
        "Prefer", "respond-async", "Mcp-Session-Id", SESSION)));
    assertEquals(202, r.get().statusCode(), r.get().body());
    assertEquals(List.of(), got, "held, so not forwarded yet");
    JsonNode decided = proxy.awaitLedger(id(r.get()), 1).get(0);
    assertEquals("support-mcp.refund_large", decided.path("body").path("decision").path("rule")
        .asText());
    assertEquals(950, decided.path("body").path("mcp").path("arguments").path("amount").asInt());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void theEventStreamGetAndTheSessionDeletePassWithNoMessage(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    for (String method : List.of("GET", "DELETE")) {
      AtomicReference<HttpResponse<String>> r = new AtomicReference<>();
      List<JsonRpcUpstream.Received> got = during(() -> r.set(proxy.send(method, "/mcp", null,
          "Accept", "text/event-stream", "Mcp-Session-Id", SESSION)));
      assertEquals(method.equals("GET") ? 405 : 204, r.get().statusCode(), method + " " + r.get().body());
      assertEquals(1, got.size(), method + " forwarded");
      assertEquals(SESSION, got.get(0).headers().get("mcp-session-id"));
      JsonNode decided = proxy.awaitLedger(id(r.get()), 2).get(0);
      JsonNode mcp = decided.path("body").path("mcp");
      assertTrue(mcp.isObject(), method + ": " + decided);
      assertTrue(mcp.path("method").isMissingNode() || mcp.path("method").isNull(), method);
      assertEquals(SESSION, mcp.path("session_id").asText());
      assertEquals(method, decided.path("body").path("request").path("method").asText());
      assertEquals(method.equals("GET") ? "support-mcp.event_stream" : "support-mcp.session_end",
          decided.path("body").path("decision").path("rule").asText());
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aBatchWithOneDeniedMessageIsRefusedWhole(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    String body = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
        + "\"lookup_customer\",\"arguments\":{}}},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
        + "\"tools/call\",\"params\":{\"name\":\"delete_customer\",\"arguments\":{}}}]";
    AtomicReference<HttpResponse<String>> r = new AtomicReference<>();
    List<JsonRpcUpstream.Received> got = during(() -> r.set(proxy.send("POST", "/mcp", body,
        "MCP-Protocol-Version", "2025-03-26")));
    assertEquals(403, r.get().statusCode(), r.get().body());
    assertEquals(List.of(), got);
    JsonNode mcp = proxy.awaitLedger(id(r.get()), 1).get(0).path("body").path("mcp");
    assertEquals(2, mcp.path("batch").size());
    assertEquals("delete_customer", mcp.path("batch").path(1).path("tool").asText());
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void whatIsNotJsonRpcOrABatchOnALaterRevisionIsRefusedBeforeThePolicy(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    record Bad(String body, String version, String code) {}
    for (Bad b : List.of(
        new Bad("{\"id\":1,\"method\":\"tools/list\"}", "2025-06-18", "mcp_invalid_message"),
        new Bad("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]", "2025-11-25",
            "mcp_batch_not_allowed"))) {
      AtomicReference<HttpResponse<String>> r = new AtomicReference<>();
      List<JsonRpcUpstream.Received> got = during(() -> r.set(proxy.send("POST", "/mcp",
          b.body(), "MCP-Protocol-Version", b.version())));
      assertEquals(400, r.get().statusCode(), r.get().body());
      JsonNode error = ProxyFixture.json(r.get().body());
      assertEquals(b.code(), error.path("error").asText(), r.get().body());
      assertEquals(List.of(), got);
      JsonNode rejected = proxy.awaitLedger(error.path("exchange_id").asText(), 1).get(0);
      assertEquals("exchange.rejected", rejected.path("type").asText());
      assertTrue(rejected.toString().contains(b.code()), rejected.toString());
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void initializeGetsTheServersSessionIdBack(Engine engine) {
    ProxyFixture proxy = proxies.get(engine);
    HttpResponse<String> r = proxy.send("POST", "/mcp", "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
        + "\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
        + "\"clientInfo\":{\"name\":\"it\",\"version\":\"1\"}}}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("session-from-server", r.headers().firstValue("mcp-session-id").orElse(null));
    assertEquals("support-mcp.protocol", proxy.awaitLedger(id(r), 1).get(0).path("body")
        .path("decision").path("rule").asText());
  }

  /** An MCP message (or batch) and the rule the shipped policy applies to it. */
  record Call(String body, String expectedRule) {}

  private static final List<Call> CALLS = List.of(
      new Call("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", "support-mcp.list"),
      new Call("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", "support-mcp.protocol"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":\"s-9\",\"result\":{}}", "support-mcp.client_response"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
          + "\"issue_refund\",\"arguments\":{\"amount\":200}}}", "support-mcp.refund_small"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
          + "\"issue_refund\",\"arguments\":{\"amount\":200.5}}}", "support-mcp.refund_large"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
          + "\"issue_refund\",\"arguments\":{\"amount\":\"lots\"}}}", "support-mcp.refund_invalid"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
          + "\"drop_tables\"}}", "mcp.tool_not_allowed"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/read\",\"params\":{\"uri\":"
          + "\"crm://customers/42\"}}", "support-mcp.read_customer_record"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/read\",\"params\":{\"uri\":"
          + "\"crm://payroll/1\"}}", "mcp.resource_not_allowed"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"prompts/get\",\"params\":{\"name\":"
          + "\"refund_letter\",\"arguments\":{\"tone\":\"warm\"}}}", "support-mcp.refund_letter"),
      new Call("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"sampling/createMessage\"}",
          "mcp.method_not_allowed"),
      new Call("[{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":"
          + "\"list_orders\"}},{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\","
          + "\"params\":{\"name\":\"issue_refund\",\"arguments\":{\"amount\":900}}}]",
          "support-mcp.refund_large"));

  @org.junit.jupiter.api.Test
  void bothEnginesDecideEveryMcpCallAlike() {
    List<String> mismatches = new java.util.ArrayList<>();
    for (Call c : CALLS) {
      JsonNode[] decisions = new JsonNode[2];
      int i = 0;
      for (Engine e : Engine.values()) {
        ProxyFixture proxy = proxies.get(e);
        HttpResponse<String> r = proxy.send("POST", "/mcp", c.body(), "Prefer", "respond-async");
        JsonNode d = proxy.awaitLedger(id(r), 1).get(0).path("body").path("decision").deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) d).remove("engine");
        decisions[i++] = d;
        assertEquals(c.expectedRule(), d.path("rule").asText(), e + ": " + c.body());
      }
      if (!decisions[0].equals(decisions[1])) {
        mismatches.add(c.body() + "\n  opa:  " + decisions[0] + "\n  wasm: " + decisions[1]);
      }
      if (c.expectedRule().equals("support-mcp.list")) {
        assertEquals("[\"issue_refund\",\"list_orders\",\"lookup_customer\"]",
            decisions[1].path("obligations").path("mcp").path("listable_tools").toString(),
            "the listable tools, from the wasm build too: " + decisions[1]);
      }
    }
    assertEquals(List.of(), mismatches);
  }
}
