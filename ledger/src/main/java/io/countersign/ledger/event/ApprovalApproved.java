package io.countersign.ledger.event;

/**
 * {@code approval.approved}: one approver approved; with enough distinct approvers the hold
 * resolves approved.
 *
 * @param approvalId the approval id
 * @param digest the request digest the approver named
 * @param approver who
 * @param reason why
 * @param approvals approvals so far, this one included
 * @param quorum approvals needed
 * @param resolved whether this vote reached the quorum
 */
public record ApprovalApproved(
    String approvalId, String digest, String approver, String reason, int approvals, int quorum,
    boolean resolved)
    implements ApprovalEvent {}
