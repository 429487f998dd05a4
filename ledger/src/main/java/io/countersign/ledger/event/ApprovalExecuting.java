package io.countersign.ledger.event;

import java.util.List;

/**
 * {@code approval.executing}: the approved request is about to be forwarded. Written before it
 * leaves, so that after a crash the proxy never sends it again (at most once).
 *
 * @param approvalId the approval id
 * @param digest the request digest
 * @param approvedBy the approvers whose votes made the quorum
 */
public record ApprovalExecuting(String approvalId, String digest, List<String> approvedBy)
    implements ApprovalEvent {

  /** Copies the list. */
  public ApprovalExecuting {
    approvedBy = approvedBy == null ? List.of() : List.copyOf(approvedBy);
  }
}
