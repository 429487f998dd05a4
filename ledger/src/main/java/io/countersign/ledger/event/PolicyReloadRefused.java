package io.countersign.ledger.event;

/**
 * {@code policy.reload_refused}: a candidate policy did not compile or failed its checks; the old
 * one stays in force.
 *
 * @param revisionInForce the revision still in force
 * @param trigger what caused the attempt
 * @param error why it was refused
 */
public record PolicyReloadRefused(String revisionInForce, String trigger, String error)
    implements EventBody {}
