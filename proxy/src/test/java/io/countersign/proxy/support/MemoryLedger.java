package io.countersign.proxy.support;

import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.LedgerUnavailableException;
import io.countersign.ledger.event.EventBody;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A ledger in memory, for unit tests of the rules built on the journal (the Chronicle journal
 * itself is tested on disk, and every integration test uses it). It can be told to refuse writes,
 * as a full or broken disk would. Thread-safe.
 */
public final class MemoryLedger implements Ledger {
  private final List<LedgerEvent> events = new ArrayList<>();
  private volatile boolean refusing;

  @Override
  public synchronized CompletionStage<Long> append(LedgerEvent event) {
    if (refusing) {
      return CompletableFuture.failedFuture(new LedgerUnavailableException("refused by the test"));
    }
    events.add(event);
    return CompletableFuture.completedFuture((long) events.size() - 1);
  }

  /** From now on every append fails (or succeeds again with false). */
  public void refuse(boolean refuse) {
    this.refusing = refuse;
  }

  /** Every event so far. */
  public synchronized List<LedgerEvent> events() {
    return List.copyOf(events);
  }

  /** The bodies of {@code kind} so far, in order. */
  public synchronized <T extends EventBody> List<T> bodies(Class<T> kind) {
    List<T> out = new ArrayList<>();
    for (LedgerEvent e : events) {
      if (kind.isInstance(e.body())) {
        out.add(kind.cast(e.body()));
      }
    }
    return out;
  }

  @Override
  public boolean isWritable() {
    return !refusing;
  }

  @Override
  public void close() {}
}
