package io.countersign.proxy.approval;

import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.RecordedEvent;
import io.countersign.ledger.event.ApprovalOpened;
import io.countersign.ledger.event.HeldRequest;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.route.RouteTable;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Where held requests keep their bodies: in the ledger, in the {@code approval.opened} event each
 * hold journals before it waits, and nowhere else. A hold keeps only what it shows and checks in
 * memory, so a flood of large held requests fills no heap (the count and byte bounds of {@link
 * ApprovalStore} keep the ledger's share bounded too); the body is read back once, to execute the
 * approved request, or to show it to an approver.
 *
 * <p>Threading: reads run on one thread of their own ({@value #THREAD}), never on an event loop (a
 * read of a mapped page may wait for the disk); the stages complete there. Its reader is confined
 * to that thread.
 */
public final class HeldBodies implements AutoCloseable {
  /** The thread that reads held bodies. */
  public static final String THREAD = "countersign-held-bodies";

  private final Path ledgerDir;
  private final RouteTable routes;
  private final ExecutorService reads = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, THREAD);
    t.setDaemon(true);
    return t;
  });
  private LedgerReader reader; // confined to the read thread

  /**
   * @param ledgerDir the ledger the holds were journaled in
   * @param routes the routes a held request is rebuilt against
   */
  public HeldBodies(Path ledgerDir, RouteTable routes) {
    this.ledgerDir = ledgerDir;
    this.routes = routes;
  }

  /** The hold's journaled request, as {@code approval.opened} recorded it. */
  public CompletionStage<HeldRequest> record(PendingApproval a) {
    return CompletableFuture.supplyAsync(() -> opened(a).request(), reads);
  }

  /**
   * The exact request the hold judged, with its body, rebuilt from the ledger; the caller owns (and
   * releases) it.
   *
   * @return a stage failing with {@link IllegalStateException} when the event is gone or does not
   *     match the hold (its digest), or with {@link IllegalArgumentException} when the request
   *     cannot be rebuilt (its route is gone, its body does not match its SHA-256)
   */
  public CompletionStage<CanonicalRequest> request(PendingApproval a) {
    return CompletableFuture.supplyAsync(() -> {
      ApprovalOpened o = opened(a);
      CanonicalRequest r = HeldRequests.fromRecord(o.request(), routes);
      if (!HeldRequests.digest(r).equals(a.digest())) {
        r.release();
        throw new IllegalStateException("the journaled request of approval " + a.id()
            + " does not have the digest that was approved");
      }
      return r;
    }, reads);
  }

  private ApprovalOpened opened(PendingApproval a) {
    if (reader == null) {
      reader = LedgerReader.open(ledgerDir);
    }
    ApprovalOpened o = reader.at(a.openedIndex()).map(RecordedEvent::event)
        .map(e -> e.bodyAs(ApprovalOpened.class)).orElse(null);
    if (o == null || !a.id().equals(o.approvalId())) {
      throw new IllegalStateException("approval " + a.id() + ": its approval.opened event is not at"
          + " ledger index " + a.openedIndex() + " (deleted by retention?); it cannot be executed");
    }
    return o;
  }

  /** Stops the read thread and closes the reader. */
  @Override
  public void close() {
    reads.execute(() -> {
      if (reader != null) {
        reader.close();
      }
    });
    reads.shutdown();
  }
}
