package io.countersign.ledger;

import java.util.concurrent.CompletionStage;

/**
 * The append side of the journal.
 *
 * <p>{@link #append} writes the event before it returns, on the caller's thread, in microseconds
 * (memory-mapped, so it survives a crash of this process), and returns a completed stage: callers
 * that must write ahead (the intent before the request leaves) chain on it. The stage completes
 * exceptionally with {@link LedgerUnavailableException} when the event could not be written; the
 * proxy then fails closed. It is a stage so that a journal which must wait (a remote one) can be
 * put behind the same interface.
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

  /** Waits for an append in progress and releases the journal. */
  @Override
  void close();
}
