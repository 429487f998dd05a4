package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Graceful shutdown: in-flight exchanges finish, new ones are refused, async holds stay pending. */
class LifecycleIT {

  @Test
  void shutdownLetsInFlightExchangesFinishRefusesNewOnesAndKeepsAsyncHolds(@TempDir Path tmp)
      throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      ProxyConfig config = ProxyFixture.withApprovals(
          ProxyFixture.config(Engine.WASM, null, upstream.url(), tmp.resolve("ledger"),
              ProxyFixture.upstreamSettings(Duration.ofSeconds(30)), ProxyFixture.limits()),
          ProxyFixture.approvals(ApprovalsIT.approversFile(tmp)));
      ProxyFixture p = ProxyFixture.start(config);
      int port = p.address().getPort();
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

      HttpResponse<String> held = p.send("PATCH", "/crm/v3/deals/9", "{\"discount_pct\": 30}",
          "Prefer", "respond-async");
      assertEquals(202, held.statusCode());
      CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/crm/v3/held")).build(),
          HttpResponse.BodyHandlers.ofString());
      Await.until("the upstream to get the in-flight request", Duration.ofSeconds(20),
          () -> upstream.received().stream().anyMatch(r -> r.target().equals("/v3/held")));

      CompletableFuture<Void> closing = CompletableFuture.runAsync(p::close);
      Await.until("the agent port to stop accepting", Duration.ofSeconds(20), () -> {
        try (Socket s = new Socket("127.0.0.1", port)) {
          return !s.isConnected();
        } catch (IOException refused) {
          return true;
        }
      });
      assertEquals(1, p.server().inFlight(), "the in-flight exchange is still being served");
      upstream.releaseHeld();
      assertEquals(200, inFlight.get(30, TimeUnit.SECONDS).statusCode(), "it finishes normally");
      closing.get(60, TimeUnit.SECONDS);

      try (ProxyFixture again = ProxyFixture.start(config)) {
        String body = new AdminClient(again.server().adminAddress())
            .get("/v1/approvals", ApprovalsIT.MARIA).body();
        assertEquals(1, ProxyFixture.json(body).path("count").asInt(), body);
      }
    }
  }
}
