package io.countersign.ledger;

import java.util.Objects;

/**
 * A journal document a reader did not turn into an event, and why. Readers skip these instead of
 * stopping, so one bad or newer document never hides the rest of the journal.
 *
 * @param index the journal index of the document
 * @param kind why it was skipped
 * @param reason a one-line explanation for an operator
 */
public record SkippedDocument(long index, Kind kind, String reason) {

  /** Why a document was skipped. */
  public enum Kind {
    /**
     * A valid envelope naming an event type this code does not know (written by a newer version).
     */
    UNKNOWN_TYPE,
    /** Not a readable ledger event: not text, not JSON, a bad envelope or an unknown version. */
    UNREADABLE
  }

  /** Validates the record. */
  public SkippedDocument {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(reason, "reason");
  }
}
