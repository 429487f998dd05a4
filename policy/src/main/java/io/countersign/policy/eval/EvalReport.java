package io.countersign.policy.eval;

import java.io.PrintWriter;
import java.util.List;

/**
 * The results of an eval run, and how they print.
 *
 * @param engine the engine's name ({@code wasm} or {@code opa})
 * @param revision the revision of the policy that judged the cases
 * @param results one per case, in file order
 */
public record EvalReport(String engine, String revision, List<EvalRun.Result> results) {

  /** Copies the results. */
  public EvalReport {
    results = List.copyOf(results);
  }

  /** How many cases got a decision other than the one they expect. */
  public long failed() {
    return results.stream().filter(r -> !r.passed()).count();
  }

  /**
   * Prints one line per case ({@code ok} or {@code FAIL}, the note, what was expected and what
   * came back), the reasons of each failure, and a summary line.
   */
  public void print(PrintWriter out) {
    TextTable table = new TextTable("RESULT", "NOTE", "WANT (action risk rule)", "GOT");
    for (EvalRun.Result r : results) {
      table.row(
          r.passed() ? "ok" : "FAIL",
          r.evalCase().note(),
          r.evalCase().want().toString(),
          DecisionSummary.of(r.decision()).toString());
    }
    table.print(out);
    for (EvalRun.Result r : results) {
      if (!r.passed()) {
        out.println();
        out.println("FAIL " + r.evalCase().note() + ": " + String.join(", ", r.mismatches()) + " differ");
        out.println("  want: " + r.evalCase().want());
        out.println("  got:  " + DecisionSummary.of(r.decision()));
        r.decision().reasons().forEach(reason -> out.println("  reason: " + reason));
        if (r.decision().isFailure()) {
          out.println("  the engine failed closed: " + r.decision().failure());
        }
      }
    }
    out.println();
    out.println(results.size() + " cases, " + (results.size() - failed()) + " passed, " + failed()
        + " failed (engine " + engine + ", policy " + revision + ")");
  }
}
