package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.canonical.CanonicalRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One hold. Mutable state is guarded by the {@link ApprovalStore} that owns it (all changes happen
 * under the store's lock); the resolution future completes once, after the resolving event is in
 * the ledger.
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
  private final CanonicalRequest request;
  private final JsonNode decision;
  private final String digest;
  private final Instant openedAt;
  private final Instant expiresAt;
  private final List<Vote> approvals = new ArrayList<>();
  private final CompletableFuture<Resolution> resolution = new CompletableFuture<>();
  private ApprovalStatus status = ApprovalStatus.PENDING;
  private Vote denial;
  private boolean executing;
  private TicketResult result;
  private java.util.concurrent.Future<?> expiry;

  PendingApproval(String id, String exchangeId, HoldMode mode, ApprovalTerms terms,
      CanonicalRequest request, JsonNode decision, String digest, Instant openedAt, Instant expiresAt) {
    this.id = id;
    this.exchangeId = exchangeId;
    this.mode = mode;
    this.terms = terms;
    this.request = request;
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

  /** The exact request that will be forwarded on approval. */
  public CanonicalRequest request() {
    return request;
  }

  /** The decision that held it (risk, rule, reasons, obligations). */
  public JsonNode decision() {
    return decision;
  }

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

  /** Current value (thread-safe). */
  public synchronized ApprovalStatus status() {
    return status;
  }

  synchronized void status(ApprovalStatus s) {
    this.status = s;
  }

  /** Current value (thread-safe). */
  public synchronized List<Vote> approvals() {
    return List.copyOf(approvals);
  }

  synchronized void addApproval(Vote v) {
    approvals.add(v);
  }

  /** Current value (thread-safe). */
  public synchronized Vote denial() {
    return denial;
  }

  synchronized void denial(Vote v) {
    this.denial = v;
  }

  /** Current value (thread-safe). */
  public synchronized boolean executing() {
    return executing;
  }

  synchronized void executing(boolean e) {
    this.executing = e;
  }

  /** Current value (thread-safe). */
  public synchronized TicketResult result() {
    return result;
  }

  synchronized void result(TicketResult r) {
    this.result = r;
  }

  synchronized void expiry(java.util.concurrent.Future<?> f) {
    this.expiry = f;
  }

  /** Cancels the expiry timer once the hold has ended (so ended holds do not keep timer tasks). */
  synchronized void cancelExpiry() {
    if (expiry != null) {
      expiry.cancel(false);
      expiry = null;
    }
  }
}
