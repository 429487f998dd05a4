package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.ledger.Ledger;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyAction;
import io.countersign.policy.RiskClass;
import io.countersign.proxy.exchange.Exchange;
import io.countersign.proxy.exchange.ExchangeRecords;
import io.countersign.proxy.exchange.ExchangeState;
import io.countersign.proxy.upstream.ResponseHeaders;
import io.countersign.proxy.upstream.UpstreamClient;
import io.countersign.proxy.upstream.UpstreamException;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.FullHttpResponse;
import java.time.Clock;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes approved async holds: journals {@code approval.executing}, forwards the exact held
 * request once, journals the outcome like any exchange, and keeps the answer for the agent's
 * ticket. Work runs on an event loop of the proxy's group (never blocking it).
 */
public final class AsyncApprovalRunner {
  private static final Logger LOG = LoggerFactory.getLogger(AsyncApprovalRunner.class);

  private final ApprovalStore store;
  private final UpstreamClient upstream;
  private final ExchangeRecords records;
  private final Ledger ledger;
  private final Clock clock;
  private final EventLoopGroup loops;
  private final io.countersign.proxy.metrics.ExchangeMetrics metrics;
  private volatile io.countersign.proxy.budget.SpendCounters spend;

  /** Counts the cost of executed holds into {@code s}. */
  public void spend(io.countersign.proxy.budget.SpendCounters s) {
    this.spend = s;
  }

  /**
   * @param store the holds
   * @param upstream forwards requests
   * @param records builds the outcome events
   * @param ledger journals them
   * @param clock wall clock
   * @param loops where the forwarding runs
   * @param metrics counts the exchanges' outcomes
   */
  public AsyncApprovalRunner(ApprovalStore store, UpstreamClient upstream, ExchangeRecords records,
      Ledger ledger, Clock clock, EventLoopGroup loops, io.countersign.proxy.metrics.ExchangeMetrics metrics) {
    this.metrics = metrics;
    this.store = store;
    this.upstream = upstream;
    this.records = records;
    this.ledger = ledger;
    this.clock = clock;
    this.loops = loops;
  }

  /** Waits for {@code a}'s resolution; executes it if approved, else frees its request. */
  public void watch(PendingApproval a) {
    a.resolution().thenAccept(r -> {
      if (r.status() == ApprovalStatus.APPROVED) {
        execute(a);
      } else {
        count(a, "approval_" + r.status().name().toLowerCase(Locale.ROOT), 403);
        a.request().release();
      }
    });
  }

  /** Forwards an approved hold's request once and keeps the answer for its ticket. */
  public void execute(PendingApproval a) {
    EventLoop loop = loops.next();
    Exchange x = new Exchange(a.exchangeId(), a.openedAt(), System.nanoTime(), a.request());
    x.decided(decision(a.decision()), System.nanoTime());
    x.moveTo(ExchangeState.DECIDED);
    x.moveTo(ExchangeState.HELD);
    x.moveTo(ExchangeState.APPROVED);
    store.executing(a).whenComplete((idx, err) -> {
      if (err != null) {
        LOG.error("approval {}: cannot record that it executes; not forwarding: {}", a.id(), err.toString());
        store.completed(a, new TicketResult(503, List.of(), new byte[0], "ledger_unavailable"));
        return;
      }
      x.moveTo(ExchangeState.FORWARDED);
      x.forwarded(System.nanoTime());
      upstream.send(loop, a.request()).whenComplete((resp, failure) -> {
        if (failure == null) {
          FullHttpResponse r = resp.response();
          try {
            x.moveTo(ExchangeState.COMPLETED);
            ledger.append(records.forwarded(x, r, System.nanoTime(), clock.instant()));
            count(a, "forwarded", r.status().code());
            double cost = a.decision().path("obligations").path("cost").asDouble(0);
            metrics.cost(a.request().caller().workflow(), a.request().caller().run(), cost);
            if (spend != null) {
              spend.add(a.request().caller(), clock.instant(), Math.round(cost));
            }
            store.completed(a, new TicketResult(r.status().code(), headers(r),
                ByteBufUtil.getBytes(r.content()), null));
          } finally {
            r.release();
          }
        } else {
          Throwable t = failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          UpstreamException e = t instanceof UpstreamException u ? u
              : new UpstreamException(502, "upstream_error", String.valueOf(t), true);
          x.moveTo(ExchangeState.FAILED);
          ledger.append(records.failed(x, e.status(), e.code(), e.getMessage(), e.requestSent(),
              System.nanoTime(), clock.instant()));
          count(a, "failed", e.status());
          store.completed(a, new TicketResult(e.status(), List.of(), new byte[0], e.code()));
        }
      });
    });
  }

  private void count(PendingApproval a, String outcome, int status) {
    metrics.exchange(a.request().route().name(), a.decision().path("risk").asText(),
        a.decision().path("action").asText(), outcome, status);
  }

  private static List<Map.Entry<String, String>> headers(FullHttpResponse r) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (Map.Entry<String, String> h : r.headers()) {
      if (ResponseHeaders.passedOn(h.getKey())) {
        out.add(new SimpleImmutableEntry<>(h.getKey(), h.getValue()));
      }
    }
    return out;
  }

  /** The decision from its journaled form. */
  static Decision decision(JsonNode d) {
    List<String> reasons = new ArrayList<>();
    d.path("reasons").forEach(r -> reasons.add(r.asText()));
    return new Decision(RiskClass.fromWire(d.path("risk").asText()),
        PolicyAction.fromWire(d.path("action").asText()), reasons,
        d.path("rule").isNull() ? null : d.path("rule").asText(null), d.path("obligations"),
        d.path("revision").asText(null), d.hasNonNull("failure") ? d.path("failure").asText() : null);
  }
}
