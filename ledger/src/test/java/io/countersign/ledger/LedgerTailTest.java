package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerTailTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @Test
  void printsOneJsonLinePerEventWithTheIndexFirst() throws Exception {
    List<Long> indexes = appendAll(Events.decided("x-1", 1), Events.completed("x-1", 201));

    int code = LedgerTail.run(dir, false, null, out, err, () -> true);

    assertEquals(LedgerTail.OK, code, err());
    List<String> lines = lines();
    assertEquals(2, lines.size());
    for (int i = 0; i < 2; i++) {
      JsonNode line = JSON.readTree(lines.get(i));
      assertEquals("index", line.fieldNames().next());
      assertEquals(indexes.get(i), line.get("index").longValue());
    }
    assertEquals("exchange.decided", JSON.readTree(lines.get(0)).get("type").textValue());
    assertEquals(201, JSON.readTree(lines.get(1)).at("/body/response/status").intValue());
    assertEquals("", err());
  }

  @Test
  void printsOnlyTheEventsOfTheExchangeAskedFor() throws Exception {
    appendAll(Events.decided("x-1", 1), Events.decided("x-2", 2), Events.completed("x-1", 200));

    int code = LedgerTail.run(dir, false, "x-1", out, err, () -> true);

    assertEquals(LedgerTail.OK, code);
    List<String> lines = lines();
    assertEquals(2, lines.size());
    for (String line : lines) {
      assertEquals("x-1", JSON.readTree(line).get("exchange_id").textValue());
    }
  }

  @Test
  void aMissingDirectoryIsReportedWithANonZeroCode() {
    Path missing = dir.resolve("missing");

    int code = LedgerTail.run(missing, false, null, out, err, () -> true);

    assertEquals(LedgerTail.NO_LEDGER, code);
    assertTrue(err().contains("no ledger at " + missing + ": the directory does not exist"), err());
    assertEquals("", outBytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aDirectoryWithoutAJournalIsReportedWithANonZeroCode() throws Exception {
    Path empty = Files.createDirectory(dir.resolve("empty"));

    int code = LedgerTail.run(empty, false, null, out, err, () -> true);

    assertEquals(LedgerTail.NO_LEDGER, code);
    assertTrue(err().contains("no ledger at " + empty + ": no journal files"), err());
  }

  @Test
  void followPrintsNewEventsUntilStopped() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      ledger.append(Events.decided("x-1", 1)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      CompletableFuture<Integer> tail =
          CompletableFuture.supplyAsync(
              () -> LedgerTail.run(dir, true, null, out, err, stop::get),
              r -> new Thread(r, "tail").start());
      Events.await("the first line", WAIT, () -> lines().size() == 1);
      ledger.append(Events.completed("x-1", 200));
      Events.await("the second line", WAIT, () -> lines().size() == 2);
      stop.set(true);
      assertEquals(LedgerTail.OK, tail.get(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void unreadableDocumentsAreReportedOnTheErrorStreamAndMakeTheCodeNonZero() throws Exception {
    try (SingleChronicleQueue queue = JournalDirectory.openForAppend(dir, RollPeriod.DAILY);
        ExcerptAppender appender = queue.createAppender()) {
      try (DocumentContext dc = appender.writingDocument()) {
        dc.wire().getValueOut().text("garbage");
      }
      try (DocumentContext dc = appender.writingDocument()) {
        dc.wire().getValueOut().text(LedgerEventCodec.toJson(Events.completed("x-1", 200)));
      }
    }

    int code = LedgerTail.run(dir, false, null, out, err, () -> true);

    assertEquals(LedgerTail.UNREADABLE_DOCUMENTS, code);
    assertEquals(1, lines().size());
    assertTrue(err().contains("skipped document at index"), err());
    assertTrue(err().contains("1 unreadable documents skipped"), err());
  }

  private List<Long> appendAll(LedgerEvent... events) throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      Long[] indexes = new Long[events.length];
      for (int i = 0; i < events.length; i++) {
        indexes[i] = ledger.append(events[i]).toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      return List.of(indexes);
    }
  }

  private List<String> lines() {
    String text = outBytes.toString(StandardCharsets.UTF_8);
    return text.isEmpty() ? List.of() : List.of(text.split("\n"));
  }

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }
}
