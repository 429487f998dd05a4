package io.countersign.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyAction;
import io.countersign.policy.RiskClass;
import io.countersign.proxy.config.ErrorFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One test group per dialect: the body each official SDK reads, and the status it gets. */
class ErrorDialectTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ID = "0193b2f4-6a10-7a7e-8b0c-5e6f7a8b9c0d";
  private static final Decision DENY = new Decision(RiskClass.HIGH, PolicyAction.DENY,
      List.of("agents may not delete deals"), "crm.deal_delete_forbidden", null, "sha256:4f1c", null);
  private static final Refusal DENIED = new Refusal(403, "denied", "denied by policy", ID, DENY, null);
  private static final Refusal HOLD_DENIED = new Refusal(403, "approval_denied",
      "denied by bob@example.com: margin too thin", ID,
      new Decision(RiskClass.HIGH, PolicyAction.HOLD, List.of("discount above 15%"),
          "crm.discount", null, "sha256:4f1c", null), "apr-7");
  private static final Refusal TIMEOUT = Refusal.error(504, "upstream_timeout",
      "the upstream did not answer within 30000 ms", ID);

  private static JsonNode body(Answer a) {
    try {
      return JSON.readTree(a.body().toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError(e);
    } finally {
      a.release();
    }
  }

  private static JsonNode write(ErrorFormat f, String requestJson, Refusal r, int status, String type) {
    try {
      Answer a = ErrorDialect.of(f, requestJson == null ? null : JSON.readTree(requestJson)).write(r);
      assertEquals(status, a.code());
      assertEquals(type, a.headers().get("content-type"));
      assertEquals(ID, a.headers().get(Answers.EXCHANGE_ID_HEADER));
      assertEquals(a.body().readableBytes(), a.headers().getInt("content-length"));
      return body(a);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theExplainedMessageNamesRuleReasonsTicketAndExchange() {
    assertEquals("denied by policy [rule crm.deal_delete_forbidden: agents may not delete deals,"
        + " exchange " + ID + "]", DENIED.explained());
    assertEquals("denied by bob@example.com: margin too thin [rule crm.discount: discount above 15%,"
        + " ticket apr-7, exchange " + ID + "]", HOLD_DENIED.explained());
    Decision failed = Decision.failClosed("policy_timeout", "OPA did not answer", "r1");
    String said = String.join("; ", failed.reasons());
    assertEquals(said + " [exchange " + ID + "]",
        new Refusal(403, "policy_unavailable", said, ID, failed, null).explained(),
        "a fail-closed message is its reason, said once");
  }

  @Test
  void problemDetailsAreRfc9457AndKeepTheEarlierFields() {
    JsonNode b = write(ErrorFormat.PROBLEM, null, DENIED, 403, "application/problem+json");
    assertEquals("urn:countersign:error:denied", b.path("type").asText());
    assertEquals("Denied", b.path("title").asText());
    assertEquals(403, b.path("status").asInt());
    assertEquals(DENIED.explained(), b.path("detail").asText());
    assertEquals("denied", b.path("error").asText());
    assertEquals("denied by policy", b.path("message").asText());
    assertEquals(ID, b.path("exchange_id").asText());
    assertEquals("high", b.path("risk").asText());
    assertEquals("deny", b.path("action").asText());
    assertEquals("crm.deal_delete_forbidden", b.path("rule").asText());
    assertEquals("agents may not delete deals", b.path("reasons").path(0).asText());
    assertEquals("sha256:4f1c", b.path("policy_revision").asText());
    assertFalse(b.has("ticket"));

    JsonNode plain = write(ErrorFormat.PROBLEM, null, TIMEOUT, 504, "application/problem+json");
    assertEquals("Upstream timeout", plain.path("title").asText());
    assertFalse(plain.has("rule"), "no decision, no decision fields");
    assertEquals("apr-7", write(ErrorFormat.PROBLEM, null, HOLD_DENIED, 403,
        "application/problem+json").path("ticket").asText());
  }

  @Test
  void openAiErrorsAreTheApisErrorObjectWithTheReasonInItsMessage() {
    JsonNode e = write(ErrorFormat.OPENAI, null, DENIED, 403, "application/json").path("error");
    assertEquals(DENIED.explained(), e.path("message").asText());
    assertEquals("permission_error", e.path("type").asText());
    assertTrue(e.has("param") && e.path("param").isNull());
    assertEquals("denied", e.path("code").asText());
    assertEquals("crm.deal_delete_forbidden", e.path("countersign").path("rule").asText());
    assertEquals(ID, e.path("countersign").path("exchange_id").asText());

    assertEquals("server_error",
        write(ErrorFormat.OPENAI, null, TIMEOUT, 504, "application/json").path("error").path("type").asText());
    assertEquals("invalid_request_error", write(ErrorFormat.OPENAI, null,
        Refusal.error(400, "bad_json_body", "not JSON", ID), 400, "application/json")
        .path("error").path("type").asText());
    assertEquals("rate_limit_error", write(ErrorFormat.OPENAI, null,
        new Refusal(429, "too_many_pending", "retry later", ID, DENY, null), 429, "application/json")
        .path("error").path("type").asText());
  }

  @Test
  void stripeErrorsUseStripesTypesAndCarryTheReason() {
    JsonNode e = write(ErrorFormat.STRIPE, null, HOLD_DENIED, 403, "application/json").path("error");
    assertEquals("invalid_request_error", e.path("type").asText());
    assertEquals("approval_denied", e.path("code").asText());
    assertEquals(HOLD_DENIED.explained(), e.path("message").asText());
    assertEquals("apr-7", e.path("countersign").path("ticket").asText());
    assertEquals("api_error",
        write(ErrorFormat.STRIPE, null, TIMEOUT, 504, "application/json").path("error").path("type").asText());
  }

  @Test
  void jsonRpcAnswersARequestWith200AndItsId() {
    JsonNode b = write(ErrorFormat.JSONRPC,
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{}}", DENIED, 200,
        "application/json");
    assertEquals("2.0", b.path("jsonrpc").asText());
    assertEquals(7, b.path("id").asInt());
    assertTrue(b.path("id").isInt(), "the id keeps its JSON type");
    assertEquals(JsonRpcErrors.REFUSED_BY_POLICY, b.path("error").path("code").asInt());
    assertEquals(DENIED.explained(), b.path("error").path("message").asText());
    JsonNode data = b.path("error").path("data");
    assertEquals("denied", data.path("error").asText());
    assertEquals(403, data.path("http_status").asInt());
    assertEquals("crm.deal_delete_forbidden", data.path("rule").asText());

    assertEquals("r-1", write(ErrorFormat.JSONRPC, "{\"jsonrpc\":\"2.0\",\"id\":\"r-1\",\"method\":\"x\"}",
        TIMEOUT, 200, "application/json").path("id").asText());
  }

  @Test
  void jsonRpcAnswersANotificationOrUnreadableBodyWithTheStatusAndNoId() {
    JsonNode notification = write(ErrorFormat.JSONRPC, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}",
        DENIED, 403, "application/json");
    assertTrue(notification.path("id").isNull());
    assertEquals(JsonRpcErrors.REFUSED_BY_POLICY, notification.path("error").path("code").asInt());
    JsonNode batch = write(ErrorFormat.JSONRPC, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}]",
        TIMEOUT, 504, "application/json");
    assertTrue(batch.path("id").isNull());
    assertEquals(JsonRpcErrors.UPSTREAM_FAILED, batch.path("error").path("code").asInt());
    assertEquals(JsonRpcErrors.PARSE_ERROR, write(ErrorFormat.JSONRPC, null,
        Refusal.error(400, "bad_json_body", "not JSON", ID), 400, "application/json")
        .path("error").path("code").asInt());
    assertEquals(JsonRpcErrors.INVALID_REQUEST, write(ErrorFormat.JSONRPC, null,
        Refusal.error(400, "path_dot_segment", "no ..", ID), 400, "application/json")
        .path("error").path("code").asInt());
    assertEquals(JsonRpcErrors.INTERNAL_ERROR, write(ErrorFormat.JSONRPC, null,
        Refusal.error(503, "ledger_unavailable", "full", ID), 503, "application/json")
        .path("error").path("code").asInt());
    assertTrue(write(ErrorFormat.JSONRPC, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"a\"}", DENIED,
        403, "application/json").path("id").isNull(), "a null id is no request id");
  }
}
