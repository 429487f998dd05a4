package io.countersign.ledger;

import java.util.concurrent.CompletionStage;

/**
 * The append side of the journal.
 *
 * <p>{@link #append} never blocks the caller: a dedicated writer thread appends, and the returned
 * stage completes once the event is in the journal (memory-mapped, so it survives a crash of this
 * process). Callers that must write ahead (the intent before the request leaves) chain on it. The
 * stage completes exceptionally with {@link LedgerUnavailableException} when the event could not be
 * written; the proxy then fails closed.
 */
public interface Ledger extends AutoCloseable {

  /**
   * Appends one event.
   *
   * @return the event's index in the journal, once written
   */
  CompletionStage<Long> append(LedgerEvent event);

  /** True while appends can succeed (for readiness). */
  boolean isWritable();

  /** Flushes what is queued and releases the journal. */
  @Override
  void close();
}
