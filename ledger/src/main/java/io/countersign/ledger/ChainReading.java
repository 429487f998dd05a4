package io.countersign.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/** Finds the head of the chain in an open journal (the writer at open; {@code ledger head}). */
final class ChainReading {

  private ChainReading() {}

  /** The newest sealed event, or {@code null} when the journal holds none. */
  static ChainHead head(SingleChronicleQueue queue) {
    try (ExcerptTailer tailer = queue.createTailer()) {
      tailer.direction(TailerDirection.BACKWARD).toEnd();
      while (true) {
        String text;
        long index;
        try (DocumentContext dc = tailer.readingDocument()) {
          if (!dc.isPresent()) {
            return null;
          }
          index = dc.index();
          try {
            text = dc.wire().getValueIn().text();
          } catch (RuntimeException e) {
            continue;
          }
        }
        ChainHead head = parse(index, text);
        if (head != null) {
          return head;
        }
      }
    }
  }

  /** The chain position of a stored line, or {@code null} when it is not a sealed event. */
  static ChainHead parse(long index, String text) {
    if (text == null) {
      return null;
    }
    HashChain.Sealed sealed = HashChain.split(text);
    if (sealed == null) {
      return null;
    }
    try {
      JsonNode root = LedgerEventCodec.tree(text);
      JsonNode seq = root.get(LedgerEventCodec.FIELD_SEQ);
      if (seq == null || !seq.canConvertToLong()) {
        return null;
      }
      return new ChainHead(index, seq.asLong(), sealed.seal());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
