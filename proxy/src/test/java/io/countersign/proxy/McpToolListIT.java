package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import io.countersign.proxy.support.ProxyFixture;
import io.countersign.proxy.support.ScriptedUpstream;
import io.countersign.proxy.support.StreamingAgent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An MCP server's tool list reaches the agent without the tools the policy would never let it
 * call (issue 13): the shipped support-mcp catalog lists lookup_customer, list_orders and
 * issue_refund, and denies delete_customer; a tool it does not know is not listed either. Both
 * answer forms of the streamable HTTP transport: a JSON answer, and an event stream whose event is
 * split across pieces. The upstream is a loopback stand-in writing what the MCP spec describes.
 */
class McpToolListIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String LIST = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}";
  private static final String TOOLS = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":["
      + "{\"name\":\"lookup_customer\",\"inputSchema\":{\"type\":\"object\"}},"
      + "{\"name\":\"delete_customer\",\"inputSchema\":{\"type\":\"object\"}},"
      + "{\"name\":\"issue_refund\",\"inputSchema\":{\"type\":\"object\"}},"
      + "{\"name\":\"mine_bitcoin\",\"inputSchema\":{\"type\":\"object\"}}]}}";
  private static ScriptedUpstream upstream;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start(@TempDir Path tmp) {
    upstream = new ScriptedUpstream();
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(10)), ProxyFixture.limits());
    proxy = ProxyFixture.start(new ProxyConfig("support-bot",
        new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        base.limits(), base.policy(), base.ledgerDir(), base.upstream(),
        List.of(new ProxyConfig.RouteConfig("support-mcp", "/mcp", upstream.url(), null,
            RequestRules.STRICT, RouteKind.MCP)),
        base.approvals()));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    upstream.close();
  }

  private static StreamingAgent list() {
    return new StreamingAgent(proxy.address(), "POST /mcp HTTP/1.1\r\nHost: mcp\r\n"
        + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        + "MCP-Protocol-Version: 2025-06-18\r\nContent-Length: " + LIST.length() + "\r\n\r\n" + LIST, 0);
  }

  private static List<String> names(JsonNode message) {
    List<String> out = new ArrayList<>();
    message.path("result").path("tools").forEach(t -> out.add(t.path("name").asText()));
    return out;
  }

  @Test
  void aJsonToolListLosesTheToolsTheAgentMayNeverCall() {
    try (StreamingAgent agent = list()) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
          + TOOLS.length() + "\r\nConnection: close\r\n\r\n" + TOOLS);
      String head = agent.head(WAIT);
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      String body = agent.readToEnd(WAIT);
      assertEquals(List.of("lookup_customer", "issue_refund"), names(ProxyFixture.json(body)));
      JsonNode recorded = completed(agent).path("response").path("body");
      assertEquals(List.of("lookup_customer", "issue_refund"), names(recorded), "the ledger has what the agent got");
    }
  }

  @Test
  void anEventStreamToolListIsFilteredAndTheOtherEventsPass() {
    try (StreamingAgent agent = list()) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
          + "Connection: close\r\n\r\n");
      String note = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"tools\"}}";
      up.chunk("event: message\ndata: " + note + "\n\n");
      agent.head(WAIT);
      agent.awaitBody("notifications/message", WAIT); // an event before the list passes at once
      up.chunk("event: message\ndata: " + TOOLS.substring(0, 60)).chunk(TOOLS.substring(60) + "\n\n")
          .write("0\r\n\r\n");
      String body = agent.readToEnd(WAIT);
      assertTrue(agent.ended(), body);
      String[] events = body.split("\n\n");
      assertEquals("event: message\ndata: " + note, events[0]);
      String data = events[1].substring(events[1].indexOf("data: ") + 6);
      assertEquals(List.of("lookup_customer", "issue_refund"), names(ProxyFixture.json(data)));
      assertFalse(body.contains("delete_customer") || body.contains("mine_bitcoin"), body);
      assertEquals("complete", completed(agent).path("response").path("stream").path("ended").asText());
    }
  }

  @Test
  void aToolListThatCannotBeReadIsRefusedAsAnUpstreamFailure() {
    String broken = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":\"all of them\"}}";
    try (StreamingAgent agent = list()) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
          + broken.length() + "\r\nConnection: close\r\n\r\n" + broken);
      String head = agent.head(WAIT);
      // an MCP route's dialect is jsonrpc: the 502 is a JSON-RPC error answering the request's id
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      String all = agent.readToEnd(WAIT);
      JsonNode refusal = ProxyFixture.json(all);
      assertEquals(7, refusal.path("id").asInt(), all);
      assertEquals(-32011, refusal.path("error").path("code").asInt(), all);
      assertEquals(502, refusal.path("error").path("data").path("http_status").asInt(), all);
      assertTrue(refusal.path("error").path("message").asText().contains("tools/list"), all);
    }
  }

  private static JsonNode completed(StreamingAgent agent) {
    JsonNode outcome = proxy.awaitLedger(agent.exchangeId(), 2).get(1);
    assertEquals("exchange.completed", outcome.path("type").asText(), outcome.toString());
    return outcome.path("body");
  }
}
