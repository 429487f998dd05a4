package io.countersign.ledger.event;

/**
 * {@code approval.notified}: a notification about a hold was delivered, or finally failed after its
 * retries. Never affects the hold.
 *
 * @param approvalId the approval id
 * @param channel the notifier's kind ({@code generic}, {@code slack} ...)
 * @param target where it went (scheme and authority only: no secrets in paths)
 * @param group the group it was for
 * @param delivered whether it was delivered
 * @param attempts how many tries it took
 * @param detail the last answer or error
 */
public record ApprovalNotified(
    String approvalId, String channel, String target, String group, boolean delivered, int attempts,
    String detail)
    implements ApprovalEvent {}
