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
    Process p = client("support", out);
    Await.until("the held refund", WAIT,
        () -> !proxy.server().approvals().pending(a -> true).isEmpty() || !p.isAlive());
    assertTrue(p.isAlive(), () -> "the client ended before the hold:\n" + read(out));
    String ticket = proxy.server().approvals().pending(a -> true).get(0).id();
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

    List<JsonNode> ledger = proxy.ledger();
    JsonNode deleteDecided = decided(ledger, "delete_customer");
    assertEquals("deny", deleteDecided.path("body").path("decision").path("action").asText());
    assertEquals("c-42", deleteDecided.path("body").path("mcp").path("arguments").path("id").asText());
    JsonNode refundDecided = decided(ledger, "issue_refund");
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

  private static JsonNode decided(List<JsonNode> ledger, String tool) {
    return ledger.stream().filter(e -> "exchange.decided".equals(e.path("type").asText())
        && tool.equals(e.path("body").path("mcp").path("tool").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no exchange.decided for " + tool + ": " + ledger));
  }
}
