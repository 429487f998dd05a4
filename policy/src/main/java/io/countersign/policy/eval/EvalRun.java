package io.countersign.policy.eval;

import io.countersign.policy.Decision;
import io.countersign.policy.PolicyEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Judges eval cases with a real engine, one after the other (cases are few; their order is the
 * file's, so a report reads like the file).
 */
public final class EvalRun {
  private static final Duration PER_CASE = Duration.ofSeconds(10);

  private EvalRun() {}

  /** The outcome of one case. */
  public record Result(EvalCase evalCase, Decision decision, List<String> mismatches) {
    /** True when the decision is what the case expects. */
    public boolean passed() {
      return mismatches.isEmpty();
    }
  }

  /**
   * Runs every case.
   *
   * @param engine the policy to judge with (its {@link PolicyEngine#revision()} is reported)
   * @param cases the cases, in file order
   */
  public static EvalReport run(PolicyEngine engine, List<EvalCase> cases) {
    Objects.requireNonNull(engine, "engine");
    List<Result> results = new ArrayList<>(cases.size());
    for (EvalCase c : cases) {
      Decision d = await(engine, c);
      results.add(new Result(c, d, c.want().mismatches(DecisionSummary.of(d))));
    }
    return new EvalReport(engine.name(), engine.revision(), results);
  }

  // Engines never complete exceptionally (they fail closed), so only a stuck engine ends here.
  static Decision await(PolicyEngine engine, EvalCase c) {
    CompletableFuture<Decision> f = engine.evaluate(c.input()).toCompletableFuture();
    try {
      return f.get(PER_CASE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return Decision.failClosed("policy_timeout", "no decision for '" + c.note() + "': " + e, engine.revision());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Decision.failClosed("policy_error", "interrupted", engine.revision());
    }
  }
}
