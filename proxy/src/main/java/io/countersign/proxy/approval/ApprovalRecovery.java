package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.EventType;
import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.RecordedEvent;
import io.countersign.proxy.route.RouteTable;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the holds from the ledger at startup, so async approvals survive a restart (also a
 * kill -9). Sync holds cannot survive (their agent connection is gone): they are journaled as
 * abandoned. An approved request that was journaled as executing but has no outcome is never sent
 * again (at most once); its ticket reports the outcome as unknown.
 */
public final class ApprovalRecovery implements java.util.function.Consumer<RecordedEvent> {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalRecovery.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An empty recovery; feed it the ledger's events, then {@link #restore}. */
  public ApprovalRecovery() {}

  private static final class Seen {
    JsonNode opened;
    String exchangeId;
    ApprovalStatus status = ApprovalStatus.PENDING;
    final List<PendingApproval.Vote> votes = new ArrayList<>();
    PendingApproval.Vote denial;
    boolean executing;
    TicketResult result;
  }

  private final Map<String, Seen> byId = new LinkedHashMap<>();
  private final Map<String, Seen> byExchange = new HashMap<>();

  /** Collects the holds of one recorded event (the proxy reads the journal once at startup). */
  @Override
  public void accept(RecordedEvent e) {
    apply(e.event(), byId, byExchange);
  }

  /**
   * Restores the collected holds into {@code store}.
   *
   * @return how many holds were restored as open or re-executed
   */
  public int restore(RouteTable routes, ApprovalStore store, AsyncApprovalRunner runner, Ledger ledger,
      Clock clock) {
    int restored = 0;
    for (Map.Entry<String, Seen> entry : byId.entrySet()) {
      Seen s = entry.getValue();
      JsonNode o = s.opened;
      HoldMode mode = "async".equals(o.path("mode").asText()) ? HoldMode.ASYNC : HoldMode.SYNC;
      boolean open = s.status == ApprovalStatus.PENDING
          || (s.status == ApprovalStatus.APPROVED && !s.executing);
      if (mode == HoldMode.SYNC) {
        if (open) {
          ObjectNode body = JSON.createObjectNode();
          body.put("approval_id", entry.getKey());
          body.put("digest", o.path("digest").asText());
          body.put("reason", "the proxy restarted while the agent's connection waited");
          ledger.append(LedgerEvent.of(EventType.APPROVAL_ABANDONED, s.exchangeId, clock.instant(), body));
        }
        continue;
      }
      PendingApproval a;
      try {
        a = new PendingApproval(entry.getKey(), s.exchangeId, mode,
            ApprovalTerms.from(o.path("terms"), Duration.ofMinutes(30)),
            HeldRequests.fromJson(o.path("request"), routes), o.path("decision"),
            o.path("digest").asText(), Instant.parse(o.path("opened_at").asText()),
            Instant.parse(o.path("expires_at").asText()));
      } catch (RuntimeException e) {
        LOG.error("approval {} cannot be restored and will not be executed: {}", entry.getKey(), e.getMessage());
        continue;
      }
      boolean ended = s.status != ApprovalStatus.PENDING && s.status != ApprovalStatus.APPROVED;
      if (ended && a.expiresAt().plus(ApprovalStore.TICKET_RETENTION).isBefore(clock.instant())) {
        a.request().release(); // long over: its ticket is no longer served (the ledger keeps it)
        continue;
      }
      s.votes.forEach(a::addApproval);
      if (s.denial != null) {
        a.denial(s.denial);
      }
      a.status(s.status);
      if (s.status == ApprovalStatus.APPROVED && s.executing && s.result == null) {
        s.result = new TicketResult(502, List.of(), new byte[0], "outcome_unknown");
        s.status = ApprovalStatus.COMPLETED;
        ObjectNode body = JSON.createObjectNode();
        body.put("outcome", "failed");
        body.put("status", 502);
        body.put("error", "outcome_unknown");
        body.put("message", "the proxy stopped after forwarding this approved request and before"
            + " its answer was recorded; it is not sent again (at most once): check the upstream");
        body.put("request_sent", true);
        ledger.append(LedgerEvent.of(EventType.EXCHANGE_FAILED, s.exchangeId, clock.instant(), body));
      }
      if (s.result != null) {
        a.executing(true);
        store.restore(a);
        store.completed(a, s.result);
        continue;
      }
      store.restore(a);
      if (s.status == ApprovalStatus.PENDING) {
        runner.watch(a);
        restored++;
      } else if (s.status == ApprovalStatus.APPROVED) {
        runner.execute(a);
        restored++;
      } else {
        a.request().release();
        store.retireRestored(a);
      }
    }
    return restored;
  }

  private static void apply(LedgerEvent e, Map<String, Seen> byId, Map<String, Seen> byExchange) {
    JsonNode b = e.body();
    String id = b.path("approval_id").asText(null);
    switch (e.type()) {
      case APPROVAL_OPENED -> {
        Seen s = new Seen();
        s.opened = b;
        s.exchangeId = e.exchangeId();
        byId.put(id, s);
        byExchange.put(e.exchangeId(), s);
      }
      case APPROVAL_APPROVED -> with(byId, id, s -> {
        s.votes.add(new PendingApproval.Vote(b.path("approver").asText(), b.path("reason").asText(null), e.time()));
        if (b.path("resolved").asBoolean()) {
          s.status = ApprovalStatus.APPROVED;
        }
      });
      case APPROVAL_DENIED -> with(byId, id, s -> {
        s.status = ApprovalStatus.DENIED;
        if (b.has("approver")) {
          s.denial = new PendingApproval.Vote(b.path("approver").asText(), b.path("reason").asText(null), e.time());
        }
      });
      case APPROVAL_EXPIRED -> with(byId, id, s -> s.status = ApprovalStatus.EXPIRED);
      case APPROVAL_ABANDONED -> with(byId, id, s -> s.status = ApprovalStatus.ABANDONED);
      case APPROVAL_EXECUTING -> with(byId, id, s -> s.executing = true);
      case EXCHANGE_COMPLETED, EXCHANGE_FAILED -> {
        Seen s = byExchange.get(e.exchangeId());
        if (s != null && s.executing) {
          s.result = result(b);
          s.status = ApprovalStatus.COMPLETED;
        }
      }
      default -> { }
    }
  }

  private static void with(Map<String, Seen> byId, String id, java.util.function.Consumer<Seen> f) {
    Seen s = byId.get(id);
    if (s != null) {
      f.accept(s);
    }
  }

  /** The ticket answer from a journaled outcome (the body only where it was recorded). */
  private static TicketResult result(JsonNode b) {
    if ("failed".equals(b.path("outcome").asText())) {
      return new TicketResult(b.path("status").asInt(502), List.of(), new byte[0], b.path("error").asText());
    }
    JsonNode resp = b.path("response");
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    resp.path("headers").properties().forEach(h -> {
      if (!"[redacted]".equals(h.getValue().asText())
          && io.countersign.proxy.upstream.ResponseHeaders.passedOn(h.getKey())) {
        headers.add(new SimpleImmutableEntry<>(h.getKey(), h.getValue().asText()));
      }
    });
    byte[] body = resp.has("body") ? resp.path("body").toString().getBytes(StandardCharsets.UTF_8) : new byte[0];
    return new TicketResult(resp.path("status").asInt(b.path("status").asInt()), headers, body, null);
  }
}
