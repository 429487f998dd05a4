package io.countersign.proxy.approval;

/** Where a hold stands. */
public enum ApprovalStatus {
  /** Waiting for approvers. */
  PENDING,
  /** Enough distinct approvers approved; the request is (being) forwarded. */
  APPROVED,
  /** An approver denied, or the hold could not be recorded (fail closed). */
  DENIED,
  /** The hold timed out (and on_timeout is deny). */
  EXPIRED,
  /** A sync hold whose agent connection went away, or a proxy restart ended it. */
  ABANDONED,
  /** An approved async request was forwarded and its outcome recorded (see the result). */
  COMPLETED;

  /** Whether the hold can still be approved or denied. */
  public boolean isOpen() {
    return this == PENDING;
  }
}
