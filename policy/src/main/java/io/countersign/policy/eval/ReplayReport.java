package io.countersign.policy.eval;

import io.countersign.policy.Decision;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What a candidate policy would change about recorded exchanges.
 *
 * @param engine the engine's name
 * @param revision the candidate policy's revision
 * @param outcomes one per replayed exchange, in journal order
 * @param expected the changes the author said to expect
 */
public record ReplayReport(
    String engine, String revision, List<Outcome> outcomes, ReplayExpectations expected) {

  /**
   * One replayed exchange.
   *
   * @param exchange the recorded exchange
   * @param decision the candidate's decision
   * @param after its action, risk and rule
   * @param expectedBecause why the change is expected (an exchange id or a rule move), or null
   */
  public record Outcome(
      RecordedExchange exchange, Decision decision, DecisionSummary after, String expectedBecause) {
    /** True when the action, risk or rule differs from the recorded decision. */
    public boolean changed() {
      return !after.equals(exchange.before());
    }

    /** True for a change nobody said to expect. */
    public boolean unexpected() {
      return changed() && expectedBecause == null;
    }
  }

  /** Copies the outcomes. */
  public ReplayReport {
    outcomes = List.copyOf(outcomes);
  }

  /** The exchanges whose decision would change. */
  public List<Outcome> changes() {
    return outcomes.stream().filter(Outcome::changed).collect(Collectors.toList());
  }

  /** The changes nobody said to expect; a non-empty list fails the replay. */
  public List<Outcome> unexpectedChanges() {
    return outcomes.stream().filter(Outcome::unexpected).collect(Collectors.toList());
  }

  /** How many exchanges had a body the ledger did not keep (replayed with a null body). */
  public long bodiesNotRecorded() {
    return outcomes.stream().filter(o -> !o.exchange().bodyRecorded()).count();
  }

  /** Exchange ids the author expected to change that did not (or were not in the ledger). */
  public Set<String> expectedButUnchanged() {
    Set<String> changed = changes().stream().map(o -> o.exchange().exchangeId()).collect(Collectors.toSet());
    Set<String> out = new TreeSet<>(expected.exchangeIds());
    out.removeAll(changed);
    return out;
  }

  /**
   * Counts by route, risk and action: before (as recorded) and after (the candidate), sorted.
   * Each value is {@code [before, after]}.
   */
  public Map<String, long[]> countsByRouteRiskAction() {
    Map<String, long[]> counts = new TreeMap<>();
    for (Outcome o : outcomes) {
      String route = String.valueOf(o.exchange().input().request().route());
      DecisionSummary b = o.exchange().before();
      counts.computeIfAbsent(route + " " + b.risk() + " " + b.action(), k -> new long[2])[0]++;
      counts.computeIfAbsent(route + " " + o.after().risk() + " " + o.after().action(), k -> new long[2])[1]++;
    }
    return counts;
  }

  /** Prints the summary, the counts table and every changed exchange. */
  public void print(PrintWriter out, String ledger) {
    out.println("replayed " + outcomes.size() + " exchanges from " + ledger + " against policy "
        + revision + " (engine " + engine + ")");
    long missing = bodiesNotRecorded();
    if (missing > 0) {
      out.println(missing + " exchanges had a body not recorded in the ledger (digest only or not"
          + " JSON) and were replayed with a null body");
    }
    out.println();
    TextTable counts = new TextTable("ROUTE", "RISK", "ACTION", "BEFORE", "AFTER", "DELTA");
    for (Map.Entry<String, long[]> e : countsByRouteRiskAction().entrySet()) {
      String[] k = e.getKey().split(" ", 3);
      long delta = e.getValue()[1] - e.getValue()[0];
      counts.row(k[0], k[1], k[2], Long.toString(e.getValue()[0]), Long.toString(e.getValue()[1]),
          delta == 0 ? "0" : (delta > 0 ? "+" : "") + delta);
    }
    counts.print(out);
    List<Outcome> changes = changes();
    out.println();
    out.println(changes.size() + " changed (" + (changes.size() - unexpectedChanges().size())
        + " expected, " + unexpectedChanges().size() + " unexpected)");
    if (!changes.isEmpty()) {
      TextTable table = new TextTable("EXCHANGE", "REQUEST", "BEFORE", "AFTER", "EXPECTED", "BODY");
      for (Outcome o : changes) {
        table.row(
            o.exchange().exchangeId(),
            o.exchange().requestLine(),
            o.exchange().before().toString(),
            o.after().toString(),
            o.expectedBecause() == null ? "NO" : "yes: " + o.expectedBecause(),
            o.exchange().bodyRecorded() ? "recorded" : "not recorded");
      }
      out.println();
      table.print(out);
    }
    Set<String> unmet = expectedButUnchanged();
    if (!unmet.isEmpty()) {
      out.println();
      out.println("expected to change but unchanged: " + String.join(", ", unmet));
    }
  }
}
