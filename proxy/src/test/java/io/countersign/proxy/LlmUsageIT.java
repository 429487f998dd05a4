package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.ProxyFixture;
import io.countersign.proxy.support.ScriptedUpstream;
import io.countersign.proxy.support.StreamingAgent;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * LLM calls priced by the policy (issue 13): the shipped catalog's {@code llm} route prices
 * gpt-4o-mini and gpt-4o; the proxy reads the token usage from the answer (a JSON body, or the
 * final usage chunk of an OpenAI-style chat stream), records it with the outcome, and charges it to
 * the agent's money counter, which the catalog's 5 USD daily limit then enforces. The upstream is a
 * loopback stand-in that writes answers as OpenAI's API documents them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LlmUsageIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static ScriptedUpstream upstream;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start(@TempDir Path tmp) {
    upstream = new ScriptedUpstream();
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(10)), ProxyFixture.limits());
    List<ProxyConfig.RouteConfig> routes = new ArrayList<>(base.routes());
    routes.add(new ProxyConfig.RouteConfig("llm", "/llm", upstream.url(),
        new ProxyConfig.Credential("Authorization", "Bearer ", "CRM_TOKEN", null)));
    proxy = ProxyFixture.start(new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(),
        base.limits(), base.policy(), base.ledgerDir(), base.upstream(), routes, base.approvals()));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    upstream.close();
  }

  private static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"stream\":true,"
      + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @Test
  @Order(1)
  void aStreamsFinalUsageChunkIsPricedAndRecorded() {
    try (StreamingAgent agent = new StreamingAgent(proxy.address(),
        "POST /llm/v1/chat/completions HTTP/1.1\r\nHost: llm\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + CHAT.length() + "\r\n\r\n" + CHAT, 0)) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
          + "Connection: close\r\n\r\n");
      up.chunk("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\n\n");
      agent.head(WAIT);
      agent.awaitBody("Hel", WAIT); // the first token is here before the stream ends
      up.chunk("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n")
          .chunk("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\","
              + "\"choices\":[],\"usage\":{\"prompt_tokens\":1000000,\"completion_tokens\":500000,"
              + "\"total_tokens\":1500000}}\n\n")
          .chunk("data: [DONE]\n\n").write("0\r\n\r\n");
      agent.readToEnd(WAIT);
      assertTrue(agent.ended());
      JsonNode usage = completed(agent).path("usage");
      assertEquals("gpt-4o-mini-2024-07-18", usage.path("model").asText(), usage.toString());
      assertEquals(1_000_000, usage.path("input_tokens").asLong());
      assertEquals(500_000, usage.path("output_tokens").asLong());
      assertEquals("usd", usage.path("currency").asText());
      // 1M input at 0.15 USD + 0.5M output at 0.60 USD per million = 0.45 USD
      assertEquals(450_000, usage.path("cost_micros").asLong());
    }
  }

  @Test
  @Order(2) // spends the budget
  void aJsonAnswersUsageIsPricedAndTheMoneyBudgetThenDenies() {
    String body = "{\"model\":\"gpt-4o\",\"input\":\"write a long essay\"}";
    // 200k input at 2.50 + 600k output at 10.00 per million = 6.50 USD: over the 5 USD budget
    CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() ->
        proxy.send("POST", "/llm/v1/responses", body));
    ScriptedUpstream.Connection up = upstream.next(WAIT);
    String answer = "{\"id\":\"resp_1\",\"object\":\"response\",\"model\":\"gpt-4o-2024-08-06\","
        + "\"output\":[],\"usage\":{\"input_tokens\":200000,\"output_tokens\":600000,\"total_tokens\":800000}}";
    up.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + answer.length()
        + "\r\nConnection: close\r\n\r\n" + answer);
    HttpResponse<String> r = first.join();
    assertEquals(200, r.statusCode(), r.body());
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    JsonNode usage = proxy.awaitLedger(id, 2).get(1).path("body").path("usage");
    assertEquals(6_500_000, usage.path("cost_micros").asLong(), usage.toString());

    HttpResponse<String> second = proxy.send("POST", "/llm/v1/responses", body);
    assertEquals(403, second.statusCode(), second.body());
    JsonNode refusal = ProxyFixture.json(second.body());
    assertEquals("budget.agent_usd_micros_today", refusal.path("rule").asText(), second.body());
    String decidedSpend = proxy.awaitLedger(refusal.path("exchange_id").asText(), 1).get(0)
        .path("body").path("spend").toString();
    assertTrue(decidedSpend.contains("\"agent_usd_micros_today\""), decidedSpend);
  }

  @Test
  void aModelWithoutAPriceIsDeniedBeforeAnythingIsSent() {
    HttpResponse<String> r = proxy.send("POST", "/llm/v1/chat/completions",
        "{\"model\":\"gpt-unpriced\",\"messages\":[]}");
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("llm.model_not_priced", ProxyFixture.json(r.body()).path("rule").asText());
  }

  private static JsonNode completed(StreamingAgent agent) {
    JsonNode outcome = proxy.awaitLedger(agent.exchangeId(), 2).get(1);
    assertEquals("exchange.completed", outcome.path("type").asText(), outcome.toString());
    return outcome.path("body");
  }
}
