package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.approval.ApproverDirectory;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.ProxyFixture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official MCP Python SDK (mcp 2.x, pinned in scripts/python-requirements.txt) on both sides
 * of an MCP route: the support team's server is an SDK {@code MCPServer} with the business tools
 * of the shipped support-mcp catalog, served over streamable HTTP with the SDK's defaults (POST
 * answers as SSE); the agent is the SDK's own {@code Client}, pointed at the proxy. The real
 * proxy, the real rego/ policy (wasm), a real ledger, approvals on the admin port.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class McpSdkIT {
  private static final String LEAD = "lena-token";
  private static final Duration WAIT = Duration.ofSeconds(60);
  private Path python;
  private Path scripts;
  private Path tmp;
  private Path calls;
  private Process server;
  private ProxyFixture proxy;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    tmp = dir;
    python = Path.of(System.getProperty("countersign.python", "../.tools/venv/bin/python"));
    if (!Files.isExecutable(python)) {
      throw new AssertionError("the Python venv with the official SDKs is missing (" + python
          + "); run scripts/install-tools.sh python");
    }
    scripts = Path.of(System.getProperty("countersign.python.scripts", "src/test/python"));
    calls = tmp.resolve("calls.jsonl");
    Files.writeString(calls, "");
    int port = freePort();
    server = new ProcessBuilder(python.toString(), scripts.resolve("mcp_support_server.py").toString(),
        Integer.toString(port), calls.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("server.log").toFile()).start();
    Await.until("the MCP server on port " + port, WAIT, () -> listening(port) || !server.isAlive());
    assertTrue(server.isAlive(), () -> "the MCP server died:\n" + read(tmp.resolve("server.log")));

    String serverBase = "http://127.0.0.1:" + port;
    ProxyConfig base = ProxyFixture.config(Engine.WASM, null, serverBase, tmp.resolve("ledger"),
        ProxyFixture.upstreamSettings(Duration.ofSeconds(10)), ProxyFixture.limits());
    proxy = ProxyFixture.start(ProxyFixture.withApprovals(new ProxyConfig("support-bot",
        new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        base.limits(), base.policy(), base.ledgerDir(), base.upstream(),
        List.of(new ProxyConfig.RouteConfig("support-mcp", "/mcp", serverBase, null,
            RequestRules.STRICT, RouteKind.MCP)),
        base.approvals()), ProxyFixture.approvals(approvers(tmp))));
  }

  @AfterAll
  void stop() throws InterruptedException {
    if (proxy != null) {
      proxy.close();
    }
    if (server != null) {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  private static Path approvers(Path dir) throws IOException {
    Path f = dir.resolve("approvers.yaml");
    Files.writeString(f, "approvers:\n  - name: lena@example.com\n    groups: [support-leads]\n"
        + "    token_sha256: " + ApproverDirectory.tokenHash(LEAD) + "\n");
    return f;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean listening(int port) {
    try {
      new Socket("127.0.0.1", port).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String read(Path f) {
    try {
      return Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** The MCP endpoint as the agent sees it: the proxy's /mcp route, then the server's /mcp. */
  private String agentUrl() {
    return "http://127.0.0.1:" + proxy.address().getPort() + "/mcp/mcp";
  }

  private Process client(String scenario, Path out) throws IOException {
    return new ProcessBuilder(python.toString(), scripts.resolve("mcp_client.py").toString(),
        agentUrl(), scenario).redirectErrorStream(true).redirectOutput(out.toFile()).start();
  }

  /** The client's JSON lines (anything else it printed is a failure's traceback). */
  private static List<JsonNode> lines(Path out) {
    List<JsonNode> seen = new ArrayList<>();
    for (String line : read(out).split("\n")) {
      if (line.startsWith("{\"step\"")) {
        seen.add(ProxyFixture.json(line));
      }
    }
    return seen;
  }

  private static JsonNode step(List<JsonNode> seen, String name, Path out) {
    return seen.stream().filter(l -> name.equals(l.path("step").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("the client printed no " + name + ":\n" + read(out)));
  }

  private List<String> toolsTheServerRan() {
    List<String> out = new ArrayList<>();
    for (String line : read(calls).split("\n")) {
      if (!line.isBlank()) {
        out.add(ProxyFixture.json(line).path("tool").asText());
      }
    }
    return out;
  }

  @Test
  void theSdkClientListsCallsIsRefusedAndWaitsOutAnApprovalThroughTheProxy() throws Exception {
    Path out = tmp.resolve("support.out");
    List<String> before = pendingIds();
    int ledgerBefore = proxy.ledger().size();
    Process p = client("support", out);
    Await.until("the held refund", WAIT, () -> pendingIds().size() > before.size() || !p.isAlive());
    assertTrue(p.isAlive(), () -> "the client ended before the hold:\n" + read(out));
    List<String> added = pendingIds();
    added.removeAll(before);
    assertEquals(1, added.size(), added.toString());
    String ticket = added.get(0);
    assertFalse(read(out).contains("\"step\": \"issue_refund\","), "still waiting for the approval");
    assertFalse(toolsTheServerRan().contains("issue_refund"), "held, so not run yet");
    AdminClient admin = new AdminClient(proxy.server().adminAddress());
    HttpResponse<String> vote = admin.vote(ticket, "approve", LEAD, "customer was double charged",
        admin.digest(ticket, LEAD));
    assertEquals(200, vote.statusCode(), vote.body());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), () -> "the client did not finish:\n" + read(out));
    assertEquals(0, p.exitValue(), () -> "the client failed:\n" + read(out));
    List<JsonNode> seen = lines(out);
    System.out.println("the MCP client saw:\n" + read(out) + "\nthe server logged:\n"
        + read(tmp.resolve("server.log")));

    JsonNode init = step(seen, "initialize", out);
    assertEquals("support-mcp", init.path("server").asText(), init.toString());
    // the SDK probes server/discover first; the catalog does not allow it, so it falls back to
    // the initialize handshake, which is what the proxy judges MCP by (revisions to 2025-11-25)
    assertEquals("2025-11-25", init.path("protocol_version").asText(), init.toString());

    assertEquals("[\"lookup_customer\",\"list_orders\",\"issue_refund\"]",
        step(seen, "list_tools", out).path("tools").toString(), "delete_customer is not listed");

    JsonNode lookup = step(seen, "lookup_customer", out);
    assertTrue(lookup.path("ok").asBoolean(), lookup.toString());
    assertTrue(lookup.path("text").path(0).asText().contains("Ada Lovelace"), lookup.toString());

    JsonNode denied = step(seen, "delete_customer", out);
    assertFalse(denied.path("ok").asBoolean(), denied.toString());
    assertEquals("MCPError", denied.path("exception").asText(), denied.toString());
    assertEquals(-32010, denied.path("code").asInt(), denied.toString());
    String message = denied.path("message").asText();
    assertTrue(message.contains("agents may not delete customers"), message);
    assertTrue(message.contains("support-mcp.delete_customer_forbidden"), message);

    JsonNode refund = step(seen, "issue_refund", out);
    assertTrue(refund.path("ok").asBoolean(), refund.toString());
    assertEquals("[\"refunded 950 on o-7\"]", refund.path("text").toString(), refund.toString());
    assertEquals(List.of("lookup_customer", "issue_refund"), toolsTheServerRan(),
        "the denied call never reached the server, the approved one ran once");
    step(seen, "closed", out);

    List<JsonNode> all = proxy.ledger();
    List<JsonNode> ledger = all.subList(ledgerBefore, all.size());
    // every request the SDK made, as the policy judged it: the discover probe is refused (the
    // catalog does not list server/discover), the session's GET event stream and the DELETE at
    // close pass, forwarded to the server
    List<String> judged = ledger.stream().filter(e -> "exchange.decided".equals(e.path("type").asText()))
        .map(e -> e.path("body").path("request").path("method").asText() + " "
            + e.path("body").path("mcp").path("method").asText("-") + " "
            + e.path("body").path("decision").path("rule").asText())
        .sorted().toList();
    assertEquals(List.of(
        "DELETE - support-mcp.session_end",
        "GET - support-mcp.event_stream",
        "POST initialize support-mcp.protocol",
        "POST notifications/initialized support-mcp.protocol",
        "POST server/discover mcp.method_not_allowed",
        "POST tools/call support-mcp.delete_customer_forbidden",
        "POST tools/call support-mcp.lookup_customer",
        "POST tools/call support-mcp.refund_large",
        "POST tools/list support-mcp.list"), judged);
    for (String method : List.of("GET", "DELETE")) {
      String id = ledger.stream().filter(e -> method.equals(e.path("body").path("request")
          .path("method").asText())).findFirst().orElseThrow().path("exchange_id").asText();
      JsonNode end = proxy.awaitLedger(id, 2).get(1);
      assertEquals("forwarded", end.path("body").path("outcome").asText(), method + ": " + end);
      assertEquals(200, end.path("body").path("status").asInt(), method + ": " + end);
    }
    JsonNode deleteDecided = decided(ledger, "delete_customer");
    assertEquals("deny", deleteDecided.path("body").path("decision").path("action").asText());
    assertEquals("c-42", deleteDecided.path("body").path("mcp").path("arguments").path("id").asText());
    JsonNode refundDecided = ledger.stream().filter(e -> "exchange.decided".equals(e.path("type")
        .asText()) && "o-7".equals(e.path("body").path("mcp").path("arguments").path("order").asText()))
        .findFirst().orElseThrow(() -> new AssertionError("no exchange.decided for the refund"));
    JsonNode mcp = refundDecided.path("body").path("mcp");
    assertEquals("tools/call", mcp.path("method").asText());
    assertEquals(950, mcp.path("arguments").path("amount").asInt(), mcp.toString());
    assertEquals("o-7", mcp.path("arguments").path("order").asText());
    assertFalse(mcp.path("session_id").asText("").isEmpty(), "the server's session id: " + mcp);
    assertEquals("support-mcp.refund_large",
        refundDecided.path("body").path("decision").path("rule").asText());
    String refundId = refundDecided.path("exchange_id").asText();
    JsonNode completed = ledger.stream().filter(e -> refundId.equals(e.path("exchange_id").asText())
        && "exchange.completed".equals(e.path("type").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no exchange.completed for the refund: " + ledger));
    assertEquals(200, completed.path("body").path("status").asInt(), completed.toString());
    assertTrue(completed.toString().contains("refunded 950 on o-7"), completed.toString());
  }

  private List<String> pendingIds() {
    List<String> ids = new ArrayList<>();
    proxy.server().approvals().pending(a -> true).forEach(a -> ids.add(a.id()));
    return ids;
  }

  /**
   * What the SDK does while a call is held and nobody approves: its default HTTP client reads
   * with a 300 s timeout and its session sets no request timeout, so a sync hold has to be
   * decided within 300 s. Past a read timeout (2 s here) the whole connection fails with
   * httpx2.ReadTimeout; past a session read timeout the call fails with MCPError -32001. Either
   * way the SDK drops the POST and the proxy ends the hold as abandoned.
   */
  @Test
  void aHeldCallMustBeDecidedWithinTheSdksReadTimeout() throws Exception {
    Path out = tmp.resolve("timeouts.out");
    List<String> before = pendingIds();
    Process p = client("timeouts", out);
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), () -> "the client did not finish:\n" + read(out));
    assertEquals(0, p.exitValue(), () -> "the client failed:\n" + read(out));
    System.out.println("the MCP client saw:\n" + read(out));
    List<JsonNode> seen = lines(out);
    JsonNode defaults = step(seen, "defaults", out);
    assertEquals(300.0, defaults.path("http_read").asDouble(), defaults.toString());
    assertTrue(defaults.path("session_read").isNull(), defaults.toString());
    for (String name : List.of("http_read_2s", "session_read_2s")) {
      JsonNode held = step(seen, name, out);
      assertFalse(held.path("ok").asBoolean(), held.toString());
      double seconds = held.path("seconds").asDouble();
      assertTrue(seconds >= 2.0 && seconds < 10.0, name + " gave up after " + seconds + " s");
    }
    // the HTTP read timeout is not a clean error for the call: the transport's task fails and
    // takes the whole connection down
    assertEquals("[\"httpx2.ReadTimeout\"]", step(seen, "http_read_2s", out).path("causes").toString());
    assertFalse(read(out).contains("http_read_2s_call"), "the call itself never returned");
    JsonNode session = step(seen, "session_read_2s", out);
    assertEquals("MCPError", session.path("exception").asText(), session.toString());
    assertEquals(-32001, session.path("code").asInt(), "the SDK's own request timeout: " + session);
    // the SDK drops the POST it waited on, so the proxy withdraws the hold: nothing is left
    // pending for an approver to approve into a connection nobody reads
    for (String order : List.of("o-8", "o-9")) {
      String id = proxy.ledger().stream().filter(e -> order.equals(e.path("body").path("mcp")
          .path("arguments").path("order").asText())).findFirst()
          .orElseThrow(() -> new AssertionError("no decision for " + order)).path("exchange_id").asText();
      Await.until("the end of the held " + order, WAIT, () -> proxy.ledger(id).stream()
          .anyMatch(e -> "exchange.completed".equals(e.path("type").asText())));
      List<JsonNode> events = proxy.ledger(id);
      assertEquals(List.of("exchange.decided", "approval.opened", "approval.abandoned",
          "exchange.completed"), events.stream().map(e -> e.path("type").asText()).toList(), order);
      assertEquals("approval_abandoned", events.get(3).path("body").path("outcome").asText());
    }
    List<String> added = pendingIds();
    added.removeAll(before);
    assertEquals(List.of(), added, "no hold is left pending");
    assertFalse(read(calls).contains("o-8") || read(calls).contains("o-9"), "nothing ran");
  }

  private static JsonNode decided(List<JsonNode> ledger, String tool) {
    return ledger.stream().filter(e -> "exchange.decided".equals(e.path("type").asText())
        && tool.equals(e.path("body").path("mcp").path("tool").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no exchange.decided for " + tool + ": " + ledger));
  }
}
