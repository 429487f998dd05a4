package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.ledger.event.LedgerRetention;
import java.util.Map;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.openhft.chronicle.core.time.TimeProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerSearchExportRetentionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static LedgerEvent decided(String id, String account, String risk) {
    return Events.decided(id, 1, Map.of(), Events.body(1), account, null, risk, null, null);
  }

  private static LedgerEvent outcome(String id, String outcome) {
    return Events.completed(id, 200, outcome, Map.of(), null);
  }

  private void write(List<LedgerEvent> events) throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      for (LedgerEvent e : events) {
        ledger.append(e).toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  private static LedgerQuery.Filter byAccount(String account, String outcome, long after, int limit) {
    return new LedgerQuery.Filter(null, null, account, null, null, null, null, null, outcome, null,
        null, null, after, limit);
  }

  private List<String> search(LedgerQuery.Filter f) {
    List<String> out = new ArrayList<>();
    LedgerQuery.run(dir, f, e -> out.add(e.event().exchangeId() + ":" + e.event().type().wireName()));
    return out;
  }

  @Test
  void searchByAccountReturnsTheIntentAndOutcomeOfThatAccountsExchangesOnly() throws Exception {
    write(List.of(decided("a1", "acme", "low"), decided("b1", "globex", "low"),
        outcome("b1", "forwarded"), outcome("a1", "denied"), decided("a2", "acme", "high"),
        outcome("a2", "forwarded")));
    assertEquals(List.of("a1:exchange.decided", "a1:exchange.completed", "a2:exchange.decided",
        "a2:exchange.completed"), search(byAccount("acme", null, -1, 0)));
    assertEquals(List.of("a2:exchange.completed"), search(byAccount("acme", "forwarded", -1, 0)));
    assertEquals(List.of("a2:exchange.decided", "a2:exchange.completed"),
        search(new LedgerQuery.Filter(null, null, null, null, null, null, "high", null, null, null,
            null, null, -1, 0)));
  }

  @Test
  void pagesFollowEachOtherWithoutGapOrOverlap() throws Exception {
    List<LedgerEvent> events = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      events.add(decided("x" + i, "acme", "low"));
    }
    write(events);
    List<String> all = new ArrayList<>();
    long after = -1;
    int pages = 0;
    while (true) {
      List<String> page = new ArrayList<>();
      LedgerQuery.Page p = LedgerQuery.run(dir, byAccount("acme", null, after, 3),
          e -> page.add(e.event().exchangeId()));
      all.addAll(page);
      pages++;
      if (p.next() < 0) {
        break;
      }
      after = p.next();
    }
    assertEquals(List.of("x0", "x1", "x2", "x3", "x4", "x5", "x6"), all);
    assertEquals(3, pages);
  }

  @Test
  void searchHonoursTheTimeRange() throws Exception {
    write(List.of(Events.decided("t0", 0), Events.decided("t5", 5000), Events.decided("t9", 9000)));
    List<String> out = search(new LedgerQuery.Filter(null, null, null, null, null, null, null, null,
        null, null, Events.T0.plusMillis(1000), Events.T0.plusMillis(9000), -1, 0));
    assertEquals(List.of("t5:exchange.decided"), out);
  }

  @Test
  void exportWithACheckpointResumesWithoutSkippingOrRepeating() throws Exception {
    Path checkpoint = dir.resolveSibling(dir.getFileName() + ".checkpoint");
    write(List.of(decided("e1", "acme", "low"), outcome("e1", "forwarded")));
    List<String> first = export(LedgerExport.Format.JSONL, checkpoint);
    assertEquals(2, first.size());
    write(List.of(decided("e2", "acme", "low")));
    List<String> second = export(LedgerExport.Format.JSONL, checkpoint);
    assertEquals(1, second.size());
    assertEquals("e2", JSON.readTree(second.get(0)).path("exchange_id").asText());
    assertEquals(List.of(), export(LedgerExport.Format.JSONL, checkpoint));
    Files.delete(checkpoint);
  }

  @Test
  void anExportWhoseConsumerGoesAwayCheckpointsOnlyWhatWasDelivered() throws Exception {
    Path checkpoint = dir.resolveSibling(dir.getFileName() + ".checkpoint2");
    write(List.of(decided("c1", "acme", "low"), decided("c2", "acme", "low"),
        decided("c3", "acme", "low")));
    // A pipe whose reader leaves after the first line.
    int[] writes = {0};
    PrintStream broken = new PrintStream(new java.io.OutputStream() {
      @Override
      public void write(int b) throws java.io.IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws java.io.IOException {
        if (b[off + len - 1] == '\n' && ++writes[0] > 1) {
          throw new java.io.IOException("Broken pipe");
        }
      }
    }, false, StandardCharsets.UTF_8);
    assertThrows(java.io.UncheckedIOException.class, () ->
        LedgerExport.run(dir, LedgerExport.Format.JSONL, checkpoint, false, broken, () -> false));
    List<String> rest = export(LedgerExport.Format.JSONL, checkpoint);
    assertEquals(List.of("c2", "c3"), rest.stream()
        .map(l -> LedgerEventCodec.fromJson(l).exchangeId()).toList());
    Files.delete(checkpoint);
  }

  @Test
  void theOpaFormatHasOneDecisionLogEventPerIntent() throws Exception {
    LedgerEvent d = Events.decided("o1", 1, Map.of(), Events.body(1), "acme", null, "high",
        "crm.discount", "sha256:abc");
    write(List.of(d, outcome("o1", "hold_refused")));
    List<String> lines = export(LedgerExport.Format.OPA, null);
    assertEquals(1, lines.size());
    JsonNode e = JSON.readTree(lines.get(0));
    assertEquals("o1", e.path("decision_id").asText());
    assertEquals("countersign/decision", e.path("path").asText());
    assertEquals("acme", e.at("/input/caller/account").asText());
    assertEquals("high", e.at("/result/risk").asText());
    assertEquals("sha256:abc", e.at("/bundles/countersign/revision").asText());
    assertEquals(Events.T0.plusMillis(1).toString(), e.path("timestamp").asText());
    assertTrue(e.at("/labels/index").asText().matches("\\d+"));
  }

  private List<String> export(LedgerExport.Format format, Path checkpoint) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      LedgerExport.run(dir, format, checkpoint, false, out, () -> false);
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    return text.isEmpty() ? List.of() : List.of(text.split("\n"));
  }

  @Test
  void retentionDeletesWholeOldCyclesRecordsItAndTheChainStillVerifies() throws Exception {
    AtomicLong now = new AtomicLong(Events.T0.toEpochMilli());
    TimeProvider clock = new TimeProvider() {
      @Override
      public long currentTimeMillis() {
        return now.get();
      }

      @Override
      public long currentTimeMicros() {
        return now.get() * 1000;
      }

      @Override
      public long currentTimeNanos() {
        return now.get() * 1_000_000;
      }
    };
    LedgerOptions options = LedgerOptions.defaults().withRetainCycles(1);
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, options, ChronicleLedger.WriterHook.NONE, clock)) {
      ledger.append(Events.decided("day1", 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      now.addAndGet(Duration.ofDays(1).toMillis());
      ledger.append(Events.decided("day2", 2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      Events.await("the retention record", Duration.ofSeconds(30), () -> Events.readAll(dir).stream()
          .anyMatch(e -> e.event().type() == EventType.LEDGER_RETENTION));
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.filter(f -> f.toString().endsWith(".cq4")).count());
    }
    List<RecordedEvent> left = Events.readAll(dir);
    assertFalse(left.stream().anyMatch(e -> e.event().exchangeId().equals("day1")));
    RecordedEvent retention = left.get(left.size() - 1);
    assertEquals(EventType.LEDGER_RETENTION, retention.event().type());
    LedgerRetention r = retention.event().bodyAs(LedgerRetention.class);
    assertEquals(1, r.deletedFiles().size());
    assertEquals(1L, r.firstKeptSeq());
    LedgerVerifier.Report report = LedgerVerifier.verify(dir, null, null);
    assertTrue(report.intact(), String.valueOf(report.firstBreak()));
  }
}
