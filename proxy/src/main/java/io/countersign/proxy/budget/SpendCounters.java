package io.countersign.proxy.budget;

import io.countersign.ledger.RecordedEvent;
import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.ExchangeCompleted;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.ExchangeOutcome;
import io.countersign.proxy.canonical.CallerIdentity;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Spend per agent, workflow and account for the current UTC day, summed from the {@code cost} of
 * the decisions of forwarded exchanges. The policy reads them in {@code input.context.spend} as
 * {@code agent_today}, {@code workflow_today} and {@code account_today} and decides what over
 * budget means. Rebuilt from the ledger at startup, so a restart does not reset a budget.
 * Thread-safe; the counts an exchange sees do not include exchanges still in flight.
 */
public final class SpendCounters {
  private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
  private final java.util.Set<String> currencies = ConcurrentHashMap.newKeySet();
  private volatile LocalDate day = LocalDate.MIN;

  /** The counters the policy sees for {@code caller} at {@code now}. */
  public Map<String, Long> snapshot(CallerIdentity caller, Instant now) {
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    Map<String, Long> out = new LinkedHashMap<>();
    out.put("agent_today", get(today, "agent", caller.agent()));
    out.put("workflow_today", get(today, "workflow", caller.workflow()));
    out.put("account_today", get(today, "account", caller.account()));
    for (String c : currencies) {
      out.put("agent_" + c + "_micros_today", get(today, "agent:" + c, caller.agent()));
      out.put("workflow_" + c + "_micros_today", get(today, "workflow:" + c, caller.workflow()));
      out.put("account_" + c + "_micros_today", get(today, "account:" + c, caller.account()));
    }
    return out;
  }

  /**
   * Adds what a priced LLM call cost, in millionths of {@code currency}: the policy reads it as
   * {@code agent_<currency>_micros_today} (and workflow_, account_), e.g. {@code
   * agent_usd_micros_today}.
   */
  public void addMoney(CallerIdentity caller, Instant when, String currency, long micros) {
    addMoney(caller.agent(), caller.workflow(), caller.account(), when, currency, micros);
  }

  private void addMoney(String agent, String workflow, String account, Instant when,
      String currency, long micros) {
    currencies.add(currency);
    add(agent, workflow, account, when, micros, ":" + currency);
  }

  /** Adds a forwarded exchange's cost. */
  public void add(CallerIdentity caller, Instant when, long cost) {
    add(caller.agent(), caller.workflow(), caller.account(), when, cost);
  }

  private void add(String agent, String workflow, String account, Instant when, long cost) {
    add(agent, workflow, account, when, cost, "");
  }

  private void add(String agent, String workflow, String account, Instant when, long cost,
      String unit) {
    if (cost <= 0) {
      return;
    }
    LocalDate d = LocalDate.ofInstant(when, ZoneOffset.UTC);
    if (d.isAfter(day)) {
      day = d;
      counters.keySet().removeIf(k -> !k.startsWith(d + "|")); // yesterday's budget is spent
    }
    if (d.isBefore(day)) {
      return;
    }
    inc(d, "agent" + unit, agent, cost);
    inc(d, "workflow" + unit, workflow, cost);
    inc(d, "account" + unit, account, cost);
  }

  private void inc(LocalDate d, String scope, String id, long cost) {
    if (id != null) {
      counters.computeIfAbsent(d + "|" + scope + "|" + id, k -> new AtomicLong()).addAndGet(cost);
    }
  }

  private long get(LocalDate d, String scope, String id) {
    if (id == null) {
      return 0;
    }
    AtomicLong v = counters.get(d + "|" + scope + "|" + id);
    return v == null ? 0 : v.get();
  }

  /**
   * A rebuild of today's counters from the ledger, fed one recorded event at a time (the proxy
   * reads the journal once at startup and feeds every consumer): the cost of every decided
   * exchange whose outcome was {@code forwarded}.
   */
  public Rebuild rebuild(Instant now) {
    return new Rebuild(LocalDate.ofInstant(now, ZoneOffset.UTC));
  }

  /** Consumes recorded events into the counters. Single-threaded, like the read that feeds it. */
  public final class Rebuild implements Consumer<RecordedEvent> {
    private final LocalDate today;
    private final Map<String, ExchangeDecided> decided = new HashMap<>();
    private final Map<String, Caller> callers = new HashMap<>(); // of priced LLM calls
    private int counted;

    private Rebuild(LocalDate today) {
      this.today = today;
    }

    @Override
    public void accept(RecordedEvent e) {
      String id = e.event().exchangeId();
      if (e.event().body() instanceof ExchangeDecided d) {
        if (cost(d) > 0) {
          decided.put(id, d);
        }
        if (priced(d)) {
          callers.put(id, d.caller());
        }
      } else if (e.event().body() instanceof ExchangeOutcome o) {
        ExchangeDecided d = decided.remove(id);
        Instant at = e.event().time();
        if (o instanceof ExchangeCompleted c && c.usage() != null
            && LocalDate.ofInstant(at, ZoneOffset.UTC).equals(today)) {
          Caller who = callers.remove(id);
          addMoney(who == null ? null : who.agent(), who == null ? null : who.workflow(),
              who == null ? null : who.account(), at, c.usage().currency(), c.usage().costMicros());
        } else {
          callers.remove(id);
        }
        if (d != null && "forwarded".equals(o.outcome())
            && LocalDate.ofInstant(at, ZoneOffset.UTC).equals(today)) {
          Caller c = d.caller();
          add(c == null ? null : c.agent(), c == null ? null : c.workflow(),
              c == null ? null : c.account(), at, cost(d));
          counted++;
        }
      }
    }

    /** How many forwarded exchanges of today were counted. */
    public int counted() {
      return counted;
    }
  }

  private static boolean priced(ExchangeDecided d) {
    return d.decision() != null && d.decision().obligations() != null
        && d.decision().obligations().has("llm_pricing");
  }

  private static long cost(ExchangeDecided d) {
    return d.decision() == null || d.decision().obligations() == null ? 0
        : d.decision().obligations().path("cost").asLong(0);
  }
}
