package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerReaderTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void followSeesEventsAppendedAfterItStartedAndStopsOnTheStopSignal() throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      ledger.append(Events.decided("old", 0)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      List<String> seen = new CopyOnWriteArrayList<>();
      AtomicBoolean stop = new AtomicBoolean();
      CompletableFuture<LedgerReader.Counts> following =
          CompletableFuture.supplyAsync(
              () -> {
                try (LedgerReader reader = LedgerReader.open(dir)) {
                  return reader.follow(
                      LedgerReader.Start.BEGINNING,
                      r -> seen.add(r.event().exchangeId()),
                      s -> {},
                      stop::get);
                }
              },
              r -> new Thread(r, "follower").start());
      Events.await("the existing event", WAIT, () -> seen.contains("old"));
      for (int i = 1; i <= 3; i++) {
        ledger.append(Events.decided("new-" + i, i));
      }
      Events.await("the new events", WAIT, () -> seen.size() == 4);
      assertEquals(List.of("old", "new-1", "new-2", "new-3"), seen);
      stop.set(true);
      assertEquals(new LedgerReader.Counts(4, 0), following.get(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void followFromTheEndSeesOnlyNewEvents() throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults());
        LedgerReader reader = LedgerReader.open(dir)) {
      ledger.append(Events.decided("old", 0)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      List<String> seen = new CopyOnWriteArrayList<>();
      // The reader's own thread follows; appends happen once following has begun.
      AtomicBoolean started = new AtomicBoolean();
      CompletableFuture<Void> appender =
          CompletableFuture.runAsync(
              () -> {
                Events.await("follow to start", WAIT, started::get);
                ledger.append(Events.completed("new", 200));
              });
      reader.follow(
          LedgerReader.Start.END,
          r -> seen.add(r.event().exchangeId()),
          s -> {},
          () -> {
            started.set(true);
            return !seen.isEmpty();
          });
      appender.get(30, TimeUnit.SECONDS);
      assertEquals(List.of("new"), seen);
    }
  }

  @Test
  void unknownTypesAndUnreadableDocumentsAreSkippedAndReportedWithoutStoppingTheReader() {
    try (SingleChronicleQueue queue = JournalDirectory.openForAppend(dir, RollPeriod.DAILY);
        ExcerptAppender appender = queue.createAppender()) {
      writeText(appender, LedgerEventCodec.toJson(Events.decided("first", 1)));
      writeText(
          appender,
          "{\"v\":1,\"type\":\"approval.granted\",\"exchange_id\":\"x\","
              + "\"time\":\"2026-11-25T10:00:00Z\",\"body\":{}}");
      writeText(appender, "this is not json");
      try (DocumentContext dc = appender.writingDocument()) {
        dc.wire().getValueOut().int64(42L);
      }
      writeText(appender, LedgerEventCodec.toJson(Events.completed("last", 200)));
    }
    List<RecordedEvent> events = new CopyOnWriteArrayList<>();
    List<SkippedDocument> skipped = new CopyOnWriteArrayList<>();
    LedgerReader.Counts counts;
    try (LedgerReader reader = LedgerReader.open(dir)) {
      counts = reader.forEach(events::add, skipped::add);
    }
    assertEquals(new LedgerReader.Counts(2, 3), counts);
    assertEquals(
        List.of("first", "last"), events.stream().map(e -> e.event().exchangeId()).toList());
    assertEquals(
        List.of(
            SkippedDocument.Kind.UNKNOWN_TYPE,
            SkippedDocument.Kind.UNREADABLE,
            SkippedDocument.Kind.UNREADABLE),
        skipped.stream().map(SkippedDocument::kind).toList());
    assertTrue(skipped.get(0).reason().contains("approval.granted"), skipped.get(0).reason());
    assertTrue(skipped.get(0).index() > events.get(0).index());
  }

  @Test
  void openingAMissingOrEmptyDirectoryNamesTheDirectoryAndTheProblem() throws Exception {
    Path missing = dir.resolve("nope");
    var e = assertThrows(NoLedgerException.class, () -> LedgerReader.open(missing));
    assertEquals("no ledger at " + missing + ": the directory does not exist", e.getMessage());

    Path empty = Files.createDirectory(dir.resolve("empty"));
    var e2 = assertThrows(NoLedgerException.class, () -> LedgerReader.open(empty));
    assertTrue(
        e2.getMessage().startsWith("no ledger at " + empty + ": no journal files"),
        e2.getMessage());
  }

  @Test
  void aLedgerOpenedButNeverWrittenReadsAsEmpty() {
    ChronicleLedger.open(dir, LedgerOptions.defaults()).close();
    try (LedgerReader reader = LedgerReader.open(dir)) {
      assertEquals(new LedgerReader.Counts(0, 0), reader.forEach(e -> {}));
    }
  }

  private static void writeText(ExcerptAppender appender, String text) {
    try (DocumentContext dc = appender.writingDocument()) {
      dc.wire().getValueOut().text(text);
    }
  }
}
