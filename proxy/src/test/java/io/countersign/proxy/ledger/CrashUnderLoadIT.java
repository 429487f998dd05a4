package io.countersign.proxy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.LedgerVerifier;
import io.countersign.ledger.RecordedEvent;
import io.countersign.policy.ManagedOpa;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the real {@code bin/countersign run} process, over and over, under load, on
 * the same ledger: every exchange the agent got an answer for is in the ledger (intent and
 * outcome), no half-written event is readable, and the chain verifies.
 *
 * <p>Two lanes run side by side, each with its own proxy and ledger. Half the kills land at a
 * random moment after the process starts (often while the JVM boots or the ledger opens), half at
 * a random moment under load. The number of kills is {@code -Dcountersign.crash.kills} (default
 * 200); {@code bench/ledger-crash-soak.sh} runs it with 1,000.
 */
class CrashUnderLoadIT {
  private static final int KILLS = Integer.getInteger("countersign.crash.kills", 200);
  private static final int LANES = 2;

  @TempDir Path tmp;

  @Test
  void everyAnsweredExchangeSurvivesRepeatedKillNineAndTheChainVerifies() throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ManagedOpa opa = ManagedOpa.start(ProxyFixture.opaBinary(), ProxyFixture.regoDir())) {
      ExecutorService lanes = Executors.newFixedThreadPool(LANES);
      List<Future<CrashLane.Result>> results = new ArrayList<>();
      for (int lane = 0; lane < LANES; lane++) {
        Path dir = tmp.resolve("lane-" + lane);
        Files.createDirectories(dir);
        Path config = CrashLane.writeConfig(dir, opa.url(), upstream.url());
        int kills = KILLS / LANES + (lane < KILLS % LANES ? 1 : 0);
        long seed = 1000L + lane;
        results.add(lanes.submit(() -> new CrashLane(config, dir, seed).run(kills)));
      }
      lanes.shutdown();
      int totalKills = 0;
      int totalAcked = 0;
      for (Future<CrashLane.Result> f : results) {
        CrashLane.Result r = f.get();
        totalKills += r.kills();
        totalAcked += r.acknowledged().size();
        assertLedgerHolds(r);
      }
      System.out.printf("crash test: %d kill -9, %d acknowledged exchanges, 0 missing%n",
          totalKills, totalAcked);
      assertEquals(KILLS, totalKills);
      assertTrue(totalAcked > KILLS, "load ran between kills: " + totalAcked + " answers");
    }
  }

  static void assertLedgerHolds(CrashLane.Result r) {
    Map<String, List<String>> typesById = new HashMap<>();
    long[] skipped = {0};
    try (LedgerReader reader = LedgerReader.open(r.ledgerDir())) {
      reader.forEach(
          (RecordedEvent e) -> typesById.computeIfAbsent(e.event().exchangeId(), k -> new ArrayList<>())
              .add(e.event().type().wireName()),
          s -> skipped[0]++);
    }
    assertEquals(0, skipped[0], "no half-written or unreadable document is readable");
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, Integer> acked : r.acknowledged().entrySet()) {
      List<String> types = typesById.getOrDefault(acked.getKey(), List.of());
      boolean complete = types.equals(List.of("exchange.rejected"))
          || (types.contains("exchange.decided")
              && (types.contains("exchange.completed") || types.contains("exchange.failed")));
      if (!complete) {
        missing.add(acked.getKey() + " (status " + acked.getValue() + ", events " + types + ")");
      }
    }
    assertEquals(List.of(), missing, "answered exchanges missing from the ledger");
    LedgerVerifier.Report report = LedgerVerifier.verify(r.ledgerDir(), null, null);
    assertTrue(report.intact(), "the chain verifies: " + report.firstBreak());
    Set<String> refused = ConcurrentHashMap.newKeySet();
    r.acknowledged().forEach((id, status) -> {
      if (status == 503) {
        refused.add(id);
      }
    });
    assertEquals(Set.of(), refused, "no exchange was refused for want of a ledger");
  }
}
