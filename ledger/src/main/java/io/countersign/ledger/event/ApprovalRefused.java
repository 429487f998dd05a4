package io.countersign.ledger.event;

/**
 * {@code approval.refused}: an attempt to approve or deny was refused (bad token, wrong group,
 * self-approval, digest mismatch, already voted, not pending ...). Nothing changed.
 *
 * @param approvalId the hold named, or null when it is unknown
 * @param digest the hold's digest, or null when the hold is unknown
 * @param approver who tried ({@code (unauthenticated)} for a bad token)
 * @param error the refusal's code
 * @param message why
 */
public record ApprovalRefused(
    String approvalId, String digest, String approver, String error, String message)
    implements ApprovalEvent {}
