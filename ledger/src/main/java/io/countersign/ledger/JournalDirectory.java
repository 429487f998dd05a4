package io.countersign.ledger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;

/** Where the journal's files live, and how a reader recognizes that a directory holds one. */
final class JournalDirectory {

  private JournalDirectory() {}

  /**
   * Fails unless {@code dir} holds a journal: Chronicle's metadata file (written when a ledger is
   * opened, even before the first append) or at least one roll-cycle file.
   */
  static void requireJournal(Path dir) {
    if (!Files.exists(dir)) {
      throw new NoLedgerException(dir, "the directory does not exist");
    }
    if (!Files.isDirectory(dir)) {
      throw new NoLedgerException(dir, "not a directory");
    }
    if (Files.isRegularFile(dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE))) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      if (files.anyMatch(f -> f.getFileName().toString().endsWith(SingleChronicleQueue.SUFFIX))) {
        return;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    throw new NoLedgerException(
        dir,
        "no journal files ("
            + SingleChronicleQueue.QUEUE_METADATA_FILE
            + " or *"
            + SingleChronicleQueue.SUFFIX
            + ") in it");
  }

  /** A queue for appending, created if absent. */
  static SingleChronicleQueue openForAppend(Path dir, RollPeriod period) {
    return openForAppend(dir, period, net.openhft.chronicle.core.time.SystemTimeProvider.INSTANCE);
  }

  /** A queue for appending, with a clock for its roll cycles. */
  static SingleChronicleQueue openForAppend(Path dir, RollPeriod period, TimeProvider time) {
    return SingleChronicleQueueBuilder.binary(dir)
        .rollCycle(period.chronicleCycle())
        .timeProvider(time)
        .build();
  }

  /**
   * A queue for reading. Read-only so a reader can never create or extend files under a live
   * writer; the roll cycle is taken from the journal's own metadata.
   */
  static SingleChronicleQueue openForRead(Path dir) {
    return SingleChronicleQueueBuilder.binary(dir).readOnly(true).build();
  }
}
