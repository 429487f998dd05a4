package io.countersign.ledger;

import io.countersign.ledger.event.LedgerRetention;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Deletes whole old roll cycles. Runs on the writer thread (at open and when a new cycle starts),
 * which then records a {@link EventType#LEDGER_RETENTION} event naming the deleted files and where
 * the chain now starts: {@code verify} accepts a chain that starts after seq 0 only with such a
 * record.
 */
final class Retention {

  /** The exchange id of ledger-internal events. */
  static final String LEDGER_EXCHANGE_ID = "ledger";

  private Retention() {}

  /**
   * What was deleted.
   *
   * @param files the deleted file names, oldest first
   * @param firstKeptSeq the chain position of the first event kept, or -1 if none
   * @param firstKeptPrev its {@code prev}, or {@code null}
   */
  record Deleted(List<String> files, long firstKeptSeq, String firstKeptPrev) {}

  /** Deletes all but the newest {@code retain} cycle files; {@code null} when none was deleted. */
  static Deleted apply(SingleChronicleQueue queue, Path dir, int retain) throws IOException {
    List<Path> cycles;
    try (Stream<Path> files = Files.list(dir)) {
      cycles =
          files
              .filter(f -> f.getFileName().toString().endsWith(SingleChronicleQueue.SUFFIX))
              .sorted() // Chronicle's cycle file names sort by time
              .toList();
    }
    if (cycles.size() <= retain) {
      return null;
    }
    List<String> deleted = new ArrayList<>();
    for (Path f : cycles.subList(0, cycles.size() - retain)) {
      Files.deleteIfExists(f);
      deleted.add(f.getFileName().toString());
    }
    queue.refreshDirectoryListing();
    long seq = -1;
    String prev = null;
    try (ExcerptTailer tailer = queue.createTailer()) {
      tailer.toStart();
      try (DocumentContext dc = tailer.readingDocument()) {
        if (dc.isPresent()) {
          String text = dc.wire().getValueIn().text();
          JsonNode root = LedgerEventCodec.tree(text);
          seq = root.path(LedgerEventCodec.FIELD_SEQ).asLong(-1);
          prev = root.path(LedgerEventCodec.FIELD_PREV).asText(null);
        }
      } catch (RuntimeException e) {
        // An unreadable first event: verify reports it; retention still records the deletion.
      }
    }
    return new Deleted(List.copyOf(deleted), seq, prev);
  }

  /** The event recording a deletion. */
  static LedgerEvent event(Deleted d, int retain, long nowMillis) {
    boolean anchored = d.firstKeptSeq() >= 0;
    return LedgerEvent.of(LEDGER_EXCHANGE_ID, Instant.ofEpochMilli(nowMillis),
        new LedgerRetention(retain, d.files(), anchored ? d.firstKeptSeq() : null,
            anchored ? d.firstKeptPrev() : null));
  }
}
