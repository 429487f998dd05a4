package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ErrorFormat;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import io.countersign.proxy.support.ProxyFixture;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official openai Python client streams a chat completion through the proxy (issue 13): the
 * stream arrives intact and about as soon as directly, its final usage chunk is priced by the
 * shipped catalog (gpt-4o-mini) and recorded, and once the agent's 5 USD a day are spent the next
 * call is refused with the budget rule in the message the client shows. The upstream is a loopback
 * stand-in that streams as OpenAI's API documents (chat.completion.chunk events, a usage chunk,
 * data: [DONE]).
 */
class OpenAiStreamIT {
  private static final int RUNS = 5; // 1.20 USD each: the sixth call finds 6.00 USD spent
  private static HttpServer upstream;
  private static ProxyFixture proxy;
  private static Path python;

  @BeforeAll
  static void start(@TempDir Path tmp) throws IOException {
    python = Path.of(System.getProperty("countersign.python", "../.tools/venv/bin/python"));
    if (!Files.isExecutable(python)) {
      throw new AssertionError("the Python venv with the official SDKs is missing (" + python
          + "); run scripts/install-tools.sh python");
    }
    upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    upstream.setExecutor(Executors.newCachedThreadPool());
    upstream.createContext("/v1/chat/completions", ex -> {
      ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0); // chunked
      try (OutputStream out = ex.getResponseBody()) {
        for (String piece : List.of("Hel", "lo ", "there")) {
          event(out, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
              + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
              + piece + "\"},\"finish_reason\":null}],\"usage\":null}");
        }
        event(out, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
            + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":2000000,"
            + "\"completion_tokens\":1500000,\"total_tokens\":3500000}}");
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
      }
    });
    upstream.start();
    String url = "http://127.0.0.1:" + upstream.getAddress().getPort();
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, url, tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(10)), ProxyFixture.limits());
    List<ProxyConfig.RouteConfig> routes = new ArrayList<>(base.routes());
    routes.add(new ProxyConfig.RouteConfig("llm", "/llm", url,
        new ProxyConfig.Credential("Authorization", "Bearer ", "CRM_TOKEN", null),
        RequestRules.STRICT, RouteKind.HTTP, ErrorFormat.OPENAI));
    proxy = ProxyFixture.start(new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(),
        base.limits(), base.policy(), base.ledgerDir(), base.upstream(), routes, base.approvals()));
  }

  private static void event(OutputStream out, String json) throws IOException {
    out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @AfterAll
  static void stop() {
    proxy.close();
    upstream.stop(0);
  }

  @Test
  void theOfficialClientStreamsThroughTheProxyAndItsUsageIsPricedAndBudgeted() throws Exception {
    String direct = "http://127.0.0.1:" + upstream.getAddress().getPort() + "/v1";
    String proxied = "http://127.0.0.1:" + proxy.address().getPort() + "/llm/v1";
    Process p = new ProcessBuilder(python.toString(), "src/test/python/openai_stream.py", direct,
        proxied, Integer.toString(RUNS)).redirectErrorStream(true).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the client did not finish in 120 s");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), out);
    JsonNode r = ProxyFixture.json(out.substring(out.lastIndexOf('\n') + 1));
    System.out.println("openai stream, time to first chunk (median of " + RUNS + "): " + r);

    assertEquals("Hello there", r.path("text").path("direct").asText());
    assertEquals("Hello there", r.path("text").path("proxy").asText(), "the stream arrives intact");
    assertEquals(3_500_000, r.path("usage").path("proxy").asLong());
    double added = r.path("first_chunk_ms").path("proxy").asDouble()
        - r.path("first_chunk_ms").path("direct").asDouble();
    // the goal is within 5 ms on a quiet machine (the note reports the figure); this bound only
    // catches a proxy that holds the stream back (e.g. to its end)
    assertTrue(added < 250, "the first chunk came " + added + " ms later through the proxy");

    JsonNode refused = r.path("refused");
    assertEquals(403, refused.path("status").asInt(), r.toString());
    assertEquals("PermissionDeniedError", refused.path("exception").asText(), r.toString());
    // the openai dialect: the client's own message carries the rule and its reason
    assertTrue(refused.path("message").asText().contains("budget.agent_usd_micros_today"), r.toString());
    assertTrue(refused.path("message").asText().contains("daily LLM budget"), r.toString());

    long priced = proxy.ledger().stream()
        .filter(e -> "exchange.completed".equals(e.path("type").asText()))
        .map(e -> e.path("body").path("usage"))
        .filter(u -> u.path("cost_micros").asLong() == 1_200_000)
        .count();
    assertEquals(RUNS, priced, "each proxied stream's usage is recorded: 2M in, 1.5M out = 1.20 USD");
  }
}
