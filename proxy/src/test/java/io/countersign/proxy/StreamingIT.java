package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.ProxyFixture;
import io.countersign.proxy.support.ScriptedUpstream;
import io.countersign.proxy.support.StreamingAgent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streamed answers (issue 13): an answer without Content-Length, or an event stream, reaches the
 * agent piece by piece as the upstream sends it, with the upstream's socket as back-pressure, the
 * credential cleaned even when split across pieces, and the ledger recording size, SHA-256, the
 * events and how the stream ended; a stream that did not end properly cuts the agent's connection.
 */
class StreamingIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static ScriptedUpstream upstream;
  private static ProxyFixture proxy;
  private static ProxyFixture tight;

  @TempDir
  static Path tmp;

  @BeforeAll
  static void start() {
    upstream = new ScriptedUpstream();
    proxy = ProxyFixture.start(ProxyFixture.config(Engine.WASM, null, upstream.url(),
        tmp.resolve("ledger"), ProxyFixture.upstreamSettings(Duration.ofSeconds(10)),
        ProxyFixture.limits()));
    ProxyConfig.Upstream small = new ProxyConfig.Upstream(Duration.ofSeconds(2),
        Duration.ofSeconds(10), 1 << 20, 16, null,
        new ProxyConfig.Streaming(Duration.ofMillis(700), 1 << 20, 64 * 1024, 100));
    tight = ProxyFixture.start(ProxyFixture.config(Engine.WASM, null, upstream.url(),
        tmp.resolve("tight-ledger"), small, ProxyFixture.limits()));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    tight.close();
    upstream.close();
  }

  private static StreamingAgent agent(ProxyFixture to, String path) {
    return new StreamingAgent(to.address(),
        "GET /crm/v3/" + path + " HTTP/1.1\r\nHost: crm\r\n\r\n", 0);
  }

  private static final String SSE_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

  @Test
  void eventsReachTheAgentAsTheyAreSentAndTheLedgerRecordsThem() {
    try (StreamingAgent agent = agent(proxy, "events")) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write(SSE_HEAD).chunk("data: one\n\n");
      String head = agent.head(WAIT);
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      assertTrue(head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked"), head);
      // the first event is here while the upstream's stream is still open
      agent.awaitBody("data: one\n\n", WAIT);
      up.chunk("event: update\r\ndata: two\r").chunk("\ndata: 2b\r\n\r\n").write("0\r\n\r\n");
      String body = agent.readToEnd(WAIT);
      assertTrue(agent.ended(), "the stream ended properly");
      assertEquals("data: one\n\nevent: update\r\ndata: two\r\ndata: 2b\r\n\r\n", body);
      JsonNode response = completed(proxy, agent).path("response");
      assertEquals(200, response.path("status").asInt());
      assertEquals(body.getBytes(StandardCharsets.UTF_8).length, response.path("size").asLong());
      assertEquals(sha256(agent.bodyBytes()), response.path("body_sha256").asText());
      JsonNode stream = response.path("stream");
      assertEquals("complete", stream.path("ended").asText(), stream.toString());
      assertEquals(2, stream.path("event_count").asInt(), stream.toString());
      assertEquals("one", stream.path("events").get(0).path("data").asText());
      assertEquals("update", stream.path("events").get(1).path("event").asText());
      assertEquals("two\n2b", stream.path("events").get(1).path("data").asText());
      assertFalse(response.path("headers").has("transfer-encoding"), response.toString());
    }
  }

  @Test
  void aCloseDelimitedJsonAnswerStreamsAndIsRecordedAsJson() {
    try (StreamingAgent agent = agent(proxy, "close-delimited")) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
          .write("{\"deal\":").write("42}");
      up.close();
      agent.head(WAIT);
      String body = agent.readToEnd(WAIT);
      assertTrue(agent.ended());
      assertEquals("{\"deal\":42}", body);
      JsonNode response = completed(proxy, agent).path("response");
      assertEquals(42, response.path("body").path("deal").asInt(), response.toString());
      assertEquals("complete", response.path("stream").path("ended").asText());
      assertTrue(response.path("stream").path("prefix_complete").asBoolean(), response.toString());
    }
  }

  @Test
  void anUpstreamThatBreaksMidStreamCutsTheAgentsConnection() {
    try (StreamingAgent agent = agent(proxy, "breaks")) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
          .chunk("half of it");
      agent.head(WAIT);
      agent.awaitBody("half of it", WAIT);
      up.close(); // no last chunk
      agent.readToEnd(WAIT);
      assertTrue(agent.cut(), "the agent must see the body was cut, not complete");
      JsonNode stream = completed(proxy, agent).path("response").path("stream");
      assertEquals("upstream_broke", stream.path("ended").asText(), stream.toString());
      assertEquals("half of it", stream.path("prefix").asText());
    }
  }

  @Test
  void theCredentialIsRemovedEvenWhenSplitAcrossPieces() {
    String token = ProxyFixture.CRM_TOKEN;
    try (StreamingAgent agent = agent(proxy, "echo-stream")) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      assertTrue(up.requestHead().contains(token), "the proxy injects the credential");
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
              + "Connection: close\r\n\r\n")
          .chunk("you sent Bearer " + token.substring(0, 5))
          .chunk(token.substring(5, 9))
          .chunk(token.substring(9) + " and more")
          .write("0\r\n\r\n");
      agent.head(WAIT);
      String body = agent.readToEnd(WAIT);
      assertFalse(body.contains(token.substring(3)), body);
      // the longest form found is the whole header value, scheme included
      assertEquals("you sent [removed-by-countersign] and more", body);
      JsonNode stream = completed(proxy, agent).path("response").path("stream");
      assertTrue(stream.path("credential_scrubbed").asBoolean(), stream.toString());
    }
  }

  @Test
  void anAgentThatStopsReadingStopsTheUpstreamAndThenGetsEveryByte() throws Exception {
    int total = 64 << 20;
    byte[] piece = new byte[64 * 1024];
    for (int i = 0; i < piece.length; i++) {
      piece[i] = (byte) ('a' + i % 26);
    }
    try (StreamingAgent agent = new StreamingAgent(proxy.address(),
        "GET /crm/v3/big HTTP/1.1\r\nHost: crm\r\n\r\n", 64 * 1024)) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      AtomicLong written = new AtomicLong();
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        up.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for (long sent = 0; sent < total; sent += piece.length) {
          up.write(Integer.toHexString(piece.length) + "\r\n").write(piece).write("\r\n");
          written.addAndGet(piece.length);
        }
        up.write("0\r\n\r\n");
      });
      agent.head(WAIT);
      // the agent reads nothing more: the upstream's writes must stall at what the socket buffers
      // hold, not run to the end into the proxy's memory
      Await.until("the upstream to have written into the buffers", WAIT, () -> written.get() > 0);
      long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (System.nanoTime() < deadline) {
        assertTrue(written.get() < 32L << 20,
            "the proxy kept reading although the agent did not: " + written.get() + " bytes");
        assertFalse(writer.isDone(), "the whole body went through without the agent reading");
        LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
      }
      agent.readToEnd(Duration.ofSeconds(60));
      writer.get();
      assertTrue(agent.ended());
      assertEquals(total, agent.bodyBytes().length);
      JsonNode response = completed(proxy, agent).path("response");
      assertEquals(total, response.path("size").asLong());
      assertEquals(sha256(agent.bodyBytes()), response.path("body_sha256").asText());
      assertEquals(64 * 1024, response.path("stream").path("prefix").asText().length());
    }
  }

  @Test
  void anHttp10AgentGetsTheStreamDelimitedByTheClose() {
    try (StreamingAgent agent = new StreamingAgent(proxy.address(),
        "GET /crm/v3/old-client HTTP/1.0\r\nHost: crm\r\n\r\n", 0)) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
          + "Connection: close\r\n\r\n").chunk("line 1\n").chunk("line 2\n").write("0\r\n\r\n");
      String head = agent.head(WAIT);
      assertFalse(head.toLowerCase(Locale.ROOT).contains("transfer-encoding"), head);
      assertTrue(head.toLowerCase(Locale.ROOT).contains("connection: close"), head);
      assertEquals("line 1\nline 2\n", agent.readToEnd(WAIT));
    }
  }

  @Test
  void aStreamPastTheSizeLimitIsCutAndRecordedAsLimit() {
    try (StreamingAgent agent = agent(tight, "too-long")) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
      agent.head(WAIT);
      String kib = "x".repeat(1024);
      CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < 2048; i++) {
            up.chunk(kib);
          }
        } catch (RuntimeException proxyClosed) {
          // expected once the limit is hit
        }
      });
      agent.readToEnd(WAIT);
      assertTrue(agent.cut());
      assertTrue(agent.bodyBytes().length <= 1 << 20, "no more than the limit reaches the agent");
      JsonNode stream = completed(tight, agent).path("response").path("stream");
      assertEquals("limit", stream.path("ended").asText(), stream.toString());
      assertTrue(up.closedByProxy(WAIT), "the upstream connection is closed");
    }
  }

  @Test
  void aSilentUpstreamIsCutAfterTheIdleTimeout() {
    try (StreamingAgent agent = agent(tight, "silent")) {
      ScriptedUpstream.Connection up = upstream.next(WAIT);
      up.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
          .chunk("data: hello\n\n");
      agent.head(WAIT);
      agent.readToEnd(WAIT);
      assertTrue(agent.cut());
      assertEquals("data: hello\n\n", agent.body());
      JsonNode stream = completed(tight, agent).path("response").path("stream");
      assertEquals("idle_timeout", stream.path("ended").asText(), stream.toString());
      assertTrue(up.closedByProxy(WAIT));
    }
  }

  @Test
  void anAgentThatLeavesMidStreamEndsItAsAgentGoneAndTheUpstreamIsClosed() {
    String id;
    ScriptedUpstream.Connection up;
    try (StreamingAgent agent = agent(proxy, "leaver")) {
      up = upstream.next(WAIT);
      up.write(SSE_HEAD).chunk("data: first\n\n");
      agent.head(WAIT);
      id = agent.exchangeId();
      agent.awaitBody("data: first", WAIT);
    } // the agent closes its connection
    assertTrue(up.closedByProxy(WAIT), "the proxy closes the upstream stream nobody reads");
    JsonNode stream = proxy.awaitLedger(id, 2).get(1).path("body").path("response").path("stream");
    assertEquals("agent_gone", stream.path("ended").asText(), stream.toString());
    assertEquals(1, stream.path("event_count").asInt());
  }

  @Test
  void noCredentialByteReachesTheLedgerFiles() throws IOException {
    theCredentialIsRemovedEvenWhenSplitAcrossPieces();
    byte[] secret = ProxyFixture.CRM_TOKEN.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> files = Files.walk(tmp.resolve("ledger"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertFalse(contains(Files.readAllBytes(f), secret), f + " holds the credential");
      }
    }
  }

  private static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (hay[i + k] != needle[k]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** The body of the exchange's {@code exchange.completed}, by the id in the agent's head. */
  private static JsonNode completed(ProxyFixture p, StreamingAgent agent) {
    JsonNode outcome = p.awaitLedger(agent.exchangeId(), 2).get(1);
    assertEquals("exchange.completed", outcome.path("type").asText(), outcome.toString());
    assertEquals("forwarded", outcome.path("body").path("outcome").asText());
    return outcome.path("body");
  }

  private static String sha256(byte[] bytes) throws RuntimeException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
