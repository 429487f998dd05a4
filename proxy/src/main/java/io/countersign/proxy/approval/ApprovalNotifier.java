package io.countersign.proxy.approval;

/** Told when a hold opens (or escalates), to reach the approvers. Must not block the caller. */
public interface ApprovalNotifier {
  /**
   * A hold needs {@code group}'s attention.
   *
   * @param approval the hold
   * @param group the group to notify (the hold's own, or its escalation group)
   */
  void opened(PendingApproval approval, String group);

  /** Stops background work (retries). */
  default void close() {}
}
