package io.countersign.ledger;

import java.util.Objects;

/**
 * An event as read back from the journal, with the index Chronicle Queue gave it.
 *
 * @param index the journal index (roll cycle in the high bits, sequence in the low bits); indexes
 *     grow with every append, across files
 * @param event the event
 */
public record RecordedEvent(long index, LedgerEvent event) {

  /** Validates the record. */
  public RecordedEvent {
    Objects.requireNonNull(event, "event");
  }
}
