package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChronicleLedgerTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void appendedEventsReadBackIdenticallyAndInOrderWithIncreasingIndexes() throws Exception {
    List<LedgerEvent> written = new ArrayList<>();
    List<Long> indexes = new ArrayList<>();
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      List<CompletableFuture<Long>> futures = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        LedgerEvent e = i % 2 == 0 ? Events.decided("x-" + i, i) : Events.completed("x-" + i, 200);
        written.add(e);
        futures.add(ledger.append(e).toCompletableFuture());
      }
      for (CompletableFuture<Long> f : futures) {
        indexes.add(get(f));
      }
    }
    List<RecordedEvent> read = Events.readAll(dir);
    assertEquals(written, read.stream().map(RecordedEvent::event).toList());
    assertEquals(indexes, read.stream().map(RecordedEvent::index).toList());
    for (int i = 1; i < indexes.size(); i++) {
      assertTrue(indexes.get(i) > indexes.get(i - 1), "indexes increase: " + indexes);
    }
  }

  @Test
  void anAppendReturnsCompleteAndItsEventIsAlreadyReadableByASeparateReader() throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      for (int i = 0; i < 20; i++) {
        LedgerEvent event = Events.decided("x-" + i, i);
        CompletableFuture<Long> appended = ledger.append(event).toCompletableFuture();
        assertTrue(appended.isDone(), "written on the calling thread, no hand-off");
        List<RecordedEvent> seen = Events.readAll(dir);
        assertEquals(i + 1, seen.size());
        assertEquals(event, seen.get(i).event());
        assertEquals(seen.get(i).index(), appended.get());
      }
    }
  }

  @Test
  void eightThreadsAppendingConcurrentlyLoseNothingDuplicateNothingAndKeepEachThreadsOrder()
      throws Exception {
    int threads = 8;
    int perThread = 2_000;
    LedgerOptions options = LedgerOptions.defaults();
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, options)) {
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<List<CompletableFuture<Long>>>> producers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String producer = "t" + t;
        producers.add(
            CompletableFuture.supplyAsync(
                () -> {
                  awaitLatch(go);
                  List<CompletableFuture<Long>> mine = new ArrayList<>(perThread);
                  for (int n = 0; n < perThread; n++) {
                    mine.add(
                        ledger.append(Events.decided(producer + "-" + n, n)).toCompletableFuture());
                  }
                  return mine;
                },
                r -> new Thread(r, "producer-" + producer).start()));
      }
      go.countDown();
      for (var p : producers) {
        for (CompletableFuture<Long> f : get(p)) {
          get(f);
        }
      }
    }
    List<RecordedEvent> read = Events.readAll(dir);
    assertEquals(threads * perThread, read.size());
    Map<String, Integer> nextPerThread = new HashMap<>();
    for (RecordedEvent r : read) {
      String[] parts = r.event().exchangeId().split("-");
      int expected = nextPerThread.getOrDefault(parts[0], 0);
      assertEquals(expected, Integer.parseInt(parts[1]), "order of " + parts[0]);
      nextPerThread.put(parts[0], expected + 1);
    }
    assertEquals(threads, nextPerThread.size());
    nextPerThread.values().forEach(n -> assertEquals(perThread, n));
  }

  @Test
  void appendAfterCloseFailsWithLedgerUnavailable() {
    ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults());
    ledger.close();
    assertFalse(ledger.isWritable());
    var failure =
        assertThrows(
            ExecutionException.class,
            () ->
                ledger
                    .append(Events.completed("x", 200))
                    .toCompletableFuture()
                    .get(1, TimeUnit.SECONDS));
    assertInstanceOf(LedgerUnavailableException.class, failure.getCause());
    assertEquals("ledger closed", failure.getCause().getMessage());
    ledger.close(); // idempotent
  }

  @Test
  void closeWaitsForTheAppendInProgressAndLaterAppendsFail() throws Exception {
    HeldWriter held = new HeldWriter();
    ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults(), held);
    CompletableFuture<CompletionStage<Long>> inProgress =
        CompletableFuture.supplyAsync(() -> ledger.append(Events.decided("in-progress", 0)));
    held.awaitHeld();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(ledger::close);
    Events.await("close to start", WAIT, () -> !ledger.isWritable());
    assertFalse(closing.isDone(), "close waits for the append in progress");
    var late = ledger.append(Events.decided("late", 1)).toCompletableFuture();
    var failure = assertThrows(ExecutionException.class, () -> late.get(1, TimeUnit.SECONDS));
    assertEquals("ledger closed", failure.getCause().getMessage());
    held.release();
    get(closing);
    get(get(inProgress).toCompletableFuture());
    assertEquals(
        List.of("in-progress"),
        Events.readAll(dir).stream().map(r -> r.event().exchangeId()).toList());
  }

  @Test
  void aFailedWriteFailsThatAppendAndMarksTheLedgerUnwritableUntilAWriteSucceeds()
      throws Exception {
    AtomicBoolean failNext = new AtomicBoolean();
    ChronicleLedger.WriterHook failing =
        () -> {
          if (failNext.getAndSet(false)) {
            throw new IllegalStateException("disk on fire");
          }
        };
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults(), failing)) {
      get(ledger.append(Events.decided("ok-1", 1)).toCompletableFuture());
      failNext.set(true);
      var failure =
          assertThrows(
              ExecutionException.class,
              () -> get(ledger.append(Events.decided("lost", 2)).toCompletableFuture()));
      assertInstanceOf(LedgerUnavailableException.class, failure.getCause());
      assertEquals("disk on fire", failure.getCause().getCause().getMessage());
      assertFalse(ledger.isWritable());

      get(ledger.append(Events.decided("ok-2", 3)).toCompletableFuture());
      assertTrue(ledger.isWritable());
    }
    assertEquals(
        List.of("ok-1", "ok-2"),
        Events.readAll(dir).stream().map(r -> r.event().exchangeId()).toList());
  }

  @Test
  void openingWhereNoJournalCanBeCreatedFailsWithLedgerUnavailable() throws Exception {
    Path aFile = Files.writeString(dir.resolve("not-a-directory"), "x");
    var e =
        assertThrows(
            LedgerUnavailableException.class,
            () -> ChronicleLedger.open(aFile, LedgerOptions.defaults()));
    assertTrue(e.getMessage().startsWith("cannot open ledger at " + aFile + ": "), e.getMessage());
  }

  @Test
  void reopeningAfterCloseAppendsAfterTheExistingEvents() throws Exception {
    long firstIndex;
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      get(ledger.append(Events.decided("before-1", 1)).toCompletableFuture());
      firstIndex = get(ledger.append(Events.decided("before-2", 2)).toCompletableFuture());
    }
    long secondIndex;
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      assertTrue(ledger.isWritable());
      secondIndex = get(ledger.append(Events.completed("after", 200)).toCompletableFuture());
    }
    assertTrue(secondIndex > firstIndex);
    assertEquals(
        List.of("before-1", "before-2", "after"),
        Events.readAll(dir).stream().map(r -> r.event().exchangeId()).toList());
  }

  @Test
  void optionsRejectANegativeCloseTimeoutAndParseRollPeriodsByName() {
    assertThrows(
        IllegalArgumentException.class,
        () -> LedgerOptions.defaults().withCloseTimeout(Duration.ofSeconds(-1)));
    assertEquals(RollPeriod.HOURLY, RollPeriod.parse("Hourly"));
    var e = assertThrows(IllegalArgumentException.class, () -> RollPeriod.parse("monthly"));
    assertTrue(e.getMessage().contains("hourly, daily, weekly"), e.getMessage());
  }

  @Test
  void anHourlyLedgerIsReadBackWithItsOwnRollCycle() throws Exception {
    try (ChronicleLedger ledger =
        ChronicleLedger.open(dir, LedgerOptions.defaults().withRollPeriod(RollPeriod.HOURLY))) {
      get(ledger.append(Events.completed("hourly", 200)).toCompletableFuture());
    }
    assertEquals("hourly", Events.readAll(dir).get(0).event().exchangeId());
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Holds each write, on the appending thread and under the write lock, until let through. */
  static final class HeldWriter implements ChronicleLedger.WriterHook {
    private final Semaphore entered = new Semaphore(0);
    private final Semaphore letThrough = new Semaphore(0);

    @Override
    public void beforeWrite() throws InterruptedException {
      entered.release();
      letThrough.acquire();
    }

    /** Waits until a write is held. */
    void awaitHeld() throws InterruptedException {
      assertTrue(entered.tryAcquire(WAIT.toSeconds(), TimeUnit.SECONDS), "a write reached the hook");
    }

    /** Lets this and every later write through. */
    void release() {
      letThrough.release(Integer.MAX_VALUE / 2);
    }
  }
}
