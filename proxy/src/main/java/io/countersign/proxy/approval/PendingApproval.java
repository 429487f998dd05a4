package io.countersign.proxy.approval;

import io.countersign.ledger.event.DecisionRecord;
import io.countersign.proxy.canonical.CanonicalRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One hold. Its mutable state (status, votes, result) is guarded by the hold's own monitor: every
 * read and every change is {@code synchronized} on it, and {@link #moveTo} is the one place its
 * status changes. A vote's check and its effect happen in one {@link #vote} call, so two approvers
 * racing on one hold cannot both resolve it. The {@link ApprovalStore} decides what to change and
 * journals it; the resolution future completes once, after the resolving event is in the ledger.
 */
public final class PendingApproval {
  /**
   * One approver's vote.
   *
   * @param approver who
   * @param reason why
   * @param at when
   */
  public record Vote(String approver, String reason, Instant at) {}

  /**
   * How a hold ended.
   *
   * @param status APPROVED, DENIED, EXPIRED or ABANDONED
   * @param by who decided (the approvers, or the one who denied), empty for a timeout
   * @param reason the deciding reason
   */
  public record Resolution(ApprovalStatus status, List<String> by, String reason) {}

  private final String id;
  private final String exchangeId;
  private final HoldMode mode;
  private final ApprovalTerms terms;
  private volatile CanonicalRequest request;
  private volatile long openedIndex = -1;
  private final int size;
  private boolean boundsReleased;
  private final DecisionRecord decision;
  private final String digest;
  private final Instant openedAt;
  private final Instant expiresAt;
  private final CompletableFuture<Resolution> resolution = new CompletableFuture<>();
  private final List<Vote> approvals = new ArrayList<>();
  private ApprovalStatus status = ApprovalStatus.PENDING;
  private Vote denial;
  private TicketResult result;
  private Runnable cancelTimers = () -> { };

  PendingApproval(String id, String exchangeId, HoldMode mode, ApprovalTerms terms,
      CanonicalRequest request, DecisionRecord decision, String digest, Instant openedAt,
      Instant expiresAt) {
    this(id, exchangeId, mode, terms, request, request.size(), decision, digest, openedAt, expiresAt);
  }

  /** A hold whose request is already detached from its body of {@code size} bytes (restored). */
  PendingApproval(String id, String exchangeId, HoldMode mode, ApprovalTerms terms,
      CanonicalRequest request, int size, DecisionRecord decision, String digest, Instant openedAt,
      Instant expiresAt) {
    this.id = id;
    this.exchangeId = exchangeId;
    this.mode = mode;
    this.terms = terms;
    this.request = request;
    this.size = size;
    this.decision = decision;
    this.digest = digest;
    this.openedAt = openedAt;
    this.expiresAt = expiresAt;
  }

  public String id() {
    return id;
  }

  public String exchangeId() {
    return exchangeId;
  }

  public HoldMode mode() {
    return mode;
  }

  public ApprovalTerms terms() {
    return terms;
  }

  /**
   * The held request: method, route, path, query, headers, caller, digest of its body. Once the
   * hold is journaled it is detached from its body bytes and parsed view ({@link
   * CanonicalRequest#detached()}): those stay in the ledger, and {@link HeldBodies} reads them back
   * to execute or show the request.
   */
  public CanonicalRequest request() {
    return request;
  }

  /** The held body's size in bytes (also after the request is detached from it). */
  public int size() {
    return size;
  }

  /** The ledger index of this hold's {@code approval.opened} event, or -1 before it is written. */
  public long openedIndex() {
    return openedIndex;
  }

  /** The hold is journaled at {@code index}: its body now lives there, not in memory. */
  void journaled(long index) {
    openedIndex = index;
    request = request.detached();
  }

  /** A hold rebuilt from the ledger: its body is at {@code index} already. */
  void restoredFrom(long index) {
    openedIndex = index;
  }

  /** Whether this hold's share of the bounds is still counted; true once, when it is given back. */
  synchronized boolean releaseBounds() {
    if (boundsReleased) {
      return false;
    }
    boundsReleased = true;
    return true;
  }

  /** The decision that held it, as journaled (risk, rule, reasons, obligations). */
  public DecisionRecord decision() {
    return decision;
  }

  /** The request digest every vote must name. */
  public String digest() {
    return digest;
  }

  public Instant openedAt() {
    return openedAt;
  }

  public Instant expiresAt() {
    return expiresAt;
  }

  /** Completes once with how the hold ended, after that is recorded. */
  public CompletableFuture<Resolution> resolution() {
    return resolution;
  }

  /** The current status. */
  public synchronized ApprovalStatus status() {
    return status;
  }

  /** The approvals so far, in order. */
  public synchronized List<Vote> approvals() {
    return List.copyOf(approvals);
  }

  /** The approvers whose votes count, in order. */
  public synchronized List<String> approvers() {
    return approvals.stream().map(Vote::approver).toList();
  }

  /** The deny vote that ended the hold, or null. */
  public synchronized Vote denial() {
    return denial;
  }

  /** The upstream's answer to an executed async hold, for its ticket; null before. */
  public synchronized TicketResult result() {
    return result;
  }

  /**
   * Moves to {@code to}.
   *
   * @return false, changing nothing, when the hold is not in a status that may move there (it was
   *     resolved meanwhile, by a vote, a timeout or the agent going away)
   */
  synchronized boolean moveTo(ApprovalStatus to) {
    if (!status.canMoveTo(to)) {
      return false;
    }
    status = to;
    if (to.isFinal() || to == ApprovalStatus.APPROVED) {
      cancelTimers.run(); // nothing is left to time out
      cancelTimers = () -> { };
    }
    return true;
  }

  /**
   * Checks a vote and applies it, atomically.
   *
   * @param refusal why the vote does not count (null if it does); checked under this hold's lock
   * @return whether the vote resolved the hold (the quorum is reached, or it was a deny)
   * @throws ApprovalRefusedException the refusal, when there is one
   */
  synchronized boolean vote(Vote v, boolean approve, VoteCheck refusal) {
    ApprovalRefusedException refused = refusal.check(this);
    if (refused != null) {
      throw refused;
    }
    if (!approve) {
      denial = v;
      return moveTo(ApprovalStatus.DENIED);
    }
    approvals.add(v);
    return approvals.size() >= terms.quorum() && moveTo(ApprovalStatus.APPROVED);
  }

  /** Why a vote on a hold does not count; called under the hold's lock. */
  interface VoteCheck {
    /** The refusal, or null when the vote counts. */
    ApprovalRefusedException check(PendingApproval a);
  }

  /** Rebuilds a restored hold's votes and result (no journaling: they are in the ledger). */
  synchronized void restore(List<Vote> votes, Vote deniedBy, TicketResult executed) {
    approvals.addAll(votes);
    denial = deniedBy;
    result = executed;
  }

  /** Keeps the answer of an executed async hold and ends it. */
  synchronized void complete(TicketResult r) {
    if (moveTo(ApprovalStatus.COMPLETED)) {
      result = r;
    }
  }

  /** What cancels this hold's timers; replaced by the store when it schedules them. */
  synchronized void timers(Runnable cancel) {
    this.cancelTimers = cancel;
  }
}
