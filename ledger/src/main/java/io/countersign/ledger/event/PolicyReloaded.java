package io.countersign.ledger.event;

/**
 * {@code policy.reloaded}: a new policy revision is in force.
 *
 * @param from the revision before
 * @param to the revision now in force
 * @param trigger what caused the reload ({@code watch}, {@code api})
 */
public record PolicyReloaded(String from, String to, String trigger) implements EventBody {}
