package io.countersign.ledger;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads a ledger directory: every event from the start, or follows new ones as a {@link
 * ChronicleLedger} (in this or another process) appends them. Documents that are not events this
 * code understands are reported as {@link SkippedDocument}s and reading goes on.
 *
 * <p>The journal is opened read-only: a reader never creates or changes files.
 *
 * <p>Threading: not thread-safe. Chronicle tailers belong to one thread, so use a reader from one
 * thread only (a CLI thread or a worker, never an event loop: {@link #follow} parks while waiting).
 */
public final class LedgerReader implements AutoCloseable {

  /** Where {@link #follow} starts. */
  public enum Start {
    /** With the first event in the journal. */
    BEGINNING,
    /** With the first event appended after {@code follow} is called. */
    END
  }

  /** What a read pass saw. */
  public record Counts(long events, long skipped) {}

  private static final long MIN_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final Path dir;
  private final SingleChronicleQueue queue;
  private final ExcerptTailer tailer;

  private LedgerReader(Path dir, SingleChronicleQueue queue) {
    this.dir = dir;
    this.queue = queue;
    this.tailer = queue.createTailer();
  }

  /**
   * Opens the ledger in {@code dir} for reading.
   *
   * @throws NoLedgerException when {@code dir} does not exist or holds no journal
   */
  public static LedgerReader open(Path dir) {
    Objects.requireNonNull(dir, "dir");
    JournalDirectory.requireJournal(dir);
    return new LedgerReader(dir, JournalDirectory.openForRead(dir));
  }

  /** The directory being read. */
  public Path directory() {
    return dir;
  }

  /**
   * Every event from the start of the journal to its current end, in order; skipped ones counted.
   */
  public Counts forEach(Consumer<RecordedEvent> onEvent) {
    return forEach(onEvent, skipped -> {});
  }

  /** Every event from the start of the journal to its current end, in order. */
  public Counts forEach(Consumer<RecordedEvent> onEvent, Consumer<SkippedDocument> onSkipped) {
    Objects.requireNonNull(onEvent, "onEvent");
    Objects.requireNonNull(onSkipped, "onSkipped");
    tailer.toStart();
    return read(false, onEvent, onSkipped, () -> false);
  }

  /**
   * Reads events as they are appended until {@code stop} returns true (checked between documents
   * and while waiting) or the thread is interrupted. Waits by parking for a short, growing time (at
   * most 20 ms), so new events show up quickly without spinning.
   *
   * @param from where to start
   * @param stop the stop signal (a flag, a deadline, or both)
   */
  public Counts follow(
      Start from,
      Consumer<RecordedEvent> onEvent,
      Consumer<SkippedDocument> onSkipped,
      BooleanSupplier stop) {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(onEvent, "onEvent");
    Objects.requireNonNull(onSkipped, "onSkipped");
    Objects.requireNonNull(stop, "stop");
    if (from == Start.BEGINNING) {
      tailer.toStart();
    } else {
      tailer.toEnd();
    }
    return read(true, onEvent, onSkipped, stop);
  }

  /** One document as stored: its index and text, or why it has no text. */
  interface RawDocument {
    /** Called for each document; {@code text} is {@code null} when {@code error} is not. */
    void accept(long index, String text, String error);
  }

  /** Every document from the start, undecoded (for {@code verify}). */
  long forEachRaw(RawDocument onDocument) {
    tailer.toStart();
    long n = 0;
    while (true) {
      String text = null;
      String error = null;
      long index;
      try (DocumentContext dc = tailer.readingDocument()) {
        if (!dc.isPresent()) {
          return n;
        }
        index = dc.index();
        try {
          text = dc.wire().getValueIn().text();
          if (text == null) {
            error = "empty document";
          }
        } catch (RuntimeException e) {
          error = "not a text document: " + e.getMessage();
        }
      }
      n++;
      onDocument.accept(index, text, error);
    }
  }

  /**
   * Reads the events after journal index {@code afterIndex} (all of them when it is negative) up to
   * the current end, or, with {@code follow}, also new ones until {@code stop} says so.
   */
  public Counts readAfter(
      long afterIndex,
      boolean follow,
      Consumer<RecordedEvent> onEvent,
      Consumer<SkippedDocument> onSkipped,
      BooleanSupplier stop) {
    position(afterIndex);
    return read(follow, onEvent, onSkipped, stop);
  }

  /**
   * Reads from where the tailer stands to the current end or, with {@code follow}, on as new
   * documents come (parking a short, growing time while there are none), until {@code stop} says so
   * or, when following, the thread is interrupted.
   */
  private Counts read(
      boolean follow,
      Consumer<RecordedEvent> onEvent,
      Consumer<SkippedDocument> onSkipped,
      BooleanSupplier stop) {
    long events = 0;
    long skipped = 0;
    long park = MIN_PARK_NANOS;
    while (!stop.getAsBoolean() && !(follow && Thread.currentThread().isInterrupted())) {
      int r = readOne(onEvent, onSkipped);
      if (r == NOTHING) {
        if (!follow) {
          break;
        }
        LockSupport.parkNanos(park);
        park = Math.min(park * 2, MAX_PARK_NANOS);
        continue;
      }
      park = MIN_PARK_NANOS;
      if (r == EVENT) {
        events++;
      } else {
        skipped++;
      }
    }
    return new Counts(events, skipped);
  }

  /** A document's index and text, for scans that decode only what they need. */
  interface TextVisitor {
    /** Returns whether to go on. */
    boolean visit(long index, String text);
  }

  /** Reads the text of each document after {@code afterIndex} (from the start when negative). */
  void scanText(long afterIndex, TextVisitor visitor) {
    position(afterIndex);
    while (true) {
      String text;
      long index;
      try (DocumentContext dc = tailer.readingDocument()) {
        if (!dc.isPresent()) {
          return;
        }
        index = dc.index();
        try {
          text = dc.wire().getValueIn().text();
        } catch (RuntimeException e) {
          continue;
        }
      }
      if (text != null && !visitor.visit(index, text)) {
        return;
      }
    }
  }

  /** Places the tailer on the first document after {@code afterIndex}. */
  private void position(long afterIndex) {
    if (afterIndex < 0) {
      tailer.toStart();
      return;
    }
    if (tailer.moveToIndex(afterIndex)) {
      try (DocumentContext dc = tailer.readingDocument()) {
        if (!dc.isPresent()) {
          return;
        }
      }
      return;
    }
    // The index is gone (retention) or not written yet: start at the first index after it.
    tailer.toStart();
    while (true) {
      try (DocumentContext dc = tailer.readingDocument()) {
        if (!dc.isPresent() || dc.index() > afterIndex) {
          dc.rollbackOnClose();
          return;
        }
      }
    }
  }

  private static final int NOTHING = 0;
  private static final int EVENT = 1;
  private static final int SKIPPED = 2;

  private int readOne(Consumer<RecordedEvent> onEvent, Consumer<SkippedDocument> onSkipped) {
    String text;
    long index;
    try (DocumentContext dc = tailer.readingDocument()) {
      if (!dc.isPresent()) {
        return NOTHING;
      }
      index = dc.index();
      try {
        text = dc.wire().getValueIn().text();
      } catch (RuntimeException e) {
        onSkipped.accept(
            new SkippedDocument(
                index, SkippedDocument.Kind.UNREADABLE, "not a text document: " + e.getMessage()));
        return SKIPPED;
      }
    }
    // Decode and call back outside the document context, so a slow consumer does not hold it.
    if (text == null) {
      onSkipped.accept(
          new SkippedDocument(index, SkippedDocument.Kind.UNREADABLE, "empty document"));
      return SKIPPED;
    }
    LedgerEvent event;
    try {
      event = LedgerEventCodec.fromJson(text);
    } catch (LedgerEventCodec.UnknownEventTypeException e) {
      onSkipped.accept(
          new SkippedDocument(index, SkippedDocument.Kind.UNKNOWN_TYPE, e.getMessage()));
      return SKIPPED;
    } catch (IllegalArgumentException e) {
      onSkipped.accept(new SkippedDocument(index, SkippedDocument.Kind.UNREADABLE, e.getMessage()));
      return SKIPPED;
    }
    onEvent.accept(new RecordedEvent(index, event, text));
    return EVENT;
  }

  /**
   * The event at {@code index} (an index an append returned, or a {@link RecordedEvent#index()}),
   * or empty when there is no readable event there (deleted by retention, or not a known event).
   * Not thread-safe, like the rest of the reader.
   */
  public Optional<RecordedEvent> at(long index) {
    if (!tailer.moveToIndex(index)) {
      return Optional.empty();
    }
    RecordedEvent[] found = new RecordedEvent[1];
    readOne(e -> found[0] = e, skipped -> { });
    return found[0] != null && found[0].index() == index ? Optional.of(found[0]) : Optional.empty();
  }

  @Override
  public void close() {
    tailer.close();
    queue.close();
  }
}
