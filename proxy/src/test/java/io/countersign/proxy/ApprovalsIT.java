package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.countersign.proxy.approval.ApproverDirectory;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.PolicyVariant;
import io.countersign.proxy.support.ProxyFixture;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Holds end to end: real proxy, real OPA-compiled policy (wasm), real ledger, loopback sockets. */
class ApprovalsIT {
  static final String MARIA = "maria-token";
  static final String BOB = "bob-token";
  static final String FRANK = "frank-token";
  static final String ANA = "ana-token";

  @TempDir Path tmp;
  private LoopbackUpstream upstream;
  private final HttpClient agent = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new LoopbackUpstream();
  }

  @AfterEach
  void stopUpstream() {
    upstream.close();
  }

  static Path approversFile(Path dir) throws Exception {
    Path f = dir.resolve("approvers.yaml");
    Files.writeString(f, "approvers:\n"
        + entry("maria@example.com", "sales-managers", MARIA)
        + entry("bob@example.com", "sales-managers, finance", BOB)
        + entry("frank@example.com", "finance", FRANK)
        + entry("ana@example.com", "sales-managers", ANA));
    return f;
  }

  private static String entry(String name, String groups, String token) {
    return "  - name: " + name + "\n    groups: [" + groups + "]\n    token_sha256: "
        + ApproverDirectory.tokenHash(token) + "\n";
  }

  private ProxyFixture proxy(Path rego, ProxyConfig.Approvals approvals) {
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
    ProxyConfig.Policy p = base.policy();
    ProxyConfig c = ProxyFixture.withApprovals(base, approvals);
    if (rego != null) {
      c = new ProxyConfig(c.agentId(), c.agentListen(), c.adminListen(), c.limits(),
          new ProxyConfig.Policy(p.engine(), p.opaUrl(), p.opaBinary(), rego, p.timeout()),
          c.ledgerDir(), c.upstream(), c.routes(), c.approvals());
    }
    return ProxyFixture.start(c);
  }

  private ProxyFixture proxy() throws Exception {
    return proxy(null, ProxyFixture.approvals(approversFile(tmp)));
  }

  private CompletableFuture<HttpResponse<String>> agentSends(ProxyFixture p, String method, String path,
      String json, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.address().getPort() + path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(json));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return agent.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String awaitHold(ProxyFixture p) {
    Await.until("a pending approval", Duration.ofSeconds(20),
        () -> !p.server().approvals().pending(a -> true).isEmpty());
    return p.server().approvals().pending(a -> true).get(0).id();
  }

  private List<String> types(ProxyFixture p, String exchangeId) {
    return p.ledger(exchangeId).stream().map(e -> e.path("type").asText()).toList();
  }

  @Test
  void aSyncHoldApprovedByTheRightGroupIsForwardedExactlyOnce() throws Exception {
    try (ProxyFixture p = proxy()) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      var response = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
          "X-Countersign-On-Behalf-Of", "ana@example.com");
      String id = awaitHold(p);
      JsonNode list = ProxyFixture.json(admin.get("/v1/approvals?group=sales-managers", MARIA).body());
      assertEquals(1, list.path("count").asInt());
      JsonNode detail = ProxyFixture.json(admin.get("/v1/approvals/" + id, MARIA).body());
      assertEquals("crm.deal_discount_over_limit", detail.path("rule").asText());
      assertEquals(30, detail.path("request").path("body").path("discount_pct").asInt());
      assertEquals(0, upstream.received().size(), "nothing leaves before approval");

      HttpResponse<String> vote = admin.vote(id, "approve", MARIA, "customer is strategic",
          detail.path("digest").asText());
      assertEquals(200, vote.statusCode(), vote.body());
      HttpResponse<String> r = response.get(30, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(1, upstream.received().size());
      assertEquals("{\"discount_pct\": 30}", upstream.received().get(0).body());
      String x = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
      p.awaitLedger(x, 5);
      assertEquals(List.of("exchange.decided", "approval.opened", "approval.approved",
          "approval.executing", "exchange.completed"), types(p, x));
      JsonNode approved = p.ledger(x).get(2);
      assertEquals("maria@example.com", approved.path("body").path("approver").asText());
      assertEquals("customer is strategic", approved.path("body").path("reason").asText());
    }
  }

  @Test
  void aSyncHoldDeniedByAnApproverGetsA403WithTheirReason() throws Exception {
    try (ProxyFixture p = proxy()) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      var response = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 40}");
      String id = awaitHold(p);
      assertEquals(200, admin.vote(id, "deny", BOB, "margin too thin", admin.digest(id, BOB)).statusCode());
      HttpResponse<String> r = response.get(30, TimeUnit.SECONDS);
      assertEquals(403, r.statusCode());
      JsonNode body = ProxyFixture.json(r.body());
      assertEquals("approval_denied", body.path("error").asText());
      assertTrue(body.path("message").asText().contains("bob@example.com: margin too thin"), r.body());
      assertEquals(0, upstream.received().size());
    }
  }

  @Test
  void aSyncHoldThatTimesOutFailsClosed() throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"),
        c -> ((ObjectNode) c.path("approval_defaults")).put("timeout", "PT1S"));
    try (ProxyFixture p = proxy(rego, ProxyFixture.approvals(approversFile(tmp)))) {
      HttpResponse<String> r = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 40}")
          .get(30, TimeUnit.SECONDS);
      assertEquals(403, r.statusCode(), r.body());
      assertEquals("approval_expired", ProxyFixture.json(r.body()).path("error").asText());
      String x = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
      assertTrue(types(p, x).contains("approval.expired"), types(p, x).toString());
      assertEquals(0, upstream.received().size());
    }
  }

  @Test
  void twoApproversRacingOnOneHoldCauseExactlyOneUpstreamRequest() throws Exception {
    try (ProxyFixture p = proxy()) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      var response = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}");
      String id = awaitHold(p);
      String digest = admin.digest(id, MARIA);
      CountDownLatch go = new CountDownLatch(1);
      List<Integer> statuses = new CopyOnWriteArrayList<>();
      Thread[] racers = new Thread[2];
      String[] tokens = {MARIA, BOB};
      for (int i = 0; i < 2; i++) {
        String token = tokens[i];
        racers[i] = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          statuses.add(admin.vote(id, "approve", token, "ok", digest).statusCode());
        });
        racers[i].start();
      }
      go.countDown();
      for (Thread t : racers) {
        t.join(30_000);
      }
      assertEquals(200, response.get(30, TimeUnit.SECONDS).statusCode());
      assertEquals(List.of(200, 409), statuses.stream().sorted().toList());
      assertEquals(1, upstream.received().size());
    }
  }

  @Test
  void refusedApprovalsAreRejectedAndRecorded() throws Exception {
    try (ProxyFixture p = proxy()) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      var response = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
          "X-Countersign-On-Behalf-Of", "ana@example.com");
      String id = awaitHold(p);
      String digest = admin.digest(id, MARIA);
      record Attempt(String token, String digest, int status, String error) {}
      List<Attempt> attempts = List.of(
          new Attempt(ANA, digest, 403, "self_approval"),
          new Attempt(FRANK, digest, 403, "wrong_group"),
          new Attempt("not-a-token", digest, 401, "bad_token"),
          new Attempt(MARIA, "sha256:" + "0".repeat(64), 409, "digest_mismatch"));
      for (Attempt a : attempts) {
        HttpResponse<String> r = admin.vote(id, "approve", a.token(), "let me", a.digest());
        assertEquals(a.status(), r.statusCode(), r.body());
        assertEquals(a.error(), ProxyFixture.json(r.body()).path("error").asText());
      }
      assertEquals(0, upstream.received().size());
      assertEquals(200, admin.vote(id, "approve", MARIA, "fine", digest).statusCode());
      assertEquals(200, response.get(30, TimeUnit.SECONDS).statusCode());
      HttpResponse<String> replay = admin.vote(id, "approve", BOB, "again", digest);
      assertEquals(409, replay.statusCode());
      assertEquals("not_pending", ProxyFixture.json(replay.body()).path("error").asText());
      assertEquals(1, upstream.received().size());

      String x = p.server().approvals().get(id).orElseThrow().exchangeId();
      List<String> refused = p.ledger(x).stream()
          .filter(e -> e.path("type").asText().equals("approval.refused"))
          .map(e -> e.path("body").path("error").asText()).toList();
      assertEquals(List.of("self_approval", "wrong_group", "bad_token", "digest_mismatch", "not_pending"), refused);
    }
  }

  @Test
  void aHoldThatRequiresAnOnBehalfOfIsRefusedWithoutOneSoTheApproverCanBeCheckedToBeSomeoneElse()
      throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"),
        c -> ((ObjectNode) c.path("approval_defaults")).put("require_on_behalf_of", true));
    try (ProxyFixture p = proxy(rego, ProxyFixture.approvals(approversFile(tmp)))) {
      HttpResponse<String> r = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}")
          .get(30, TimeUnit.SECONDS);
      assertEquals(403, r.statusCode(), r.body());
      assertEquals("on_behalf_of_required", ProxyFixture.json(r.body()).path("error").asText());
      String x = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
      assertEquals(List.of("exchange.decided", "exchange.completed"), types(p, x));
      assertEquals("hold_refused", p.ledger(x).get(1).path("body").path("outcome").asText());
      var named = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
          "X-Countersign-On-Behalf-Of", "ana@example.com");
      String id = awaitHold(p);
      AdminClient admin = new AdminClient(p.server().adminAddress());
      assertEquals("self_approval", ProxyFixture.json(admin.vote(id, "approve", ANA, "mine",
          admin.digest(id, ANA)).body()).path("error").asText());
      assertEquals(200, admin.vote(id, "approve", MARIA, "ok", admin.digest(id, MARIA)).statusCode());
      assertEquals(200, named.get(30, TimeUnit.SECONDS).statusCode());
      assertEquals(1, upstream.received().size());
    }
  }

  @Test
  void aQuorumOfTwoNeedsTwoDistinctApprovers() throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"),
        c -> ((ObjectNode) c.path("approval_defaults")).put("quorum", 2));
    try (ProxyFixture p = proxy(rego, ProxyFixture.approvals(approversFile(tmp)))) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      var response = agentSends(p, "POST", "/billing/v1/refunds", "{\"amount\": 500}");
      String id = awaitHold(p);
      String digest = admin.digest(id, FRANK);
      assertEquals(200, admin.vote(id, "approve", FRANK, "ok", digest).statusCode());
      HttpResponse<String> again = admin.vote(id, "approve", FRANK, "ok again", digest);
      assertEquals("already_voted", ProxyFixture.json(again.body()).path("error").asText());
      assertEquals(0, upstream.received().size(), "one approval of two forwards nothing");
      assertTrue(!response.isDone());
      assertEquals(200, admin.vote(id, "approve", BOB, "second pair of eyes", digest).statusCode());
      assertEquals(201, response.get(30, TimeUnit.SECONDS).statusCode());
      assertEquals(1, upstream.received().size());
    }
  }

  @Test
  void anAsyncHoldAnswers202WithATicketAndTheTicketCarriesTheUpstreamAnswer() throws Exception {
    try (ProxyFixture p = proxy()) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      HttpResponse<String> r = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
          "Prefer", "respond-async").get(30, TimeUnit.SECONDS);
      assertEquals(202, r.statusCode(), r.body());
      String location = r.headers().firstValue("location").orElseThrow();
      String ticket = ProxyFixture.json(r.body()).path("ticket").asText();
      assertTrue(location.endsWith(ticket));
      assertEquals(202, p.send("GET", location, null).statusCode());

      assertEquals(200, admin.vote(ticket, "approve", MARIA, "ok", admin.digest(ticket, MARIA)).statusCode());
      Await.until("the approved request to run", Duration.ofSeconds(20),
          () -> p.send("GET", location, null).statusCode() == 200);
      HttpResponse<String> done = p.send("GET", location, null);
      assertEquals("{\"ok\":true,\"method\":\"PATCH\",\"id\":\"n-1\"}", done.body());
      assertEquals("completed", done.headers().firstValue("x-countersign-ticket-status").orElseThrow());
      assertEquals(1, upstream.received().size());
      assertEquals(404, p.send("GET", "/.countersign/tickets/00000000-0000-0000-0000-000000000000", null).statusCode());
    }
  }

  @Test
  void theAgentPortServesNoApprovalApi() throws Exception {
    try (ProxyFixture p = proxy()) {
      for (String path : List.of("/v1/approvals", "/v1/approvals/x/approve", "/healthz")) {
        assertEquals(404, p.send("GET", path, null, "Authorization", "Bearer " + MARIA).statusCode(), path);
        assertEquals(404, p.send("POST", path, "{}", "Authorization", "Bearer " + MARIA).statusCode(), path);
      }
    }
  }

  @Test
  void theAdminPortReportsHealthAndReadiness() throws Exception {
    try (ProxyFixture p = proxy()) {
      AdminClient admin = new AdminClient(p.server().adminAddress());
      assertEquals(200, admin.get("/healthz", null).statusCode());
      HttpResponse<String> ready = admin.get("/readyz", null);
      assertEquals(200, ready.statusCode(), ready.body());
      assertEquals(401, admin.get("/v1/approvals", null).statusCode());
      p.server().ledger().close();
      HttpResponse<String> notReady = admin.get("/readyz", null);
      assertEquals(503, notReady.statusCode(), notReady.body());
      assertTrue(notReady.body().contains("\"ledger_writable\":false"), notReady.body());
    }
  }

  @Test
  void aWebhookIsNotifiedSignedAndRetriedAndDeliveryIsRecorded() throws Exception {
    HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    AtomicInteger calls = new AtomicInteger();
    List<String> verified = new CopyOnWriteArrayList<>();
    List<String> slackTexts = new CopyOnWriteArrayList<>();
    hook.createContext("/generic", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      String ts = ex.getRequestHeaders().getFirst("X-Countersign-Timestamp");
      String sig = ex.getRequestHeaders().getFirst("X-Countersign-Signature");
      if (calls.incrementAndGet() == 1) {
        ex.sendResponseHeaders(500, -1); // the first delivery fails: the notifier retries
      } else {
        if (("sha256=" + hmac("hook-secret", ts + "." + new String(body, StandardCharsets.UTF_8))).equals(sig)) {
          verified.add(new String(body, StandardCharsets.UTF_8));
        }
        ex.sendResponseHeaders(204, -1);
      }
      ex.close();
    });
    hook.createContext("/slack", ex -> {
      slackTexts.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    hook.start();
    try {
      String base = "http://127.0.0.1:" + hook.getAddress().getPort();
      ProxyConfig.Approvals approvals = new ProxyConfig.Approvals(approversFile(tmp), 100, 100,
          Duration.ofMinutes(30), "https://countersign-admin.example",
          List.of(new ProxyConfig.Webhook(base + "/generic", "HOOK_SECRET")),
          List.of(new ProxyConfig.Webhook(base + "/slack", null)), null);
      ProxyConfig c = ProxyFixture.withApprovals(ProxyFixture.config(Engine.WASM, null, upstream.url(),
          tmp.resolve("ledger"), ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits()),
          approvals);
      try (ProxyFixture p = ProxyFixture.start(c, Map.of("HOOK_SECRET", "hook-secret"))) {
        HttpResponse<String> r = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
            "Prefer", "respond-async").get(30, TimeUnit.SECONDS);
        String x = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
        Await.until("both notifications recorded", Duration.ofSeconds(30),
            () -> p.ledger(x).stream().filter(e -> e.path("type").asText().equals("approval.notified")).count() == 2);
        assertEquals(1, verified.size(), "the retried delivery carries a valid signature");
        JsonNode payload = ProxyFixture.json(verified.get(0));
        assertEquals("sales-managers", payload.path("group").asText());
        assertTrue(payload.path("link").asText().startsWith("https://countersign-admin.example/v1/approvals/"));
        assertTrue(ProxyFixture.json(slackTexts.get(0)).path("text").asText().contains("PATCH /crm/v3/deals/42"));
        JsonNode generic = p.ledger(x).stream()
            .filter(e -> e.path("body").path("channel").asText().equals("generic")).findFirst().orElseThrow();
        assertTrue(generic.path("body").path("delivered").asBoolean());
        assertEquals(2, generic.path("body").path("attempts").asInt());
      }
    } finally {
      hook.stop(0);
    }
  }

  private static String hmac(String key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anEscalationNotifiesTheSecondGroupWhileTheHoldIsStillOpen() throws Exception {
    Path rego = PolicyVariant.of(tmp.resolve("rego"), c -> ((ObjectNode) c.path("approval_defaults"))
        .putObject("escalate").put("group", "finance").put("after", "PT1S"));
    HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    List<JsonNode> received = new CopyOnWriteArrayList<>();
    hook.createContext("/generic", ex -> {
      received.add(ProxyFixture.json(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    hook.start();
    try {
      ProxyConfig.Approvals approvals = new ProxyConfig.Approvals(approversFile(tmp), 100, 100,
          Duration.ofMinutes(30), null,
          List.of(new ProxyConfig.Webhook("http://127.0.0.1:" + hook.getAddress().getPort() + "/generic", null)),
          List.of(), null);
      try (ProxyFixture p = proxy(rego, approvals)) {
        HttpResponse<String> r = agentSends(p, "PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 30}",
            "Prefer", "respond-async").get(30, TimeUnit.SECONDS);
        assertEquals(202, r.statusCode(), r.body());
        Await.until("the opening and the escalation", Duration.ofSeconds(30), () -> received.size() >= 2);
        assertEquals("approval.opened", received.get(0).path("type").asText());
        assertEquals("sales-managers", received.get(0).path("group").asText());
        assertEquals("approval.escalated", received.get(1).path("type").asText());
        assertEquals("finance", received.get(1).path("group").asText());
      }
    } finally {
      hook.stop(0);
    }
  }
}
