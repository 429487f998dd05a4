package io.countersign.proxy.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A stand-in MCP server on 127.0.0.1 (the JDK's HTTP server) speaking the streamable HTTP
 * transport with plain JSON answers: a POSTed request gets a JSON-RPC result with its id (a tool
 * call's result names the tool), a notification or response 202, {@code initialize} a session id;
 * GET answers 405 (no event stream offered, as the spec allows) and DELETE 204. It records every
 * request's exact bytes.
 */
public final class JsonRpcUpstream implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private final List<Received> received = new CopyOnWriteArrayList<>();

  /**
   * One request as the server got it.
   *
   * @param method the HTTP method
   * @param target the request target
   * @param headers headers, lower-case names, values joined by ", "
   * @param body the exact body bytes
   */
  public record Received(String method, String target, Map<String, String> headers, byte[] body) {}

  public JsonRpcUpstream() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", this::handle);
    server.setExecutor(pool);
    server.start();
  }

  private void handle(HttpExchange ex) throws IOException {
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readAllBytes();
    }
    Map<String, String> headers = new LinkedHashMap<>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
    received.add(new Received(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), headers, body));
    switch (ex.getRequestMethod()) {
      case "POST" -> answer(ex, JSON.readTree(body));
      case "DELETE" -> {
        ex.sendResponseHeaders(204, -1);
        ex.close();
      }
      default -> {
        ex.getResponseHeaders().set("Allow", "POST, DELETE");
        ex.sendResponseHeaders(405, -1);
        ex.close();
      }
    }
  }

  private static void answer(HttpExchange ex, JsonNode message) throws IOException {
    if (message.isArray() || !message.has("id") || !message.has("method")) {
      ex.sendResponseHeaders(202, -1); // notifications and responses (and, simply, batches)
      ex.close();
      return;
    }
    String method = message.path("method").asText();
    var result = JSON.createObjectNode();
    if (method.equals("initialize")) {
      result.put("protocolVersion", "2025-06-18");
      result.putObject("capabilities").putObject("tools");
      result.putObject("serverInfo").put("name", "support").put("version", "1");
      ex.getResponseHeaders().set("Mcp-Session-Id", "session-from-server");
    } else if (method.equals("tools/call")) {
      result.putArray("content").addObject().put("type", "text")
          .put("text", "called " + message.path("params").path("name").asText());
      result.put("isError", false);
    }
    var out = JSON.createObjectNode().put("jsonrpc", "2.0");
    out.set("id", message.get("id"));
    out.set("result", result);
    byte[] bytes = JSON.writeValueAsBytes(out);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  /** The server's base URL. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Every request received so far, in arrival order. */
  public List<Received> received() {
    return new ArrayList<>(received);
  }

  /** The body of a received request as text. */
  public static String text(Received r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
