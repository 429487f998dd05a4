package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ErrorFormat;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Python SDKs (openai, stripe; pinned in scripts/python-requirements.txt) read the
 * proxy's refusals in their route's error dialect and show the policy's rule and reasons: the
 * real proxy, the real rego/ policy (wasm), a real ledger, a loopback upstream for the APIs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SdkRefusalsIT {
  private LoopbackUpstream upstream;
  private ProxyFixture proxy;
  private Path python;
  private Path scripts;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    python = Path.of(System.getProperty("countersign.python", "../.tools/venv/bin/python"));
    if (!Files.isExecutable(python)) {
      throw new AssertionError("the Python venv with the official SDKs is missing (" + python
          + "); run scripts/install-tools.sh python");
    }
    scripts = Path.of(System.getProperty("countersign.python.scripts", "src/test/python"));
    upstream = new LoopbackUpstream();
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(1)), ProxyFixture.limits());
    List<ProxyConfig.RouteConfig> routes = List.of(
        dialect(base.routes().get(0), ErrorFormat.OPENAI),
        dialect(base.routes().get(1), ErrorFormat.STRIPE),
        new ProxyConfig.RouteConfig("tools", "/mcp", upstream.url(), null, RequestRules.STRICT,
            ErrorFormat.JSONRPC));
    proxy = ProxyFixture.start(ProxyFixture.withApprovals(new ProxyConfig(base.agentId(),
        base.agentListen(), base.adminListen(), base.limits(), base.policy(), base.ledgerDir(),
        base.upstream(), routes, base.approvals()),
        ProxyFixture.approvals(ApprovalsIT.approversFile(tmp))));
  }

  private static ProxyConfig.RouteConfig dialect(ProxyConfig.RouteConfig r, ErrorFormat f) {
    return new ProxyConfig.RouteConfig(r.name(), r.prefix(), r.upstream(), r.credential(), r.rules(), f);
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  private String agentUrl(String prefix) {
    return "http://127.0.0.1:" + proxy.address().getPort() + prefix;
  }

  /** Starts an SDK script; its one JSON line says what the SDK raised. */
  private Process sdk(String script, String baseUrl, String scenario) throws IOException {
    return new ProcessBuilder(python.toString(), scripts.resolve(script).toString(), baseUrl, scenario)
        .redirectErrorStream(true).start();
  }

  private static JsonNode result(Process p) throws Exception {
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the SDK script did not finish in 90 s");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), "the SDK script failed:\n" + out);
    String last = out.substring(out.lastIndexOf('\n') + 1);
    return ProxyFixture.json(last);
  }

  @Test
  void openAiClientRaisesPermissionDeniedErrorShowingTheRuleAndReason() throws Exception {
    int before = upstream.received().size();
    JsonNode r = result(sdk("openai_refusal.py", agentUrl("/crm/v3"), "chat"));
    assertEquals("PermissionDeniedError", r.path("exception").asText(), r.toString());
    assertEquals(403, r.path("status").asInt());
    String message = r.path("message").asText();
    assertTrue(message.startsWith("Error code: 403 - denied by policy [rule default_deny:"
        + " no rule allows POST crm/v3/chat/completions, exchange "), message);
    assertEquals("denied", r.path("code").asText());
    assertEquals("permission_error", r.path("type").asText());
    JsonNode cs = r.path("body").path("countersign");
    assertEquals("default_deny", cs.path("rule").asText());
    String id = cs.path("exchange_id").asText();
    assertTrue(message.contains(id), message);
    assertEquals(before, upstream.received().size(), "a denied call never reaches the upstream");
    List<JsonNode> events = proxy.awaitLedger(id, 2);
    assertEquals("denied", events.get(1).path("body").path("outcome").asText(), events.toString());
  }

  @Test
  void openAiClientShowsWhoDeniedAHeldCallAndItsTicket() throws Exception {
    Process p = sdk("openai_refusal.py", agentUrl("/crm/v3"), "discount");
    Await.until("the held PATCH", Duration.ofSeconds(60),
        () -> !proxy.server().approvals().pending(a -> true).isEmpty() || !p.isAlive());
    String ticket = proxy.server().approvals().pending(a -> true).get(0).id();
    AdminClient admin = new AdminClient(proxy.server().adminAddress());
    HttpResponse<String> vote = admin.vote(ticket, "deny", ApprovalsIT.BOB, "margin too thin",
        admin.digest(ticket, ApprovalsIT.BOB));
    assertEquals(200, vote.statusCode(), vote.body());
    JsonNode r = result(p);
    assertEquals("PermissionDeniedError", r.path("exception").asText(), r.toString());
    String message = r.path("message").asText();
    assertTrue(message.startsWith("Error code: 403 - denied by bob@example.com: margin too thin"
        + " [rule crm.deal_discount_over_limit: "), message);
    assertTrue(message.contains("ticket " + ticket), message);
    assertEquals("approval_denied", r.path("code").asText());
    assertEquals(ticket, r.path("body").path("countersign").path("ticket").asText());
  }

  @Test
  void openAiClientReadsABadInputRefusalAsBadRequestError() throws Exception {
    JsonNode r = result(sdk("openai_refusal.py", agentUrl("/crm/v3"), "override"));
    assertEquals("BadRequestError", r.path("exception").asText(), r.toString());
    assertEquals("override_header", r.path("code").asText());
    assertEquals("invalid_request_error", r.path("type").asText());
    assertTrue(r.path("message").asText().contains("the header x-http-method-override changes the"
        + " method"), r.toString());
  }

  @Test
  void stripeClientRaisesAStripeErrorCarryingTheReasonInsteadOfCrashing() throws Exception {
    int before = upstream.received().size();
    JsonNode r = result(sdk("stripe_refusal.py", agentUrl("/billing"), "delete"));
    assertEquals("PermissionError", r.path("exception").asText(), r.toString());
    assertTrue(r.path("is_stripe_error").asBoolean());
    assertEquals(403, r.path("status").asInt());
    assertEquals("denied", r.path("error").path("code").asText(), "Stripe's error object, e.error");
    String message = r.path("message").asText();
    assertTrue(message.startsWith("denied by policy [rule default_deny: no rule allows DELETE"
        + " billing/v1/customers/cus_1, exchange "), message);
    JsonNode error = r.path("error");
    assertEquals("invalid_request_error", error.path("type").asText());
    assertEquals("default_deny", error.path("countersign").path("rule").asText());
    assertEquals(before, upstream.received().size(), "a denied call never reaches the upstream");
  }

  @Test
  void stripeClientShowsWhoDeniedAHeldRefund() throws Exception {
    Process p = sdk("stripe_refusal.py", agentUrl("/billing"), "refund");
    Await.until("the held refund", Duration.ofSeconds(60),
        () -> !proxy.server().approvals().pending(a -> true).isEmpty() || !p.isAlive());
    String ticket = proxy.server().approvals().pending(a -> true).get(0).id();
    AdminClient admin = new AdminClient(proxy.server().adminAddress());
    HttpResponse<String> vote = admin.vote(ticket, "deny", ApprovalsIT.BOB, "no refunds this large",
        admin.digest(ticket, ApprovalsIT.BOB));
    assertEquals(200, vote.statusCode(), vote.body());
    JsonNode r = result(p);
    assertEquals("PermissionError", r.path("exception").asText(), r.toString());
    String message = r.path("message").asText();
    assertTrue(message.startsWith("denied by bob@example.com: no refunds this large [rule"
        + " billing.refund_large: "), message);
    assertTrue(message.contains("ticket " + ticket), message);
    assertEquals("approval_denied", r.path("error").path("code").asText());
    assertEquals(ticket, r.path("error").path("countersign").path("ticket").asText());
  }

  @Test
  void bothClientsReadAnUpstreamTimeoutAsTheirServerError() throws Exception {
    JsonNode o = result(sdk("openai_refusal.py", agentUrl("/crm/v3"), "timeout"));
    assertEquals("InternalServerError", o.path("exception").asText(), o.toString());
    assertEquals(504, o.path("status").asInt());
    assertEquals("upstream_timeout", o.path("code").asText());
    assertEquals("server_error", o.path("type").asText());
    assertTrue(o.path("message").asText().startsWith("Error code: 504 - the upstream did not answer"
        + " within 1000 ms [exchange "), o.toString());
    JsonNode s = result(sdk("stripe_refusal.py", agentUrl("/billing"), "timeout"));
    assertEquals("APIError", s.path("exception").asText(), s.toString());
    assertEquals(504, s.path("status").asInt());
    assertEquals("upstream_timeout", s.path("error").path("code").asText());
    assertEquals("api_error", s.path("error").path("type").asText());
    assertTrue(s.path("message").asText().startsWith("the upstream did not answer within 1000 ms"),
        s.toString());
  }

  @Test
  void aJsonRpcRouteAnswersADeniedRequest200WithItsIdAndTheReason() {
    HttpResponse<String> r = proxy.send("POST", "/mcp",
        "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\",\"params\":{\"name\":\"refund\"}}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode b = ProxyFixture.json(r.body());
    assertEquals(41, b.path("id").asInt());
    assertEquals(-32010, b.path("error").path("code").asInt());
    JsonNode data = b.path("error").path("data");
    assertEquals(403, data.path("http_status").asInt());
    String id = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
    assertEquals(id, data.path("exchange_id").asText());
    assertTrue(b.path("error").path("message").asText().contains(data.path("reasons").path(0).asText()));
    List<JsonNode> events = proxy.awaitLedger(id, 2);
    assertEquals(200, events.get(1).path("body").path("status").asInt(),
        "the ledger records the status the agent got: " + events);
  }
}
