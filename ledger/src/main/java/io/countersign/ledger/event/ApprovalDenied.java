package io.countersign.ledger.event;

/**
 * {@code approval.denied}: the hold ended denied: by an approver's vote ({@code approver} set), or
 * by the proxy failing closed (a vote or the hold could not be recorded).
 *
 * @param approvalId the approval id
 * @param digest the request digest
 * @param approver who denied, or null when the proxy did
 * @param reason why
 * @param approvals approvals the hold had, or null when the proxy denied
 * @param quorum approvals needed, or null when the proxy denied
 * @param resolved true when an approver denied (a deny always resolves), or null
 */
public record ApprovalDenied(
    String approvalId, String digest, String approver, String reason, Integer approvals,
    Integer quorum, Boolean resolved)
    implements ApprovalEvent {

  /** A deny by the proxy itself, without a vote. */
  public static ApprovalDenied byProxy(String approvalId, String digest, String reason) {
    return new ApprovalDenied(approvalId, digest, null, reason, null, null, null);
  }
}
