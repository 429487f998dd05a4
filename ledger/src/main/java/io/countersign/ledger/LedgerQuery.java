package io.countersign.ledger;

import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.ExchangeOutcome;
import io.countersign.ledger.event.ExchangeRejected;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Searches a ledger: by who called and why (agent, on-behalf-of user, account, workflow, run), what
 * (route, risk, action, outcome, event type) and when (a time range), a page at a time.
 *
 * <p>Exchange-level filters (agent, user, account, workflow, run, route, risk, action) are judged on
 * the exchange's {@code exchange.decided} event; an exchange that matches contributes all its
 * events (intent, outcome, approvals), in journal order. {@code outcome} is judged on the {@code
 * exchange.completed}/{@code exchange.failed} event, and an outcome filter keeps only those
 * events. Events without an exchange (ledger-internal) match only filters on type and time.
 *
 * <p>Paging: results come in journal order after {@link Filter#afterIndex()}; when a page is full,
 * {@link Page#next()} is the cursor (the last index returned) to pass as {@code afterIndex} for the
 * next page. Exchanges whose intent lies before the cursor are not carried over: a page boundary
 * may separate an outcome from its intent, so page on a range that starts at an intent, or filter
 * by type.
 *
 * <p>Speed: candidate documents are pre-screened on their raw text (a filter value that does not
 * appear in the line cannot match), so only plausible events are parsed.
 *
 * <p>Threading: runs on the caller's thread; never on an event loop (it reads files).
 */
public final class LedgerQuery {

  /**
   * What to look for; {@code null} fields match anything.
   *
   * @param agent caller.agent
   * @param onBehalfOf caller.on_behalf_of (the user)
   * @param account caller.account
   * @param workflow caller.workflow
   * @param run caller.run
   * @param route the route name
   * @param risk decision.risk
   * @param action decision.action
   * @param outcome the outcome ({@code forwarded}, {@code denied}, {@code hold_refused}, {@code
   *     failed} ...)
   * @param type the event type's wire name
   * @param since events at or after this time
   * @param until events before this time
   * @param afterIndex only events after this journal index ({@code -1}: from the start)
   * @param limit at most this many events ({@code 0}: no limit)
   */
  public record Filter(
      String agent,
      String onBehalfOf,
      String account,
      String workflow,
      String run,
      String route,
      String risk,
      String action,
      String outcome,
      String type,
      Instant since,
      Instant until,
      long afterIndex,
      int limit) {

    /** Validates the filter. */
    public Filter {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must not be negative");
      }
    }

    /** Matches everything, no limit. */
    public static Filter all() {
      return new Filter(null, null, null, null, null, null, null, null, null, null, null, null, -1,
          0);
    }

    private boolean hasExchangeFilter() {
      return agent != null || onBehalfOf != null || account != null || workflow != null
          || run != null || route != null || risk != null || action != null;
    }
  }

  /**
   * One page of results.
   *
   * @param count events returned
   * @param scanned documents read
   * @param next the cursor for the next page, or {@code -1} when the end was reached
   */
  public record Page(long count, long scanned, long next) {}

  private static final Caller NO_CALLER = new Caller(null, null, null, null, null, null, null, null);

  /** How many matching exchanges are remembered to attach their later events. */
  private static final int MAX_OPEN_EXCHANGES = 1 << 20;

  private LedgerQuery() {}

  /**
   * Runs {@code filter} over the ledger in {@code dir}, calling {@code onMatch} for each result.
   *
   * @throws NoLedgerException when there is no ledger at {@code dir}
   */
  public static Page run(Path dir, Filter filter, Consumer<RecordedEvent> onMatch) {
    Objects.requireNonNull(filter, "filter");
    Map<String, Boolean> open = new LinkedHashMap<>(1024, 0.75f, false) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > MAX_OPEN_EXCHANGES;
      }
    };
    List<String> needles = needles(filter);
    long[] count = {0};
    long[] scanned = {0};
    long[] last = {-1};
    boolean[] full = {false};
    try (LedgerReader reader = LedgerReader.open(dir)) {
      reader.scanText(filter.afterIndex(), (index, text) -> {
        scanned[0]++;
        if (full[0]) {
          return false;
        }
        String exchangeId = exchangeIdOf(text);
        boolean known = exchangeId != null && open.containsKey(exchangeId);
        if (!known && filter.hasExchangeFilter() && !containsAll(text, needles)) {
          return true;
        }
        if (!known && filter.outcome() != null && !filter.hasExchangeFilter()
            && !text.contains("\"" + filter.outcome() + "\"")) {
          return true;
        }
        LedgerEvent event;
        try {
          event = LedgerEventCodec.fromJson(text);
        } catch (IllegalArgumentException e) {
          return true; // unreadable and unknown documents are tail's and verify's business
        }
        if (!matches(filter, event, open)) {
          return true;
        }
        onMatch.accept(new RecordedEvent(index, event, text));
        count[0]++;
        last[0] = index;
        if (filter.limit() > 0 && count[0] >= filter.limit()) {
          full[0] = true;
          return false;
        }
        return true;
      });
    }
    return new Page(count[0], scanned[0], full[0] ? last[0] : -1);
  }

  private static boolean matches(Filter f, LedgerEvent e, Map<String, Boolean> open) {
    if (f.since() != null && e.time().isBefore(f.since())) {
      return false;
    }
    if (f.until() != null && !e.time().isBefore(f.until())) {
      return false;
    }
    if (f.type() != null && !f.type().equals(e.type().wireName())) {
      if (e.type() != EventType.EXCHANGE_DECIDED) {
        return false;
      }
    }
    boolean exchangeMatches;
    if (e.body() instanceof ExchangeDecided d) {
      Caller caller = d.caller() == null ? NO_CALLER : d.caller();
      String risk = d.decision() == null ? null : d.decision().risk();
      String action = d.decision() == null ? null : d.decision().action();
      exchangeMatches = eq(f.agent(), caller.agent())
          && eq(f.onBehalfOf(), caller.onBehalfOf())
          && eq(f.account(), caller.account())
          && eq(f.workflow(), caller.workflow())
          && eq(f.run(), caller.run())
          && eq(f.route(), d.route())
          && eq(f.risk(), risk)
          && eq(f.action(), action);
      if (exchangeMatches && f.hasExchangeFilter()) {
        open.put(e.exchangeId(), Boolean.TRUE);
      }
    } else if (e.body() instanceof ExchangeRejected r) {
      exchangeMatches = !f.hasExchangeFilter() || (f.agent() != null && f.onBehalfOf() == null
          && f.account() == null && f.workflow() == null && f.run() == null && f.route() == null
          && f.risk() == null && f.action() == null && eq(f.agent(), r.agent()));
    } else {
      exchangeMatches = !f.hasExchangeFilter() || open.containsKey(e.exchangeId());
      if (e.body() instanceof ExchangeOutcome) {
        open.remove(e.exchangeId());
      }
    }
    if (!exchangeMatches) {
      return false;
    }
    if (f.type() != null && !f.type().equals(e.type().wireName())) {
      return false;
    }
    if (f.outcome() != null) {
      return e.body() instanceof ExchangeOutcome o && f.outcome().equals(o.outcome());
    }
    return true;
  }

  private static boolean eq(String wanted, String actual) {
    return wanted == null || wanted.equals(actual);
  }

  /** The exchange id of a stored line, read without parsing it (the envelope's fixed order). */
  static String exchangeIdOf(String text) {
    int at = text.indexOf("\"exchange_id\":\"");
    if (at < 0 || at > 96) {
      return null;
    }
    int start = at + 15;
    int end = text.indexOf('"', start);
    return end < 0 ? null : text.substring(start, end);
  }

  /** Filter values every line of a matching decided event must contain, as JSON strings. */
  private static List<String> needles(Filter f) {
    List<String> out = new ArrayList<>();
    for (String v : new String[] {f.agent(), f.onBehalfOf(), f.account(), f.workflow(), f.run(),
        f.route(), f.risk(), f.action()}) {
      if (v != null && v.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
          && c != '/')) {
        out.add("\"" + v + "\"");
      }
    }
    return out;
  }

  private static boolean containsAll(String text, List<String> needles) {
    for (String n : needles) {
      if (!text.contains(n)) {
        return false;
      }
    }
    return true;
  }
}
