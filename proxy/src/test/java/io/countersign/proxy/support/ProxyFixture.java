package io.countersign.proxy.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.ledger.LedgerEventCodec;
import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.RecordedEvent;
import io.countersign.proxy.CountersignServer;
import io.countersign.proxy.config.ProxyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real sidecar for tests: the real rego/ policy with a real OPA (managed) or wasm engine, a real
 * Chronicle ledger in a temp folder, the agent port on 127.0.0.1, two routes to a loopback upstream.
 */
public final class ProxyFixture implements AutoCloseable {
  public static final String CRM_TOKEN = "crm-secret-token";
  public static final String BILLING_TOKEN = "billing-secret-token";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final CountersignServer server;
  private final Path ledgerDir;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private ProxyFixture(ProxyConfig config, Map<String, String> extraEnv) {
    this(config, extraEnv, Clock.systemUTC());
  }

  private ProxyFixture(ProxyConfig config, Map<String, String> extraEnv, Clock clock) {
    this.ledgerDir = config.ledgerDir();
    Map<String, String> env = new java.util.HashMap<>(extraEnv);
    env.put("CRM_TOKEN", CRM_TOKEN);
    env.put("BILLING_TOKEN", BILLING_TOKEN);
    this.server = CountersignServer.start(config, env, clock);
  }

  /** The OPA binary the project installed (set by the build). */
  public static Path opaBinary() {
    Path p = Path.of(System.getProperty("countersign.opa.binary", ".tools/bin/opa"));
    if (!Files.isExecutable(p)) {
      throw new AssertionError("OPA binary " + p + " is missing; run scripts/install-tools.sh");
    }
    return p;
  }

  /** The project's rego/ folder. */
  public static Path regoDir() {
    return Path.of(System.getProperty("countersign.rego.dir", "../rego"));
  }

  /** A config for {@code engine} with routes /crm and /billing to {@code upstreamUrl}. */
  public static ProxyConfig config(ProxyConfig.Engine engine, String opaUrl, String upstreamUrl,
      Path ledgerDir, ProxyConfig.Upstream upstream, ProxyConfig.Limits limits) {
    return new ProxyConfig(
        "sales-assistant",
        new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0),
        limits,
        new ProxyConfig.Policy(engine, opaUrl, opaBinary(), regoDir(), Duration.ofSeconds(2)),
        ledgerDir,
        upstream,
        List.of(
            new ProxyConfig.RouteConfig("crm", "/crm", upstreamUrl,
                new ProxyConfig.Credential("Authorization", "Bearer ", "CRM_TOKEN", null)),
            new ProxyConfig.RouteConfig("billing", "/billing", upstreamUrl,
                new ProxyConfig.Credential("Authorization", "Bearer ", "BILLING_TOKEN", null))),
        approvals(null));
  }

  /** Approval settings with {@code approversFile} (or none) and small bounds. */
  public static ProxyConfig.Approvals approvals(Path approversFile) {
    return new ProxyConfig.Approvals(approversFile, 1000, 1000, Duration.ofMinutes(30),
        "http://admin.example", List.of(), List.of(), null);
  }

  /** {@code base} with other approval settings. */
  public static ProxyConfig withApprovals(ProxyConfig base, ProxyConfig.Approvals approvals) {
    return new ProxyConfig(base.agentId(), base.agentListen(), base.adminListen(), base.limits(),
        base.policy(), base.ledgerDir(), base.upstream(), base.routes(), approvals);
  }

  /** Default limits, small enough to test. */
  public static ProxyConfig.Limits limits() {
    return new ProxyConfig.Limits(4096, 8192, 64 * 1024, Duration.ofSeconds(5), Duration.ofSeconds(60), 8,
        Duration.ofSeconds(10));
  }

  /** Default upstream settings. */
  public static ProxyConfig.Upstream upstreamSettings(Duration responseTimeout) {
    return new ProxyConfig.Upstream(Duration.ofSeconds(2), responseTimeout, 1 << 20, 16, null);
  }

  /** Starts a sidecar with {@code engine} (managed OPA for opa) in front of {@code upstream}. */
  public static ProxyFixture start(ProxyConfig.Engine engine, LoopbackUpstream upstream, Path tmp) {
    return start(config(engine, null, upstream.url(), tmp.resolve("ledger"),
        upstreamSettings(Duration.ofSeconds(10)), limits()));
  }

  /** Starts a sidecar with a full config. */
  public static ProxyFixture start(ProxyConfig config) {
    return new ProxyFixture(config, Map.of());
  }

  /** Starts a sidecar with a full config and more environment (webhook secrets ...). */
  public static ProxyFixture start(ProxyConfig config, Map<String, String> env) {
    return new ProxyFixture(config, env);
  }

  /** Starts a sidecar whose wall clock is {@code clock} (e.g. set to a fixture's time). */
  public static ProxyFixture start(ProxyConfig config, Clock clock) {
    return new ProxyFixture(config, Map.of(), clock);
  }

  public CountersignServer server() {
    return server;
  }

  public InetSocketAddress address() {
    return server.agentAddress();
  }

  /** Sends a request to the agent port. */
  public HttpResponse<String> send(String method, String path, String jsonBody, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address().getPort() + path))
        .timeout(Duration.ofSeconds(20))
        .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(jsonBody));
    if (jsonBody != null) {
      b.header("Content-Type", "application/json");
    }
    if (headers.length > 0) {
      b.headers(headers);
    }
    try {
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Parses a JSON body. */
  public static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  /** Every ledger event so far, as the JSON lines the CLI prints. */
  public List<JsonNode> ledger() {
    List<JsonNode> out = new ArrayList<>();
    try (LedgerReader reader = LedgerReader.open(ledgerDir)) {
      reader.forEach((RecordedEvent e) -> out.add(json(LedgerEventCodec.toJsonLine(e))));
    }
    return out;
  }

  /** The ledger events of one exchange, in order. */
  public List<JsonNode> ledger(String exchangeId) {
    return ledger().stream().filter(e -> exchangeId.equals(e.path("exchange_id").asText())).toList();
  }

  /** Polls the agent's async ticket {@code ticketId} until it answers {@code status}. */
  public void awaitTicket(String ticketId, int status) {
    HttpRequest poll = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address().getPort()
        + "/.countersign/tickets/" + ticketId)).timeout(Duration.ofSeconds(10)).build();
    Await.until("ticket " + ticketId + " to answer " + status, Duration.ofSeconds(20), () -> {
      try {
        return client.send(poll, HttpResponse.BodyHandlers.ofString()).statusCode() == status;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    });
  }

  /** Waits until exchange {@code id} has {@code count} events (the outcome is appended before the answer, so this is immediate in practice). */
  public List<JsonNode> awaitLedger(String id, int count) {
    Await.until("ledger events of " + id, Duration.ofSeconds(10), () -> ledger(id).size() >= count);
    return ledger(id);
  }

  @Override
  public void close() {
    server.close();
  }
}
