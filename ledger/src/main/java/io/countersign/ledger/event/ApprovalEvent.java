package io.countersign.ledger.event;

/** An event of one hold's life, keyed by its approval id. */
public sealed interface ApprovalEvent extends EventBody
    permits ApprovalOpened, ApprovalApproved, ApprovalDenied, ApprovalExpired, ApprovalAbandoned,
        ApprovalExecuting, ApprovalRefused, ApprovalNotified {
  /** The hold's approval id; {@code null} only for a refused call that named no known hold. */
  String approvalId();
}
