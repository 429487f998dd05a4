package io.countersign.ledger;

import java.util.Objects;

/**
 * An event as read back from the journal, with the index Chronicle Queue gave it.
 *
 * @param index the journal index (roll cycle in the high bits, sequence in the low bits); indexes
 *     grow with every append, across files
 * @param event the event
 * @param stored the line exactly as stored (with its chain members {@code seq}, {@code prev},
 *     {@code hash} and any {@code redacted}), or {@code null} for an event not read from a journal
 */
public record RecordedEvent(long index, LedgerEvent event, String stored) {

  /** Validates the record. */
  public RecordedEvent {
    Objects.requireNonNull(event, "event");
  }

  /** An event at {@code index} without its stored line. */
  public RecordedEvent(long index, LedgerEvent event) {
    this(index, event, null);
  }
}
