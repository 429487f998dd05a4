package io.countersign.proxy.approval;

import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.RecordedEvent;
import io.countersign.ledger.event.ApprovalAbandoned;
import io.countersign.ledger.event.ApprovalApproved;
import io.countersign.ledger.event.ApprovalDenied;
import io.countersign.ledger.event.ApprovalExecuting;
import io.countersign.ledger.event.ApprovalExpired;
import io.countersign.ledger.event.ApprovalOpened;
import io.countersign.ledger.event.ExchangeCompleted;
import io.countersign.ledger.event.ExchangeFailed;
import io.countersign.ledger.event.ExchangeOutcome;
import io.countersign.ledger.event.HeldRequest;
import io.countersign.proxy.route.RouteTable;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the holds from the ledger at startup, so async approvals survive a restart (also a
 * kill -9). Sync holds cannot survive (their agent connection is gone): they are journaled as
 * abandoned. An approved request that was journaled as executing but has no outcome is never sent
 * again (at most once); its ticket reports the outcome as unknown.
 *
 * <p>Feed it the journal's events in order ({@link #accept}), then {@link #restore} the holds into
 * the store; the holds it returns are open or approved and must be resumed by the exchange flow
 * (which waits for their resolution and executes them once approved).
 */
public final class ApprovalRecovery implements Consumer<RecordedEvent> {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalRecovery.class);

  /** What the journal says of one hold, folded in order. */
  private static final class Seen {
    final ApprovalOpened opened; // without the body: memory stays small for any number of holds
    final long openedIndex;
    final int size;
    final String exchangeId;
    final List<ApprovalStatus> path = new ArrayList<>();
    final List<PendingApproval.Vote> votes = new ArrayList<>();
    PendingApproval.Vote denial;
    String lastReason;
    TicketResult result;

    Seen(ApprovalOpened opened, long openedIndex, String exchangeId) {
      HeldRequest r = opened.request();
      this.size = r == null ? 0 : HeldRequests.storedSize(r);
      HeldRequest light = r == null ? null : new HeldRequest(r.method(), r.route(), r.path(),
          r.upstreamPath(), r.query(), r.headers(), null, r.bodySha256(), r.caller(), r.bodyKind(),
          null, null);
      this.opened = new ApprovalOpened(opened.approvalId(), opened.digest(), opened.mode(),
          opened.terms(), opened.openedAt(), opened.expiresAt(), light, opened.decision());
      this.openedIndex = openedIndex;
      this.exchangeId = exchangeId;
    }

    ApprovalStatus status() {
      return path.isEmpty() ? ApprovalStatus.PENDING : path.get(path.size() - 1);
    }

    void to(ApprovalStatus s) {
      if (status().canMoveTo(s)) {
        path.add(s);
      }
    }
  }

  private final Map<String, Seen> byId = new LinkedHashMap<>();
  private final Map<String, Seen> byExchange = new HashMap<>();

  /** An empty recovery; feed it the ledger's events, then {@link #restore}. */
  public ApprovalRecovery() {}

  /** Folds one recorded event into the holds (the proxy reads the journal once at startup). */
  @Override
  public void accept(RecordedEvent recorded) {
    LedgerEvent e = recorded.event();
    Instant at = e.time();
    // (a switch on the sealed body types needs Java 21; the language level is 17)
    if (e.body() instanceof ApprovalOpened o) {
      Seen s = new Seen(o, recorded.index(), e.exchangeId());
      byId.put(o.approvalId(), s);
      byExchange.put(e.exchangeId(), s);
    } else if (e.body() instanceof ApprovalApproved v) {
      with(v.approvalId(), s -> {
        s.votes.add(new PendingApproval.Vote(v.approver(), v.reason(), at));
        s.lastReason = v.reason();
        if (v.resolved()) {
          s.to(ApprovalStatus.APPROVED);
        }
      });
    } else if (e.body() instanceof ApprovalDenied d) {
      with(d.approvalId(), s -> {
        if (d.approver() != null) {
          s.denial = new PendingApproval.Vote(d.approver(), d.reason(), at);
        }
        s.to(ApprovalStatus.DENIED);
      });
    } else if (e.body() instanceof ApprovalExpired x) {
      with(x.approvalId(), s -> s.to(ApprovalStatus.EXPIRED));
    } else if (e.body() instanceof ApprovalAbandoned x) {
      with(x.approvalId(), s -> s.to(ApprovalStatus.ABANDONED));
    } else if (e.body() instanceof ApprovalExecuting x) {
      with(x.approvalId(), s -> s.to(ApprovalStatus.EXECUTING));
    } else if (e.body() instanceof ExchangeOutcome o) {
      Seen s = byExchange.get(e.exchangeId());
      if (s != null && s.status() == ApprovalStatus.EXECUTING) {
        s.result = result(o);
        s.to(ApprovalStatus.COMPLETED);
      }
    }
  }

  private void with(String approvalId, Consumer<Seen> f) {
    Seen s = byId.get(approvalId);
    if (s != null) {
      f.accept(s);
    }
  }

  /**
   * Restores the collected holds into {@code store}: ended ones for their tickets' retention, open
   * ones with their timers.
   *
   * @return the holds to resume: open, or approved and not yet executing; approved ones come with
   *     their resolution already complete
   */
  public List<PendingApproval> restore(RouteTable routes, ApprovalStore store, Ledger ledger,
      Clock clock) {
    List<PendingApproval> resume = new ArrayList<>();
    for (Map.Entry<String, Seen> entry : byId.entrySet()) {
      Seen s = entry.getValue();
      ApprovalOpened o = s.opened;
      boolean open = s.status() == ApprovalStatus.PENDING || s.status() == ApprovalStatus.APPROVED;
      if (!"async".equals(o.mode())) {
        if (open) {
          abandonSync(s, ledger, clock);
        }
        continue;
      }
      PendingApproval a;
      try {
        a = new PendingApproval(entry.getKey(), s.exchangeId, HoldMode.ASYNC,
            ApprovalTerms.from(o.terms()), HeldRequests.detachedFromRecord(o.request(), routes),
            s.size, o.decision(), o.digest(), Instant.parse(o.openedAt()),
            Instant.parse(o.expiresAt()));
        a.restoredFrom(s.openedIndex);
      } catch (RuntimeException e) {
        LOG.error("approval {} cannot be restored and will not be executed: {}", entry.getKey(),
            e.getMessage());
        continue;
      }
      if (s.status() == ApprovalStatus.EXECUTING) {
        outcomeUnknown(s, ledger, clock);
      }
      if (!open) {
        if (a.expiresAt().plus(ApprovalStore.TICKET_RETENTION).isBefore(clock.instant())) {
          continue; // long over: its ticket is no longer served (the ledger keeps it)
        }
      }
      a.restore(s.votes, s.denial, s.result);
      store.restore(a, s.path);
      if (s.status() == ApprovalStatus.APPROVED) {
        a.resolution().complete(new PendingApproval.Resolution(ApprovalStatus.APPROVED,
            a.approvers(), s.lastReason));
      }
      if (open) {
        resume.add(a);
      }
    }
    return resume;
  }

  /** A sync hold cannot outlive its connection: journal its end and its exchange's outcome. */
  private static void abandonSync(Seen s, Ledger ledger, Clock clock) {
    String why = "the proxy restarted while the agent's connection waited";
    ledger.append(LedgerEvent.of(s.exchangeId, clock.instant(),
        new ApprovalAbandoned(s.opened.approvalId(), s.opened.digest(), why)));
    ledger.append(LedgerEvent.of(s.exchangeId, clock.instant(),
        new ExchangeCompleted("approval_abandoned", 499, null, null, 0, null)));
  }

  /**
   * Forwarded, or about to be, when the proxy stopped, and no outcome recorded: never sent again
   * (at most once). The outcome is journaled as unknown, and the ticket says so.
   */
  private static void outcomeUnknown(Seen s, Ledger ledger, Clock clock) {
    ExchangeFailed failed = new ExchangeFailed(502, "outcome_unknown",
        "the proxy stopped after forwarding this approved request and before its answer was"
            + " recorded; it is not sent again (at most once): check the upstream", true, 0);
    ledger.append(LedgerEvent.of(s.exchangeId, clock.instant(), failed));
    s.result = result(failed);
    s.to(ApprovalStatus.COMPLETED);
  }

  /** The ticket answer from a journaled outcome (the body only where it was recorded). */
  private static TicketResult result(ExchangeOutcome o) {
    if (o instanceof ExchangeFailed f) {
      return new TicketResult(f.status(), List.of(), new byte[0], f.error());
    }
    ExchangeCompleted c = (ExchangeCompleted) o;
    if (c.response() == null) {
      return new TicketResult(c.status(), List.of(), new byte[0], c.outcome());
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    c.response().headers().forEach((name, value) -> {
      if (!"[redacted]".equals(value) && !"content-length".equals(name)) {
        headers.add(new SimpleImmutableEntry<>(name, value));
      }
    });
    byte[] body = c.response().body() == null ? new byte[0]
        : c.response().body().toString().getBytes(StandardCharsets.UTF_8);
    return new TicketResult(c.response().status(), headers, body, null);
  }
}
