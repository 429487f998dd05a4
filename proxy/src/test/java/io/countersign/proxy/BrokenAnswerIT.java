package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.ProxyFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A broken or hostile upstream (issue 19): an answer that is not valid HTTP/1.x is never forwarded
 * or journaled as the upstream's answer; the agent gets {@code 502 upstream_bad_response} and the
 * ledger {@code exchange.failed} with the reason. An interim 1xx answer is consumed and the final
 * answer is what the agent gets and the ledger records.
 */
class BrokenAnswerIT {
  /** The raw bytes the test upstream answers for each path. */
  private static final Map<String, String> ANSWERS = Map.ofEntries(
      Map.entry("/v3/two-digit", "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok"),
      Map.entry("/v3/status-999", "HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nok"),
      Map.entry("/v3/not-http-version", "FOO/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
      Map.entry("/v3/version-2", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
      Map.entry("/v3/not-http", "hello, this is not HTTP at all\r\n\r\n"),
      Map.entry("/v3/switch", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"),
      Map.entry("/v3/bad-length", "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok"),
      Map.entry("/v3/hop-by-hop", "HTTP/1.1 200 OK\r\nConnection: close, X-Upstream-Hop\r\nX-Upstream-Hop: internal\r\n"
          + "X-Kept: yes\r\nContent-Length: 2\r\n\r\nok"),
      Map.entry("/v3/reset-content", "HTTP/1.1 205 Reset Content\r\nContent-Length: 5\r\n\r\nhello"),
      Map.entry("/v3/early-hints", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
          + "HTTP/1.1 100 Continue\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"final\":\"yes\"}\n"));

  private static ServerSocket server;
  private static final ExecutorService POOL = Executors.newCachedThreadPool();
  private static ProxyFixture proxy;

  @BeforeAll
  static void start(@TempDir Path tmp) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    POOL.execute(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          POOL.execute(() -> answer(s));
        } catch (IOException closed) {
          return;
        }
      }
    });
    proxy = ProxyFixture.start(ProxyFixture.config(Engine.WASM, null,
        "http://127.0.0.1:" + server.getLocalPort(), tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(10)), ProxyFixture.limits()));
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    server.close();
    POOL.shutdownNow();
  }

  /** Reads one request head, writes the canned answer for its path, closes. */
  private static void answer(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          return;
        }
        head.write(b);
      }
      String target = head.toString(StandardCharsets.ISO_8859_1).split(" ", 3)[1];
      String raw = ANSWERS.getOrDefault(target, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
    } catch (IOException gone) {
      // the proxy closed first: nothing to do
    }
  }

  static Stream<String> broken() {
    return Stream.of("/v3/two-digit", "/v3/status-999", "/v3/not-http-version", "/v3/version-2",
        "/v3/not-http", "/v3/switch", "/v3/bad-length");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("broken")
  void aBrokenAnswerIsA502AndTheLedgerSaysWhy(String path) {
    HttpResponse<String> r = proxy.send("GET", "/crm" + path, null);
    assertEquals(502, r.statusCode(), r.body());
    JsonNode body = ProxyFixture.json(r.body());
    assertEquals("upstream_bad_response", body.path("error").asText(), r.body());
    List<JsonNode> events = proxy.awaitLedger(body.path("exchange_id").asText(), 2);
    JsonNode outcome = events.get(1);
    assertEquals("exchange.failed", outcome.path("type").asText(), outcome.toString());
    assertEquals("upstream_bad_response", outcome.path("body").path("error").asText());
    assertEquals(body.path("message").asText(), outcome.path("body").path("message").asText());
    assertTrue(outcome.path("body").path("request_sent").asBoolean(), "the upstream may have acted");
  }

  @Test
  void headersTheUpstreamNominatesAsHopByHopAreNotPassedOnOrRecorded() {
    HttpResponse<String> r = proxy.send("GET", "/crm/v3/hop-by-hop", null);
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("x-upstream-hop").isEmpty(), r.headers().toString());
    assertEquals("yes", r.headers().firstValue("x-kept").orElseThrow());
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    JsonNode headers = proxy.awaitLedger(id, 2).get(1).path("body").path("response").path("headers");
    assertTrue(headers.has("x-kept"), headers.toString());
    assertTrue(!headers.has("x-upstream-hop") && !headers.has("connection"), headers.toString());
  }

  @Test
  void aResetContentAnswersBodyIsNeitherForwardedNorRecorded() {
    HttpResponse<String> r = proxy.send("GET", "/crm/v3/reset-content", null);
    assertEquals(205, r.statusCode());
    assertEquals("", r.body(), "205 has no content (RFC 9110 15.3.6)");
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    JsonNode response = proxy.awaitLedger(id, 2).get(1).path("body").path("response");
    assertEquals(0, response.path("size").asLong(), response.toString());
    assertEquals("0", response.path("headers").path("content-length").asText(), response.toString());
  }

  @Test
  void interimAnswersAreConsumedAndTheFinalOneIsForwardedAndRecorded() {
    HttpResponse<String> r = proxy.send("GET", "/crm/v3/early-hints", null);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"final\":\"yes\"}\n", r.body());
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    JsonNode completed = proxy.awaitLedger(id, 2).get(1);
    assertEquals("exchange.completed", completed.path("type").asText());
    assertEquals(200, completed.path("body").path("response").path("status").asInt());
  }
}
