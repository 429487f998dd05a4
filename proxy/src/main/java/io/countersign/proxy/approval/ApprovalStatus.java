package io.countersign.proxy.approval;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where a hold stands: a state machine. {@link PendingApproval#moveTo} is the one place a hold's
 * status changes, and it refuses a move this machine does not allow.
 *
 * <pre>
 * PENDING ──▶ APPROVED ──▶ EXECUTING ──▶ COMPLETED
 *    │            └──────▶ DENIED (the execution could not be recorded)
 *    ├──▶ DENIED    (an approver, or the proxy failing closed)
 *    ├──▶ EXPIRED   (its timeout)
 *    └──▶ ABANDONED (a sync hold's agent went away, or a restart ended it)
 * </pre>
 */
public enum ApprovalStatus {
  /** Waiting for approvers. */
  PENDING,
  /** Enough distinct approvers approved; the request is about to be forwarded. */
  APPROVED,
  /** {@code approval.executing} is journaled: the request is (being) forwarded, at most once. */
  EXECUTING,
  /** An approver denied, or the hold could not be recorded (fail closed). */
  DENIED,
  /** The hold timed out (and on_timeout is deny). */
  EXPIRED,
  /** A sync hold whose agent connection went away, or a proxy restart ended it. */
  ABANDONED,
  /** The approved request was forwarded and its outcome recorded (an async hold keeps the result). */
  COMPLETED;

  private Set<ApprovalStatus> next;

  static {
    PENDING.next = EnumSet.of(APPROVED, DENIED, EXPIRED, ABANDONED);
    APPROVED.next = EnumSet.of(EXECUTING, DENIED);
    EXECUTING.next = EnumSet.of(COMPLETED);
    DENIED.next = EnumSet.noneOf(ApprovalStatus.class);
    EXPIRED.next = EnumSet.noneOf(ApprovalStatus.class);
    ABANDONED.next = EnumSet.noneOf(ApprovalStatus.class);
    COMPLETED.next = EnumSet.noneOf(ApprovalStatus.class);
  }

  /** Whether the machine allows moving from this status to {@code to}. */
  public boolean canMoveTo(ApprovalStatus to) {
    return next.contains(to);
  }

  /** Whether the hold can still be approved or denied. */
  public boolean isOpen() {
    return this == PENDING;
  }

  /** Whether the hold has ended (no move leaves this status). */
  public boolean isFinal() {
    return next.isEmpty();
  }
}
