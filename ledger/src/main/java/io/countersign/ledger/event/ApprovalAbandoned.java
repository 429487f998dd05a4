package io.countersign.ledger.event;

/**
 * {@code approval.abandoned}: a sync hold ended because the agent's connection went away, or the proxy restarted while it waited.
 *
 * @param approvalId the approval id
 * @param digest the request digest
 * @param reason why, for humans
 */
public record ApprovalAbandoned(String approvalId, String digest, String reason) implements ApprovalEvent {}
