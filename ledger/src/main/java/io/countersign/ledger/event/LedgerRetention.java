package io.countersign.ledger.event;

import java.util.List;

/**
 * {@code ledger.retention}: the ledger deleted whole old roll cycles under its retention setting,
 * and where the chain now starts (so {@code verify} can tell retention from tampering).
 *
 * @param retainCycles how many cycles are kept
 * @param deletedFiles the files deleted
 * @param firstKeptSeq the chain position of the first event kept, or null when none is readable
 * @param firstKeptPrev the {@code prev} of that event, or null
 */
public record LedgerRetention(
    int retainCycles, List<String> deletedFiles, Long firstKeptSeq, String firstKeptPrev)
    implements EventBody {

  /** Copies the list. */
  public LedgerRetention {
    deletedFiles = deletedFiles == null ? List.of() : List.copyOf(deletedFiles);
  }
}
