package io.countersign.proxy.canonical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a request on an MCP route is read into {@code input.mcp}: single messages, batches where
 * the revision allows them, the bodiless GET and DELETE, and the refusals of what is not JSON-RPC.
 * Every request built here is released.
 */
class McpMessagesTest {
  private static final RouteTable ROUTES = RouteTable.from(List.of(
      new RouteConfig("support-mcp", "/mcp", "http://127.0.0.1:9000", null, RequestRules.STRICT,
          RouteKind.MCP),
      new RouteConfig("crm", "/crm", "http://127.0.0.1:9000", null)), Map.of());

  private final Canonicalizer canonicalizer = new Canonicalizer(ROUTES, "support-bot");

  private static FullHttpRequest request(String method, String uri, String body, String... headers) {
    FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
        uri, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    r.headers().add("Host", "proxy");
    if (!body.isEmpty()) {
      r.headers().add("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      r.headers().add(headers[i], headers[i + 1]);
    }
    return r;
  }

  private static FullHttpRequest post(String body, String... headers) {
    return request("POST", "/mcp", body, headers);
  }

  /** Canonicalizes and returns the MCP reading, after checking the bytes forwarded are the bytes sent. */
  private McpCall read(FullHttpRequest r) throws RequestRejectedException {
    byte[] sent = ByteBufUtil.getBytes(r.content());
    try {
      CanonicalRequest c = canonicalizer.canonicalize(r);
      try {
        assertEquals(new String(sent, StandardCharsets.UTF_8),
            c.body().toString(StandardCharsets.UTF_8), "the body is forwarded as received");
        return c.mcp();
      } finally {
        c.release();
      }
    } finally {
      r.release();
    }
  }

  private RequestRejectedException refused(FullHttpRequest r) {
    return assertThrows(RequestRejectedException.class, () -> read(r));
  }

  @Test
  void toolsCallGivesTheToolItsArgumentsTheIdAndTheSessionHeaders() throws Exception {
    McpCall call = read(post("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
        + "\"params\":{\"name\":\"issue_refund\",\"arguments\":{\"amount\":250,\"order\":\"o-1\"}}}",
        "Mcp-Session-Id", "s-123", "MCP-Protocol-Version", "2025-06-18"));
    McpCall.Message m = call.single();
    assertEquals(McpCall.Kind.REQUEST, m.kind());
    assertEquals("tools/call", m.method());
    assertEquals("issue_refund", m.tool());
    assertEquals(250, m.arguments().path("amount").asInt());
    assertEquals(7, m.id().asInt());
    assertTrue(m.id().isIntegralNumber());
    assertEquals("s-123", call.sessionId());
    assertEquals("2025-06-18", call.protocolVersion());
    assertFalse(call.batch());
  }

  @Test
  void resourcesReadAndPromptsGetAreReadByUriAndName() throws Exception {
    McpCall.Message r = read(post("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"resources/read\","
        + "\"params\":{\"uri\":\"crm://customers/42\"}}")).single();
    assertEquals("crm://customers/42", r.uri());
    assertEquals("a", r.id().textValue());
    assertNull(r.tool());
    McpCall.Message p = read(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\","
        + "\"params\":{\"name\":\"refund_letter\",\"arguments\":{\"tone\":\"warm\"}}}")).single();
    assertEquals("refund_letter", p.prompt());
    assertEquals("warm", p.arguments().path("tone").asText());
  }

  @Test
  void notificationsAndClientResponsesAreMessagesToo() throws Exception {
    McpCall.Message n = read(post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"))
        .single();
    assertTrue(n.isNotification());
    assertNull(n.id());
    McpCall.Message r = read(post("{\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"result\":{}}")).single();
    assertEquals(McpCall.Kind.RESPONSE, r.kind());
    assertNull(r.method());
    McpCall.Message e = read(post("{\"jsonrpc\":\"2.0\",\"id\":null,"
        + "\"error\":{\"code\":-32700,\"message\":\"parse error\"}}")).single();
    assertEquals(McpCall.Kind.RESPONSE, e.kind());
  }

  @Test
  void theEventStreamGetAndTheSessionDeleteCarryNoMessage() throws Exception {
    McpCall get = read(request("GET", "/mcp", "", "Accept", "text/event-stream",
        "Mcp-Session-Id", "s-1"));
    assertEquals(List.of(), get.messages());
    assertNull(get.single());
    assertEquals("s-1", get.sessionId());
    McpCall delete = read(request("DELETE", "/mcp", "", "Mcp-Session-Id", "s-1"));
    assertEquals(List.of(), delete.messages());
  }

  @Test
  void aBatchIsReadMessageByMessageWhereTheRevisionAllowsIt() throws Exception {
    String batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
        + "\"lookup_customer\",\"arguments\":{\"id\":\"c-1\"}}},"
        + "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}]";
    for (String[] headers : new String[][] {{}, {"MCP-Protocol-Version", "2025-03-26"}}) {
      McpCall call = read(post(batch, headers));
      assertTrue(call.batch());
      assertNull(call.single());
      assertEquals(2, call.messages().size());
      assertEquals("lookup_customer", call.messages().get(0).tool());
      assertTrue(call.messages().get(1).isNotification());
    }
  }

  @Test
  void aBatchIsRefusedOnRevisionsThatRemovedBatching() {
    String batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]";
    for (String version : List.of("2025-06-18", "2025-11-25", "draft")) {
      RequestRejectedException e = refused(post(batch, "MCP-Protocol-Version", version));
      assertEquals(400, e.status());
      assertEquals("mcp_batch_not_allowed", e.code(), version);
    }
  }

  @Test
  void aPlainRouteIsNotReadAsMcp() throws Exception {
    FullHttpRequest r = request("POST", "/crm/v3/notes", "{\"text\":\"hi\"}");
    CanonicalRequest c = canonicalizer.canonicalize(r);
    try {
      assertNull(c.mcp());
    } finally {
      c.release();
      r.release();
    }
  }

  static Stream<Arguments> notJsonRpc() {
    return Stream.of(
        Arguments.of("{\"id\":1,\"method\":\"tools/list\"}", "no jsonrpc member"),
        Arguments.of("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"tools/list\"}", "another version"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", "a method that is no string"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", "an empty method"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"tools/list\"}", "a null id"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"tools/list\"}", "a fractional id"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"tools/list\"}", "a boolean id"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":[1]}",
            "params that are an array"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\"}", "a tool call without a name"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":3}}",
            "a tool name that is no string"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
            + "\"x\",\"arguments\":[1]}}", "arguments that are no object"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{}}",
            "a resource read without a uri"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":{}}",
            "a prompt without a name"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"result\":{}}",
            "a method and a result"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1}", "neither method nor result"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,"
            + "\"message\":\"m\"}}", "a result and an error"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
            "an error code that is no integer"),
        Arguments.of("{\"jsonrpc\":\"2.0\",\"result\":{}}", "a result without an id"),
        Arguments.of("\"tools/list\"", "a string"),
        Arguments.of("[]", "an empty batch"),
        Arguments.of("[1]", "a batch of a number"),
        Arguments.of("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}]",
            "initialize in a batch"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("notJsonRpc")
  void aBodyThatIsNotJsonRpcIsRefusedWith400(String body, String note) {
    RequestRejectedException e = refused(post(body));
    assertEquals(400, e.status(), note);
    assertEquals("mcp_invalid_message", e.code(), note + ": " + e.getMessage());
  }

  @Test
  void aPostWithoutABodyIsRefused() {
    RequestRejectedException e = refused(post(""));
    assertEquals("mcp_invalid_message", e.code());
  }

  @Test
  void aMessageSentWithAnotherMethodThanPostIsRefused() {
    for (String method : List.of("PUT", "PATCH", "DELETE", "GET")) {
      RequestRejectedException e = refused(request(method, "/mcp",
          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}"));
      assertEquals("mcp_invalid_message", e.code(), method);
      assertTrue(e.getMessage().contains("sent with POST"), e.getMessage());
    }
  }

  @Test
  void aBodyThatIsNotJsonIsRefusedWith415() {
    FullHttpRequest r = request("POST", "/mcp", "");
    r.content().writeCharSequence("name=x", StandardCharsets.US_ASCII);
    r.headers().set("Content-Type", "application/x-www-form-urlencoded");
    RequestRejectedException e = refused(r);
    assertEquals(415, e.status());
    assertEquals("mcp_body_not_json", e.code());
  }

  @Test
  void invalidJsonKeepsTheJsonBodyRefusal() {
    assertEquals("bad_json_body", refused(post("{\"jsonrpc\":")).code());
  }

  @Test
  void aRepeatedOrMalformedSessionOrRevisionHeaderIsRefused() {
    String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";
    assertEquals("mcp_invalid_header",
        refused(post(body, "Mcp-Session-Id", "a", "Mcp-Session-Id", "b")).code());
    assertEquals("mcp_invalid_header",
        refused(post(body, "MCP-Protocol-Version", "2025-06-18", "MCP-Protocol-Version", "2025-03-26"))
            .code());
  }
}
