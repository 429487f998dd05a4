package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.EventType;
import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.proxy.canonical.CanonicalRequest;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All holds of this sidecar, and the one place their state changes. Each change is decided under
 * the store's lock (so two approvers racing on one hold cannot both resolve it), then journaled;
 * the hold's resolution completes only once its event is in the ledger. If the ledger refuses the
 * event, the hold is denied (fail closed). Expiry runs on one timer thread; nothing here runs on
 * an event loop or blocks one.
 */
public final class ApprovalStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Ledger ledger;
  private final Clock clock;
  private final int maxPending;
  private final int maxHeld;
  private final List<ApprovalNotifier> notifiers;
  private final Map<String, PendingApproval> approvals = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "countersign-approval-timer");
        t.setDaemon(true);
        return t;
      });
  /** How long an ended hold stays in memory (the ledger keeps it for good). */
  public static final Duration TICKET_RETENTION = Duration.ofHours(1);

  private int pendingAsync;
  private int pendingSync;
  private volatile Listener listener = new Listener() {};

  /** Told when holds open and resolve (metrics). Called on whichever thread made the change. */
  public interface Listener {
    /** A hold opened. */
    default void opened(PendingApproval a) {}

    /** A hold resolved; {@code byHuman} when an approver decided it. */
    default void resolved(PendingApproval a, PendingApproval.Resolution r, boolean byHuman) {}
  }

  /** Sets the listener. */
  public void listener(Listener l) {
    this.listener = l;
  }

  /**
   * @param ledger where every approval event goes
   * @param clock the wall clock for timestamps and deadlines
   * @param maxPending the most async holds pending at once
   * @param maxHeld the most sync holds waiting at once
   * @param notifiers told when a hold opens (and on escalation)
   */
  public ApprovalStore(Ledger ledger, Clock clock, int maxPending, int maxHeld,
      List<ApprovalNotifier> notifiers) {
    this.ledger = ledger;
    this.clock = clock;
    this.maxPending = maxPending;
    this.maxHeld = maxHeld;
    this.notifiers = List.copyOf(notifiers);
  }

  /**
   * Opens a hold for {@code request}, which the store then owns. Completes after {@code
   * approval.opened} is journaled.
   *
   * @throws ApprovalRefusedException 429/503 when the bounds are reached
   */
  public CompletionStage<PendingApproval> open(String exchangeId, HoldMode mode, ApprovalTerms terms,
      CanonicalRequest request, JsonNode decision) {
    Instant now = clock.instant();
    PendingApproval a = new PendingApproval(UUID.randomUUID().toString(), exchangeId, mode, terms,
        request, decision, HeldRequests.digest(request), now, now.plus(terms.timeout()));
    synchronized (this) {
      if (mode == HoldMode.ASYNC && pendingAsync >= maxPending) {
        throw new ApprovalRefusedException(429, "too_many_pending",
            "this proxy already holds " + maxPending + " requests awaiting approval; retry later");
      }
      if (mode == HoldMode.SYNC && pendingSync >= maxHeld) {
        throw new ApprovalRefusedException(503, "too_many_held",
            "this proxy already holds " + maxHeld + " connections awaiting approval; retry later"
                + " or send Prefer: respond-async");
      }
      count(mode, +1);
      approvals.put(a.id(), a);
    }
    return ledger.append(LedgerEvent.of(EventType.APPROVAL_OPENED, exchangeId, now, opened(a)))
        .handle((idx, err) -> {
          if (err != null) {
            resolve(a, ApprovalStatus.DENIED, List.of(), "the hold could not be recorded");
            throw new ApprovalRefusedException(503, "ledger_unavailable",
                "the ledger cannot record this hold, so it is refused: " + err.getMessage());
          }
          schedule(a);
          listener.opened(a);
          notifiers.forEach(n -> n.opened(a, a.terms().group()));
          return a;
        });
  }

  /** A restored hold that had already ended: kept for its retention, then dropped. */
  void retireRestored(PendingApproval a) {
    retire(a);
  }

  /** Re-registers a hold rebuilt from the ledger at startup (no new event). */
  void restore(PendingApproval a) {
    synchronized (this) {
      approvals.put(a.id(), a);
      if (a.status() == ApprovalStatus.PENDING) {
        count(a.mode(), +1);
      }
    }
    if (a.status() == ApprovalStatus.PENDING) {
      schedule(a);
    }
  }

  private void schedule(PendingApproval a) {
    long delay = Math.max(0, Duration.between(clock.instant(), a.expiresAt()).toMillis());
    a.expiry(timer.schedule(() -> expire(a.id()), delay, TimeUnit.MILLISECONDS));
    ApprovalTerms t = a.terms();
    if (t.escalateGroup() != null) {
      // counted from the hold's opening, so a restart neither repeats nor delays it
      long escalateIn = Duration.between(clock.instant(), a.openedAt().plus(t.escalateAfter())).toMillis();
      if (escalateIn >= 0 && escalateIn < delay) {
        timer.schedule(() -> {
          if (a.status() == ApprovalStatus.PENDING) {
            notifiers.forEach(n -> n.opened(a, t.escalateGroup()));
          }
        }, escalateIn, TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * Records one approver's approval; on reaching the quorum the hold resolves APPROVED.
   *
   * @param digest the request digest the approver saw; must match
   * @throws ApprovalRefusedException (also journaled) saying why the vote does not count
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
    PendingApproval.Vote vote = new PendingApproval.Vote(who.name(), reason, now);
    boolean resolves;
    synchronized (this) {
      ApprovalRefusedException refused = check(a, who, digest);
      if (refused != null) {
        // answered only once the refusal is on record
        return refusal(a, who.name(), refused).handle((idx, err) -> {
          throw refused;
        });
      }
      if (approve) {
        a.addApproval(vote);
        resolves = a.approvals().size() >= a.terms().quorum();
      } else {
        a.denial(vote);
        resolves = true;
      }
      if (resolves) {
        a.status(approve ? ApprovalStatus.APPROVED : ApprovalStatus.DENIED);
        count(a.mode(), -1);
      }
    }
    ObjectNode body = base(a);
    body.put("approver", who.name());
    body.put("reason", reason);
    body.put("approvals", a.approvals().size());
    body.put("quorum", a.terms().quorum());
    body.put("resolved", resolves);
    EventType type = approve ? EventType.APPROVAL_APPROVED : EventType.APPROVAL_DENIED;
    return ledger.append(LedgerEvent.of(type, a.exchangeId(), now, body)).handle((idx, err) -> {
      if (err != null) {
        // the vote is not on record, so it must not take effect: the hold ends denied (fail
        // closed), whether or not this vote would have resolved it
        forceDeny(a, "a vote could not be recorded in the ledger");
        throw new ApprovalRefusedException(503, "ledger_unavailable",
            "the ledger cannot record this vote; the hold is denied: " + err.getMessage());
      }
      if (resolves) {
        List<String> by = approve
            ? a.approvals().stream().map(PendingApproval.Vote::approver).toList()
            : List.of(who.name());
        PendingApproval.Resolution res = new PendingApproval.Resolution(a.status(), by, reason);
        listener.resolved(a, res, true);
        a.resolution().complete(res);
        if (res.status() != ApprovalStatus.APPROVED || a.mode() == HoldMode.SYNC) {
          retire(a); // an approved async hold retires once executed (completed)
        }
      }
      return a;
    });
  }

  /** Why {@code who} may not vote on {@code a} now, or null. Called under the lock. */
  private static ApprovalRefusedException check(PendingApproval a, Approver who, String digest) {
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
    if (who.name().equalsIgnoreCase(String.valueOf(caller.onBehalfOf()))
        || who.name().equalsIgnoreCase(String.valueOf(caller.agent()))) {
      return new ApprovalRefusedException(403, "self_approval",
          "a requester can never approve its own call");
    }
    boolean voted = a.approvals().stream().anyMatch(v -> v.approver().equals(who.name()));
    if (voted) {
      return new ApprovalRefusedException(409, "already_voted",
          who.name() + " already approved; a quorum needs distinct approvers");
    }
    return null;
  }

  /** Journals a refused approval call that reached a hold (bad token calls are journaled by the API). */
  CompletionStage<Long> refusal(PendingApproval a, String who, ApprovalRefusedException e) {
    ObjectNode body = a == null ? JSON.createObjectNode() : base(a);
    body.put("approver", who);
    body.put("error", e.code());
    body.put("message", e.getMessage());
    return ledger.append(LedgerEvent.of(EventType.APPROVAL_REFUSED, a == null ? "-" : a.exchangeId(),
        clock.instant(), body));
  }

  /** Journals a refusal for a call that named no valid hold or approver. */
  public CompletionStage<Long> refusal(String approvalId, String who, ApprovalRefusedException e) {
    PendingApproval a = approvalId == null ? null : approvals.get(approvalId);
    return refusal(a, who, e);
  }

  /** Ends a hold denied without a journaled vote (the ledger failed); completes its resolution. */
  private void forceDeny(PendingApproval a, String reason) {
    synchronized (this) {
      if (a.status().isOpen()) {
        count(a.mode(), -1);
      }
      a.status(ApprovalStatus.DENIED);
    }
    PendingApproval.Resolution res = new PendingApproval.Resolution(ApprovalStatus.DENIED, List.of(), reason);
    listener.resolved(a, res, false);
    a.resolution().complete(res); // no-op if it already completed
    retire(a);
  }

  /** Times a hold out (its on_timeout is deny). */
  void expire(String id) {
    PendingApproval a = approvals.get(id);
    if (a != null) {
      resolve(a, ApprovalStatus.EXPIRED, List.of(),
          "no approval within " + a.terms().timeout() + " (on_timeout: deny)");
    }
  }

  /** Ends a sync hold whose agent went away. */
  public void abandon(String id, String why) {
    PendingApproval a = approvals.get(id);
    if (a != null) {
      resolve(a, ApprovalStatus.ABANDONED, List.of(), why);
    }
  }

  /** Resolves an open hold without a vote (timeout, abandonment, a failed write). */
  private void resolve(PendingApproval a, ApprovalStatus to, List<String> by, String reason) {
    synchronized (this) {
      if (!a.status().isOpen()) {
        return;
      }
      a.status(to);
      count(a.mode(), -1);
    }
    ObjectNode body = base(a);
    body.put("reason", reason);
    EventType type = to == ApprovalStatus.EXPIRED ? EventType.APPROVAL_EXPIRED
        : to == ApprovalStatus.ABANDONED ? EventType.APPROVAL_ABANDONED : EventType.APPROVAL_DENIED;
    ledger.append(LedgerEvent.of(type, a.exchangeId(), clock.instant(), body))
        .whenComplete((idx, err) -> {
          if (err != null) {
            LOG.error("approval {}: {} not recorded: {}", a.id(), type.wireName(), err.toString());
          }
          PendingApproval.Resolution res = new PendingApproval.Resolution(to, by, reason);
          listener.resolved(a, res, false);
          a.resolution().complete(res);
          retire(a);
        });
  }

  /**
   * Journals that an approved request is about to be forwarded (at most once: after a crash the
   * proxy sees this event and does not forward again).
   */
  public CompletionStage<Long> executing(PendingApproval a) {
    a.executing(true);
    ObjectNode body = base(a);
    body.set("approved_by", JSON.valueToTree(a.approvals().stream().map(PendingApproval.Vote::approver).toList()));
    return ledger.append(LedgerEvent.of(EventType.APPROVAL_EXECUTING, a.exchangeId(), clock.instant(), body));
  }

  /** Marks an async hold completed with the upstream's answer, for its ticket. */
  public void completed(PendingApproval a, TicketResult result) {
    a.result(result);
    a.status(ApprovalStatus.COMPLETED);
    a.request().release();
    retire(a);
  }

  /**
   * An ended hold stays in memory for {@link #TICKET_RETENTION} (its ticket, and a late or replayed
   * vote answered 409 and journaled against it), then is dropped; the ledger keeps it for good.
   */
  private void retire(PendingApproval a) {
    a.cancelExpiry();
    if (!timer.isShutdown()) {
      timer.schedule(() -> forget(a.id()), TICKET_RETENTION.toMillis(), TimeUnit.MILLISECONDS);
    }
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
  public synchronized int openCount(HoldMode mode) {
    return mode == HoldMode.ASYNC ? pendingAsync : pendingSync;
  }

  /** Drops a resolved hold from memory (its record stays in the ledger). */
  public void forget(String id) {
    approvals.remove(id);
  }

  private void count(HoldMode mode, int delta) {
    if (mode == HoldMode.ASYNC) {
      pendingAsync += delta;
    } else {
      pendingSync += delta;
    }
  }

  private ObjectNode opened(PendingApproval a) {
    ObjectNode body = base(a);
    body.put("mode", a.mode().name().toLowerCase(Locale.ROOT));
    ObjectNode terms = body.putObject("terms");
    terms.put("group", a.terms().group());
    terms.put("quorum", a.terms().quorum());
    terms.put("timeout", a.terms().timeout().toString());
    terms.put("on_timeout", a.terms().onTimeout());
    if (a.terms().escalateGroup() != null) {
      terms.putObject("escalate").put("group", a.terms().escalateGroup())
          .put("after", a.terms().escalateAfter().toString());
    }
    body.put("opened_at", a.openedAt().toString());
    body.put("expires_at", a.expiresAt().toString());
    body.set("request", HeldRequests.toJson(a.request()));
    body.set("decision", a.decision());
    return body;
  }

  private static ObjectNode base(PendingApproval a) {
    ObjectNode body = JSON.createObjectNode();
    body.put("approval_id", a.id());
    body.put("digest", a.digest());
    return body;
  }

  @Override
  public void close() {
    timer.shutdownNow();
    notifiers.forEach(ApprovalNotifier::close);
  }
}
