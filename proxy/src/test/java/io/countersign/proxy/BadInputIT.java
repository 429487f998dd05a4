package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import io.countersign.proxy.support.RawHttp;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad input gets a clear 4xx JSON error, is never sent upstream, and leaves a ledger
 * event saying why. Raw bytes over a real socket, since no HTTP client sends these.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {
  private LoopbackUpstream upstream;
  private ProxyFixture proxy;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    upstream = new LoopbackUpstream();
    proxy = ProxyFixture.start(Engine.WASM, upstream, tmp);
  }

  @AfterAll
  void stop() {
    proxy.close();
    upstream.close();
  }

  /**
   * @param note what the case is about
   * @param raw the bytes sent
   * @param status the expected status
   * @param error the expected error code
   */
  record Case(String note, String raw, int status, String error) {
    @Override
    public String toString() {
      return note;
    }
  }

  static Stream<Case> cases() {
    String h = "Host: proxy\r\n";
    return Stream.of(
        new Case("a malformed request line", "GARBAGE\r\n\r\n", 400, "malformed_request"),
        new Case("an unknown HTTP version", "GET /crm/v3/deals HTTP/9.9\r\n" + h + "\r\n", 505,
            "http_version_not_supported"),
        new Case("Content-Length with Transfer-Encoding: chunked",
            "POST /crm/v3/notes HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400, "ambiguous_framing"),
        new Case("two different Content-Lengths",
            "POST /crm/v3/notes HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            400, "malformed_request"),
        new Case("a bare LF line ending", "GET /crm/v3/deals HTTP/1.1\nHost: proxy\n\n", 400,
            "malformed_request"),
        new Case("an obs-fold header continuation",
            "GET /crm/v3/deals HTTP/1.1\r\n" + h + "X-A: one\r\n two\r\n\r\n", 400, "ambiguous_framing"),
        new Case("a header block over the limit",
            "GET /crm/v3/deals HTTP/1.1\r\n" + h + "X-Big: " + "a".repeat(9000) + "\r\n\r\n", 431,
            "headers_too_large"),
        new Case("a request line over the limit",
            "GET /crm/v3/" + "a".repeat(5000) + " HTTP/1.1\r\n" + h + "\r\n", 414, "request_line_too_long"),
        new Case("a body over the limit",
            "POST /crm/v3/notes HTTP/1.1\r\n" + h + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
            413, "body_too_large"),
        new Case("a '..' segment", get("/crm/v3/deals/../../admin"), 400, "path_dot_segment"),
        new Case("a percent-encoded '..' segment", get("/crm/v3/deals/%2e%2E/admin"), 400, "path_dot_segment"),
        new Case("a '.' segment", get("/crm/./v3/deals"), 400, "path_dot_segment"),
        new Case("an empty segment", get("/crm//v3/deals"), 400, "path_empty_segment"),
        new Case("an encoded slash", get("/crm/v3/deals%2F42"), 400, "path_encoded_separator"),
        new Case("an encoded backslash", get("/crm/v3/deals%5c42"), 400, "path_encoded_separator"),
        new Case("an encoded NUL", get("/crm/v3/deals/4%002"), 400, "path_control_character"),
        new Case("a malformed percent escape", get("/crm/v3/deals/%zz"), 400, "bad_percent_encoding"),
        new Case("an escape that is not UTF-8", get("/crm/v3/deals/%ff"), 400, "bad_encoding"),
        new Case("an absolute-form target", get("http://evil.example/crm/v3/deals"), 400, "bad_request_target"),
        new Case("a fragment in the query", get("/crm/v3/deals?a=1#frag"), 400, "bad_request_target"),
        new Case("TRACE", "TRACE /crm/v3/deals HTTP/1.1\r\n" + h + "\r\n", 405, "method_not_allowed"),
        new Case("a JSON body that is not JSON", post("{\"discount_pct\": 10,"), 400, "bad_json_body"),
        new Case("a JSON body with a repeated key",
            post("{\"discount_pct\": 10, \"discount_pct\": 90}"), 400, "bad_json_body"),
        new Case("a JSON body with trailing content", post("{\"a\":1} {\"b\":2}"), 400, "bad_json_body"),
        new Case("a JSON key and its twin in another case (Go, .NET bind one of them)",
            post("{\"discount_pct\": 10, \"Discount_Pct\": 90}"), 400, "name_case_collision"),
        new Case("a query name and its twin in another case", get("/crm/v3/deals?limit=1&LIMIT=1000"),
            400, "name_case_collision"),
        new Case("an encoded body",
            "PATCH /crm/v3/deals/42 HTTP/1.1\r\n" + h + "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
            415, "content_encoding_unsupported"),
        new Case("a body over the limit announced with Expect: 100-continue",
            "POST /crm/v3/notes HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
            413, "body_too_large"),
        new Case("an expectation other than 100-continue",
            "GET /crm/v3/deals HTTP/1.1\r\n" + h + "Expect: magic\r\n\r\n", 417, "expectation_failed"),
        new Case("a JSON number parsers read differently", post("{\"discount_pct\": 15.0000000000000001}"),
            400, "bad_json_number"),
        new Case("a repeated identity header",
            "GET /crm/v3/deals HTTP/1.1\r\n" + h + "X-Countersign-Account: a\r\nX-Countersign-Account: b\r\n\r\n",
            400, "identity_header_repeated"));
  }

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: proxy\r\n\r\n";
  }

  private static String post(String json) {
    return "PATCH /crm/v3/deals/42 HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: "
        + json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n" + json;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void badInputGetsAClearErrorIsNotForwardedAndIsRecorded(Case c) throws Exception {
    int before = upstream.received().size();
    String response = RawHttp.exchange(proxy.address(), c.raw());
    assertEquals(c.status(), RawHttp.status(response), c.note() + ": " + response);
    JsonNode body = ProxyFixture.json(RawHttp.body(response));
    assertEquals(c.error(), body.path("error").asText(), response);
    assertTrue(body.path("message").asText().length() > 10, "the error says what was wrong");
    assertEquals(before, upstream.received().size(), "nothing was sent upstream");
    List<JsonNode> events = proxy.awaitLedger(body.path("exchange_id").asText(), 1);
    assertEquals("exchange.rejected", events.get(0).path("type").asText());
    assertEquals(c.error(), events.get(0).path("body").path("error").asText());
    assertEquals(c.status(), events.get(0).path("body").path("status").asInt());
    assertEquals(body.path("message").asText(), events.get(0).path("body").path("message").asText());
  }

  @Test
  void anErrorAnswerToHeadHasNoBody() throws Exception {
    String response = RawHttp.exchange(proxy.address(),
        "HEAD /crm//v3 HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n");
    assertEquals(400, RawHttp.status(response), response);
    assertEquals("", RawHttp.body(response), response);
    assertTrue(response.toLowerCase().contains("content-length: "), response);
  }
}
