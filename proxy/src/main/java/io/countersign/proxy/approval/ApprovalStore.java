package io.countersign.proxy.approval;

import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.event.ApprovalAbandoned;
import io.countersign.ledger.event.ApprovalApproved;
import io.countersign.ledger.event.ApprovalDenied;
import io.countersign.ledger.event.ApprovalExecuting;
import io.countersign.ledger.event.ApprovalExpired;
import io.countersign.ledger.event.ApprovalOpened;
import io.countersign.ledger.event.ApprovalRefused;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.EventBody;
import io.countersign.ledger.event.HoldTerms;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.time.Scheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All holds of this sidecar, and the rules of approving them: the right group, the exact digest,
 * never the requester, a quorum of distinct approvers, single use, a deadline. Every change is
 * decided under the hold's own lock (see {@link PendingApproval}), then journaled; the hold's
 * resolution completes only once its event is in the ledger. If the ledger refuses a vote, the hold
 * is denied (fail closed).
 *
 * <p>Time comes from the injected clock and scheduler (expiry, escalation, and how long an ended
 * hold stays in memory), so the rules are tested with fake time. Nothing here runs on an event
 * loop or blocks one: stages complete on the thread that appended (the ledger's append returns
 * completed) or on the scheduler's thread.
 */
public final class ApprovalStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalStore.class);

  /** How long an ended hold stays in memory (the ledger keeps it for good). */
  public static final Duration TICKET_RETENTION = Duration.ofHours(1);

  private final Ledger ledger;
  private final Clock clock;
  private final Scheduler scheduler;
  private final HoldBounds limits;
  private final List<ApprovalNotifier> notifiers;
  private final List<String> agentActsFor;
  private final Map<String, PendingApproval> approvals = new ConcurrentHashMap<>();

  /** Guards the counts below, which bound the holds open at once. */
  private final Object bounds = new Object();
  private int pendingAsync;
  private int pendingSync;
  private long heldBytes;
  private final Map<String, Long> heldBytesByWorkflow = new java.util.HashMap<>();
  private volatile Listener listener = new Listener() {};

  /** Told when holds open and resolve (metrics). Called on whichever thread made the change. */
  public interface Listener {
    /** A hold opened. */
    default void opened(PendingApproval a) {}

    /** A hold resolved; {@code byHuman} when an approver decided it. */
    default void resolved(PendingApproval a, PendingApproval.Resolution r, boolean byHuman) {}
  }

  /**
   * @param ledger where every approval event goes
   * @param clock the wall clock for timestamps and deadlines
   * @param scheduler runs expiry, escalation and retirement
   * @param limits how much is held at once
   * @param notifiers told when a hold opens (and on escalation)
   * @param agentActsFor the people the sidecar's agent acts for: never approvers of its holds
   */
  public ApprovalStore(Ledger ledger, Clock clock, Scheduler scheduler, HoldBounds limits,
      List<ApprovalNotifier> notifiers, List<String> agentActsFor) {
    this.ledger = ledger;
    this.clock = clock;
    this.scheduler = scheduler;
    this.limits = limits;
    this.notifiers = List.copyOf(notifiers);
    this.agentActsFor = List.copyOf(agentActsFor);
  }

  /** Sets the listener. */
  public void listener(Listener l) {
    this.listener = l;
  }

  /**
   * Opens a hold for {@code request}. Completes after {@code approval.opened} is journaled; then the
   * hold keeps the request detached from its body ({@link PendingApproval#request()}), and the body
   * {@code request} held is released: the caller goes on with the hold's request. When the stage
   * fails, {@code request} is untouched.
   *
   * @param decision the decision that held it, as journaled
   * @throws ApprovalRefusedException 429/503 when the bounds are reached
   */
  public CompletionStage<PendingApproval> open(String exchangeId, HoldMode mode, ApprovalTerms terms,
      CanonicalRequest request, DecisionRecord decision) {
    Instant now = clock.instant();
    PendingApproval a = new PendingApproval(UUID.randomUUID().toString(), exchangeId, mode, terms,
        request, decision, HeldRequests.digest(request), now, now.plus(terms.timeout()));
    String workflow = workflowOf(a);
    synchronized (bounds) {
      if (mode == HoldMode.ASYNC && pendingAsync >= limits.maxPending()) {
        throw new ApprovalRefusedException(429, "too_many_pending", "this proxy already holds "
            + limits.maxPending() + " requests awaiting approval; retry later");
      }
      if (mode == HoldMode.SYNC && pendingSync >= limits.maxHeldConnections()) {
        throw new ApprovalRefusedException(503, "too_many_held", "this proxy already holds "
            + limits.maxHeldConnections() + " connections awaiting approval; retry later"
            + " or send Prefer: respond-async");
      }
      if (heldBytes + a.size() > limits.maxHeldBytes()) {
        throw new ApprovalRefusedException(429, "held_bytes_full", "the requests held for approval"
            + " already take " + heldBytes + " of the " + limits.maxHeldBytes() + " bytes this proxy"
            + " holds at once; retry later");
      }
      long ofWorkflow = heldBytesByWorkflow.getOrDefault(workflow, 0L);
      if (ofWorkflow + a.size() > limits.maxHeldBytesPerWorkflow()) {
        throw new ApprovalRefusedException(429, "workflow_held_bytes_full", "the requests of workflow "
            + workflow + " held for approval already take " + ofWorkflow + " of the "
            + limits.maxHeldBytesPerWorkflow() + " bytes one workflow may hold at once; retry later");
      }
      count(mode, +1);
      hold(workflow, a.size());
    }
    approvals.put(a.id(), a);
    return journal(a, opened(a)).handle((idx, err) -> {
      if (err != null) {
        end(a, ApprovalStatus.DENIED, List.of(), "the hold could not be recorded", false);
        throw new ApprovalRefusedException(503, "ledger_unavailable",
            "the ledger cannot record this hold, so it is refused: " + err.getMessage());
      }
      a.journaled(idx);
      schedule(a);
      listener.opened(a);
      notifiers.forEach(n -> n.opened(a, a.terms().group()));
      return a;
    });
  }

  /**
   * Takes back a hold rebuilt from the ledger at startup (no new event): its votes are restored and
   * its status replayed through the state machine; an open one gets its timers again.
   */
  void restore(PendingApproval a, List<ApprovalStatus> path) {
    for (ApprovalStatus s : path) {
      if (!a.moveTo(s)) {
        throw new IllegalStateException("approval " + a.id() + " cannot be restored as " + path);
      }
    }
    approvals.put(a.id(), a);
    if (a.status().isFinal()) {
      a.releaseBounds();
      retire(a);
      return;
    }
    synchronized (bounds) {
      if (a.status() == ApprovalStatus.PENDING) {
        count(a.mode(), +1);
      }
      hold(workflowOf(a), a.size());
    }
    if (a.status() == ApprovalStatus.PENDING) {
      schedule(a);
    }
  }

  private void schedule(PendingApproval a) {
    Instant now = clock.instant();
    Scheduler.Scheduled expiry = scheduler.schedule(() -> expire(a.id()),
        Duration.between(now, a.expiresAt()));
    Scheduler.Scheduled escalation = () -> { };
    ApprovalTerms t = a.terms();
    if (t.escalateGroup() != null) {
      // counted from the hold's opening, so a restart neither repeats nor delays it
      Instant at = a.openedAt().plus(t.escalateAfter());
      if (!at.isBefore(now) && at.isBefore(a.expiresAt())) {
        escalation = scheduler.schedule(() -> {
          if (a.status() == ApprovalStatus.PENDING) {
            notifiers.forEach(n -> n.opened(a, t.escalateGroup()));
          }
        }, Duration.between(now, at));
      }
    }
    Scheduler.Scheduled esc = escalation;
    a.timers(() -> {
      expiry.cancel();
      esc.cancel();
    });
  }

  /**
   * Records one approver's approval; on reaching the quorum the hold resolves APPROVED.
   *
   * @param digest the request digest the approver saw; must match
   * @throws ApprovalRefusedException 404 when there is no such hold (journal it with {@link
   *     #refusal}); other refusals come as a failed stage, already journaled
   */
  public CompletionStage<PendingApproval> approve(String id, Approver who, String reason, String digest) {
    return vote(id, who, reason, digest, true);
  }

  /** Records a deny: the hold resolves DENIED at once. Refusals as for {@link #approve}. */
  public CompletionStage<PendingApproval> deny(String id, Approver who, String reason, String digest) {
    return vote(id, who, reason, digest, false);
  }

  private CompletionStage<PendingApproval> vote(String id, Approver who, String reason, String digest,
      boolean approve) {
    PendingApproval a = approvals.get(id);
    if (a == null) {
      throw new ApprovalRefusedException(404, "no_such_approval", "no approval " + id);
    }
    Instant now = clock.instant();
    boolean resolves;
    try {
      resolves = a.vote(new PendingApproval.Vote(who.name(), reason, now), approve,
          hold -> refusalOf(hold, who, digest, agentActsFor));
    } catch (ApprovalRefusedException refused) {
      // answered only once the refusal is on record
      return refusal(a, who.name(), refused).handle((idx, err) -> {
        throw refused;
      });
    }
    if (resolves) {
      synchronized (bounds) {
        count(a.mode(), -1);
      }
    }
    List<PendingApproval.Vote> votes = a.approvals();
    EventBody body = approve
        ? new ApprovalApproved(a.id(), a.digest(), who.name(), reason, votes.size(),
            a.terms().quorum(), resolves)
        : new ApprovalDenied(a.id(), a.digest(), who.name(), reason, votes.size(),
            a.terms().quorum(), true);
    return ledger.append(LedgerEvent.of(a.exchangeId(), now, body)).handle((idx, err) -> {
      if (err != null) {
        // the vote is not on record, so it must not take effect: the hold ends denied (fail
        // closed), whether or not this vote would have resolved it
        failClosed(a, resolves, "a vote could not be recorded in the ledger");
        throw new ApprovalRefusedException(503, "ledger_unavailable",
            "the ledger cannot record this vote; the hold is denied: " + err.getMessage());
      }
      if (resolves) {
        List<String> by = approve ? a.approvers() : List.of(who.name());
        resolved(a, new PendingApproval.Resolution(a.status(), by, reason), true);
      }
      return a;
    });
  }

  /** Why {@code who} may not vote on {@code a} now, or null. Called under the hold's lock. */
  private static ApprovalRefusedException refusalOf(PendingApproval a, Approver who, String digest,
      List<String> agentActsFor) {
    // the group first: someone outside it learns nothing about the hold's state
    if (!who.groups().contains(a.terms().group())) {
      return new ApprovalRefusedException(403, "wrong_group",
          who.name() + " is not in group " + a.terms().group());
    }
    if (!a.status().isOpen()) {
      return new ApprovalRefusedException(409, "not_pending",
          "approval " + a.id() + " is " + a.status().name().toLowerCase(Locale.ROOT) + ", not pending;"
              + " an approval is used once");
    }
    if (digest == null || !digest.equals(a.digest())) {
      return new ApprovalRefusedException(409, "digest_mismatch",
          "the approval names request digest " + digest + " but the held request is " + a.digest()
              + "; approve what you reviewed");
    }
    var caller = a.request().caller();
    if (IdentityNames.same(who.name(), caller.onBehalfOf())
        || IdentityNames.same(who.name(), caller.agent())) {
      return new ApprovalRefusedException(403, "self_approval",
          "a requester can never approve its own call");
    }
    for (String principal : agentActsFor) {
      if (IdentityNames.same(who.name(), principal)) {
        return new ApprovalRefusedException(403, "self_approval", who.name() + " is someone this"
            + " sidecar's agent acts for (approvals.agent_acts_for): they can never approve its calls");
      }
    }
    if (a.approvers().stream().anyMatch(earlier -> IdentityNames.same(earlier, who.name()))) {
      return new ApprovalRefusedException(409, "already_voted",
          who.name() + " already approved; a quorum needs distinct approvers");
    }
    return null;
  }

  /** Journals a refused approval call that reached a hold (bad token calls are journaled by the API). */
  CompletionStage<Long> refusal(PendingApproval a, String who, ApprovalRefusedException e) {
    return ledger.append(LedgerEvent.of(a == null ? "-" : a.exchangeId(), clock.instant(),
        new ApprovalRefused(a == null ? null : a.id(), a == null ? null : a.digest(), who, e.code(),
            e.getMessage())));
  }

  /** Journals a refusal for a call that named no valid hold or approver. */
  public CompletionStage<Long> refusal(String approvalId, String who, ApprovalRefusedException e) {
    PendingApproval a = approvalId == null ? null : approvals.get(approvalId);
    return refusal(a, who, e);
  }

  /**
   * A vote could not be journaled: the hold ends denied, without a recorded vote. {@code
   * alreadyResolved}: the vote had resolved it (approved or denied) before the write failed.
   */
  private void failClosed(PendingApproval a, boolean alreadyResolved, String reason) {
    // an approve that made the quorum moved the hold to APPROVED, a deny to DENIED; a vote short of
    // the quorum left it PENDING, and counted among the open holds
    boolean wasOpen = a.status() == ApprovalStatus.PENDING;
    a.moveTo(ApprovalStatus.DENIED);
    if (wasOpen && !alreadyResolved) {
      synchronized (bounds) {
        count(a.mode(), -1);
      }
    }
    resolved(a, new PendingApproval.Resolution(ApprovalStatus.DENIED, List.of(), reason), false);
  }

  /** Times a hold out (its on_timeout is deny). */
  void expire(String id) {
    PendingApproval a = approvals.get(id);
    if (a != null) {
      end(a, ApprovalStatus.EXPIRED, List.of(),
          "no approval within " + a.terms().timeout() + " (on_timeout: deny)", true);
    }
  }

  /** Ends a sync hold whose agent went away. */
  public void abandon(String id, String why) {
    PendingApproval a = approvals.get(id);
    if (a != null) {
      end(a, ApprovalStatus.ABANDONED, List.of(), why, true);
    }
  }

  /**
   * Ends an open hold without a vote (timeout, abandonment, a failed write), journaling why when
   * {@code journal}; does nothing when the hold was resolved meanwhile.
   */
  private void end(PendingApproval a, ApprovalStatus to, List<String> by, String reason,
      boolean journal) {
    if (!a.moveTo(to)) {
      return;
    }
    synchronized (bounds) {
      count(a.mode(), -1);
    }
    PendingApproval.Resolution res = new PendingApproval.Resolution(to, by, reason);
    if (!journal) {
      resolved(a, res, false);
      return;
    }
    EventBody body = switch (to) {
      case EXPIRED -> new ApprovalExpired(a.id(), a.digest(), reason);
      case ABANDONED -> new ApprovalAbandoned(a.id(), a.digest(), reason);
      default -> ApprovalDenied.byProxy(a.id(), a.digest(), reason);
    };
    journal(a, body).whenComplete((idx, err) -> {
      if (err != null) {
        LOG.error("approval {}: {} not recorded: {}", a.id(), to, err.toString());
      }
      resolved(a, res, false);
    });
  }

  /** Tells the listener, completes the resolution, and retires an ended hold. */
  private void resolved(PendingApproval a, PendingApproval.Resolution res, boolean byHuman) {
    listener.resolved(a, res, byHuman);
    a.resolution().complete(res); // a no-op if it completed already
    if (a.status().isFinal()) {
      retire(a);
    }
  }

  /** Counts a held body. Under {@link #bounds}. */
  private void hold(String workflow, long bytes) {
    heldBytes += bytes;
    heldBytesByWorkflow.merge(workflow, bytes, Long::sum);
  }

  /** Gives back an ended hold's share of the byte bounds, once. */
  private void releaseBytes(PendingApproval a) {
    if (!a.releaseBounds()) {
      return;
    }
    String workflow = workflowOf(a);
    synchronized (bounds) {
      heldBytes -= a.size();
      heldBytesByWorkflow.computeIfPresent(workflow, (w, b) -> b - a.size() <= 0 ? null : b - a.size());
    }
  }

  private static String workflowOf(PendingApproval a) {
    String w = a.request().caller().workflow();
    return w == null ? "" : w;
  }

  /** Bytes of held bodies now (for metrics and tests). */
  public long heldBytes() {
    synchronized (bounds) {
      return heldBytes;
    }
  }

  /**
   * Journals that an approved request is about to be forwarded (at most once: after a crash the
   * proxy sees this event and does not forward again). Fails, and ends the hold denied, when the
   * event cannot be written: then nothing may be forwarded.
   */
  public CompletionStage<Long> executing(PendingApproval a) {
    if (a.status() != ApprovalStatus.APPROVED) {
      throw new IllegalStateException("approval " + a.id() + " is " + a.status() + ", not approved");
    }
    return journal(a, new ApprovalExecuting(a.id(), a.digest(), a.approvers()))
        .whenComplete((idx, err) -> {
          if (err == null) {
            a.moveTo(ApprovalStatus.EXECUTING);
          } else if (a.moveTo(ApprovalStatus.DENIED)) {
            retire(a);
          }
        });
  }

  /**
   * Ends an executed hold: its exchange has its outcome. An async hold keeps {@code result} for its
   * ticket (null for a sync hold, whose agent got the answer directly).
   */
  public void completed(PendingApproval a, TicketResult result) {
    a.complete(result);
    retire(a);
  }

  /**
   * An ended hold stays in memory for {@link #TICKET_RETENTION} (its ticket, and a late or replayed
   * vote answered 409 and journaled against it), then is dropped; the ledger keeps it for good.
   */
  private void retire(PendingApproval a) {
    releaseBytes(a);
    scheduler.schedule(() -> forget(a.id()), TICKET_RETENTION);
  }

  /** One hold by id. */
  public Optional<PendingApproval> get(String id) {
    return Optional.ofNullable(approvals.get(id));
  }

  /** Open holds matching {@code filter}, oldest first. */
  public List<PendingApproval> pending(Predicate<PendingApproval> filter) {
    List<PendingApproval> out = new ArrayList<>();
    for (PendingApproval a : approvals.values()) {
      if (a.status().isOpen() && filter.test(a)) {
        out.add(a);
      }
    }
    out.sort(Comparator.comparing(PendingApproval::openedAt));
    return out;
  }

  /** Holds still open, by mode (for bounds and metrics). */
  public int openCount(HoldMode mode) {
    synchronized (bounds) {
      return mode == HoldMode.ASYNC ? pendingAsync : pendingSync;
    }
  }

  /** Drops an ended hold from memory (its record stays in the ledger). */
  void forget(String id) {
    approvals.remove(id);
  }

  /** Under {@link #bounds}. */
  private void count(HoldMode mode, int delta) {
    if (mode == HoldMode.ASYNC) {
      pendingAsync += delta;
    } else {
      pendingSync += delta;
    }
  }

  private CompletionStage<Long> journal(PendingApproval a, EventBody body) {
    return ledger.append(LedgerEvent.of(a.exchangeId(), clock.instant(), body));
  }

  private static ApprovalOpened opened(PendingApproval a) {
    ApprovalTerms t = a.terms();
    HoldTerms terms = new HoldTerms(t.group(), t.quorum(), t.timeout().toString(), t.onTimeout(),
        t.escalateGroup() == null ? null
            : new HoldTerms.Escalation(t.escalateGroup(), t.escalateAfter().toString()),
        t.requireOnBehalfOf() ? Boolean.TRUE : null);
    return new ApprovalOpened(a.id(), a.digest(), a.mode().name().toLowerCase(Locale.ROOT), terms,
        a.openedAt().toString(), a.expiresAt().toString(), HeldRequests.toRecord(a.request()),
        a.decision());
  }

  @Override
  public void close() {
    notifiers.forEach(ApprovalNotifier::close);
  }
}
