package io.countersign.ledger.event;

/**
 * {@code approval.opened}: a hold opened. Its terms, deadline, the exact request to forward on
 * approval, and the decision that held it.
 *
 * @param approvalId the approval id (unguessable; also the async ticket)
 * @param digest the request digest every vote must name
 * @param mode {@code sync} (the agent's connection waits) or {@code async} (a ticket)
 * @param terms the approval terms
 * @param openedAt when it opened
 * @param expiresAt when it times out
 * @param request the held request
 * @param decision the decision that held it
 */
public record ApprovalOpened(
    String approvalId,
    String digest,
    String mode,
    HoldTerms terms,
    String openedAt,
    String expiresAt,
    HeldRequest request,
    DecisionRecord decision)
    implements ApprovalEvent {}
