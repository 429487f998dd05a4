package io.countersign.ledger.event;

/**
 * {@code approval.expired}: the hold timed out and resolved by its {@code on_timeout} rule (deny).
 *
 * @param approvalId the approval id
 * @param digest the request digest
 * @param reason why, for humans
 */
public record ApprovalExpired(String approvalId, String digest, String reason) implements ApprovalEvent {}
