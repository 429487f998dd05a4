package io.countersign.proxy.approval;

/**
 * How much a sidecar holds at once: by count (per mode) and by the bytes of the held bodies (in
 * total and per workflow), so that a hostile or runaway agent can neither exhaust memory nor the
 * ledger's disk with holds, nor one workflow crowd out the others. Bodies are kept in the ledger,
 * not in memory ({@link HeldBodies}); the byte bounds count them from the hold's opening to its end.
 *
 * @param maxPending async holds pending at once (beyond: 429 {@code too_many_pending})
 * @param maxHeldConnections sync holds waiting at once (beyond: 503 {@code too_many_held})
 * @param maxHeldBytes bytes of held bodies at once, in total (beyond: 429 {@code held_bytes_full})
 * @param maxHeldBytesPerWorkflow bytes of held bodies of one workflow at once (beyond: 429 {@code
 *     workflow_held_bytes_full}); calls without a workflow count as one workflow
 */
public record HoldBounds(int maxPending, int maxHeldConnections, long maxHeldBytes,
    long maxHeldBytesPerWorkflow) {

  /** Bounds by count only (the byte bounds as large as can be). */
  public static HoldBounds counts(int maxPending, int maxHeldConnections) {
    return new HoldBounds(maxPending, maxHeldConnections, Long.MAX_VALUE, Long.MAX_VALUE);
  }
}
