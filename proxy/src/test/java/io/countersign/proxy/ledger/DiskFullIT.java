package io.countersign.proxy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.LedgerVerifier;
import io.countersign.ledger.RecordedEvent;
import io.countersign.policy.ManagedOpa;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger on a 2 MiB tmpfs that fills up, under the real {@code bin/countersign run} process:
 * the proxy fails closed (503 ledger_unavailable, saying the disk is full, nothing forwarded that
 * is not recorded), does not die (a full mapped file is a SIGBUS for Chronicle; the writer stops
 * at a free-space floor first), and serves again once space returns.
 */
class DiskFullIT {
  private static final Path ROOT = ProxyFixture.regoDir().toAbsolutePath().normalize().getParent();

  @TempDir Path tmp;

  @Test
  void aFullLedgerDiskRefusesRequestsWithAReasonForwardsNothingAndRecoversWhenSpaceReturns()
      throws Exception {
    Path mount = tmp.resolve("small-fs");
    Files.createDirectories(mount);
    Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String mountOut = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    Assumptions.assumeTrue(m.waitFor() == 0, "cannot mount a tmpfs here: " + mountOut);
    Process proxy = null;
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ManagedOpa opa = ManagedOpa.start(ProxyFixture.opaBinary(), ProxyFixture.regoDir())) {
      Path dir = tmp.resolve("conf");
      Files.createDirectories(dir);
      Path config = CrashLane.writeConfig(dir, opa.url(), upstream.url());
      Path ledger = mount.resolve("ledger");
      Files.writeString(config, Files.readString(config)
          .replace(dir.resolve("ledger").toAbsolutePath().toString(), ledger.toString()));
      ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/countersign").toString(), "run",
          "--config", config.toString()).redirectErrorStream(true);
      pb.environment().put("COUNTERSIGN_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m");
      proxy = pb.start();
      List<String> output = new ArrayList<>();
      int port = SidecarOutput.awaitPort(proxy, output);
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

      HttpResponse<String> first = SidecarOutput.get(client, port, 0);
      assertEquals(200, first.statusCode(), "the proxy serves before the disk fills: " + first.body());
      // Leave ~160 KiB above the ledger's 1 MiB free-space floor.
      long free = Files.getFileStore(mount).getUsableSpace();
      Path filler = mount.resolve("filler");
      try (OutputStream out = Files.newOutputStream(filler)) {
        out.write(new byte[(int) Math.max(0, free - (1 << 20) - 160 * 1024)]);
      }

      Set<String> answeredOk = new HashSet<>();
      String lastBeforeFull = null;
      HttpResponse<String> refused = null;
      for (int i = 1; i < 2000 && refused == null; i++) {
        HttpResponse<String> r = SidecarOutput.get(client, port, i);
        if (r.statusCode() == 503) {
          refused = r;
        } else {
          assertEquals(200, r.statusCode(), r.body());
          lastBeforeFull = r.headers().firstValue("x-countersign-exchange-id").orElseThrow();
          answeredOk.add(lastBeforeFull);
        }
      }
      assertTrue(refused != null, "the disk filled up after " + answeredOk.size() + " exchanges");
      JsonNode error = ProxyFixture.json(refused.body());
      assertEquals("ledger_unavailable", error.path("error").asText(), refused.body());
      assertTrue(refused.body().contains("ledger disk full"), refused.body());
      int forwardedBefore = upstream.received().size();
      for (int i = 0; i < 5; i++) {
        assertEquals(503, SidecarOutput.get(client, port, 5000 + i).statusCode());
      }
      assertEquals(forwardedBefore, upstream.received().size(), "nothing is forwarded while full");
      assertTrue(proxy.isAlive(), "the proxy did not die (no SIGBUS)");

      Files.delete(filler);
      HttpResponse<String> again = SidecarOutput.get(client, port, 9000);
      assertEquals(200, again.statusCode(), "served again once space returned: " + again.body());
      answeredOk.add(again.headers().firstValue("x-countersign-exchange-id").orElseThrow());

      proxy.destroy();
      assertTrue(proxy.waitFor(30, TimeUnit.SECONDS));
      Set<String> decided = new HashSet<>();
      Set<String> completed = new HashSet<>();
      try (LedgerReader reader = LedgerReader.open(ledger)) {
        reader.forEach((RecordedEvent e) -> {
          if (e.event().type().wireName().equals("exchange.decided")) {
            decided.add(e.event().exchangeId());
          } else if (e.event().type().wireName().equals("exchange.completed")) {
            completed.add(e.event().exchangeId());
          }
        });
      }
      assertTrue(decided.containsAll(answeredOk), "every answered exchange has its intent recorded");
      Set<String> noOutcome = new HashSet<>(answeredOk);
      noOutcome.removeAll(completed);
      // The proxy answers a forwarded exchange even when its outcome cannot be written (the
      // upstream has acted); only the exchange in flight when the disk filled can lack it.
      assertTrue(noOutcome.isEmpty() || noOutcome.equals(Set.of(lastBeforeFull)),
          "outcomes missing only for the exchange in flight when the disk filled: " + noOutcome);
      assertTrue(LedgerVerifier.verify(ledger, null, null).intact(), "the chain verifies");
    } finally {
      if (proxy != null && proxy.isAlive()) {
        proxy.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      new ProcessBuilder("umount", "--lazy", mount.toString()).inheritIO().start().waitFor();
    }
  }
}
