import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.ChronicleLedger;
import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.RequestRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.LedgerOptions;
import io.countersign.ledger.LedgerQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Ledger benchmark: append latency (append() to written, hash chain included) and the scan rate of
 * a filtered search over a 1M-event ledger. Prints numbers; asserts nothing.
 * Usage: java -cp CLASSPATH LedgerBench.java DIR [EVENTS_FOR_SCAN]
 */
public class LedgerBench {
  public static void main(String[] args) throws Exception {
    Path root = Path.of(args.length > 0 ? args[0] : "/tmp/ledger-bench");
    int scanEvents = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
    Files.createDirectories(root);
    Path dir = Files.createTempDirectory(root, "append-");
    int warm = 20_000;
    int n = 100_000;
    long[] lat = new long[n];
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      for (int i = 0; i < warm; i++) {
        ledger.append(event(i)).toCompletableFuture().join();
      }
      for (int i = 0; i < n; i++) {
        LedgerEvent e = event(i);
        long t0 = System.nanoTime();
        ledger.append(e).toCompletableFuture().join();
        lat[i] = System.nanoTime() - t0;
      }
    }
    Arrays.sort(lat);
    System.out.printf("append (one at a time, ~%d B events, SHA-256 chain): p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us%n",
        event(0).body().toString().length(), lat[n / 2] / 1e3, lat[(int) (n * 0.99)] / 1e3,
        lat[(int) (n * 0.999)] / 1e3, lat[n - 1] / 1e3);

    Path scanDir = Files.createTempDirectory(root, "scan-");
    long t0 = System.nanoTime();
    try (ChronicleLedger ledger = ChronicleLedger.open(scanDir, LedgerOptions.defaults())) {
      CompletableFuture<Long> last = null;
      for (int i = 0; i < scanEvents; i++) {
        while (ledger.pendingCount() > 4000) {
          Thread.onSpinWait();
        }
        last = ledger.append(event(i)).toCompletableFuture();
      }
      last.join();
    }
    double writeSecs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("wrote %,d events in %.1f s (%,.0f events/s, pipelined)%n", scanEvents, writeSecs,
        scanEvents / writeSecs);
    for (int round = 0; round < 3; round++) {
      long s0 = System.nanoTime();
      long[] matched = {0};
      LedgerQuery.Page page = LedgerQuery.run(scanDir, new LedgerQuery.Filter(null, null, "acme-7",
          null, null, null, null, null, null, null, null, null, -1, 0), e -> matched[0]++);
      double secs = (System.nanoTime() - s0) / 1e9;
      System.out.printf("search --account acme-7 over %,d events: %,d matches in %.2f s = %,.0f events/s scanned%n",
          page.scanned(), matched[0], secs, page.scanned() / secs);
    }
    long s0 = System.nanoTime();
    long[] matched = {0};
    LedgerQuery.Page page = LedgerQuery.run(scanDir, new LedgerQuery.Filter(null, null, null,
        null, null, null, "high", null, null, null, null, null, -1, 0), e -> matched[0]++);
    double secs = (System.nanoTime() - s0) / 1e9;
    System.out.printf("search --risk high (10%% of exchanges) over %,d events: %,d matches in %.2f s = %,.0f events/s%n",
        page.scanned(), matched[0], secs, page.scanned() / secs);
  }

  static LedgerEvent event(int i) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("content-type", "application/json");
    headers.put("user-agent", "agent/1.0");
    ObjectNode payload = JsonNodeFactory.instance.objectNode();
    payload.put("amount", 1200 + i % 1000).put("discount_pct", i % 30)
        .put("note", "quote for renewal, see thread 4411; customer asked for net-60 terms");
    RequestRecord request = new RequestRecord("PATCH", "/crm/v3/deals/" + i, "https://crm.example.com",
        "/v3/deals/" + i, "", headers, null, 180,
        "5f1c0e3c9a0b1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c", payload);
    Caller caller = new Caller("sales-assistant", "quote-prep", "r-" + (i / 10),
        "user" + (i % 50) + "@example.com", "acme-" + (i % 100), "update_deal", "sha256:9a8b7c", null);
    ObjectNode obligations = JsonNodeFactory.instance.objectNode();
    obligations.putObject("record").put("body", "full");
    DecisionRecord decision = new DecisionRecord(i % 10 == 0 ? "high" : "low",
        i % 10 == 0 ? "hold" : "allow", List.of("discount within limits"), "crm.deal_update",
        "sha256:e25a4f29e260b7d7", "opa", null, obligations);
    return LedgerEvent.of("ex-" + Integer.toHexString(i), Instant.now(), new ExchangeDecided("crm",
        request, caller, decision, null, 180, Instant.now().toString()));
  }
}
