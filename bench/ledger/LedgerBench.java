import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.ChronicleLedger;
import io.countersign.ledger.EventType;
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
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("route", "crm");
    ObjectNode request = body.putObject("request");
    request.put("method", "PATCH").put("path", "/crm/v3/deals/" + i).put("upstream", "https://crm.example.com")
        .put("upstream_target", "/v3/deals/" + i).put("query", "");
    request.putObject("headers").put("content-type", "application/json").put("user-agent", "agent/1.0");
    request.put("size", 180).put("body_sha256", "5f1c0e3c9a0b1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c");
    request.putObject("body").put("amount", 1200 + i % 1000).put("discount_pct", i % 30)
        .put("note", "quote for renewal, see thread 4411; customer asked for net-60 terms");
    ObjectNode caller = body.putObject("caller");
    caller.put("agent", "sales-assistant").put("workflow", "quote-prep").put("run", "r-" + (i / 10))
        .put("on_behalf_of", "user" + (i % 50) + "@example.com").put("account", "acme-" + (i % 100))
        .put("tool", "update_deal").put("prompt_ref", "sha256:9a8b7c");
    ObjectNode decision = body.putObject("decision");
    decision.put("risk", i % 10 == 0 ? "high" : "low").put("action", i % 10 == 0 ? "hold" : "allow");
    decision.putArray("reasons").add("discount within limits");
    decision.put("rule", "crm.deal_update").put("revision", "sha256:e25a4f29e260b7d7").put("engine", "opa");
    decision.putObject("obligations").putObject("record").put("body", "full");
    body.put("policy_latency_us", 180).put("received_at", Instant.now().toString());
    return LedgerEvent.of(EventType.EXCHANGE_DECIDED, "ex-" + Integer.toHexString(i), Instant.now(), body);
  }
}
