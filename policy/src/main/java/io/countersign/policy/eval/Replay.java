package io.countersign.policy.eval;

import io.countersign.policy.Decision;
import io.countersign.policy.PolicyEngine;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Re-judges recorded exchanges with a candidate policy and reports what would change.
 *
 * <p>A change is a different action, risk or deciding rule; reasons and obligations are not
 * compared. Up to {@value #IN_FLIGHT} evaluations are in flight at once, so an OPA server engine
 * works in parallel while the in-process wasm engine (which completes on the calling thread) runs
 * them one after the other at its own speed; either way results are reported in journal order.
 */
public final class Replay {
  /** How many evaluations may be in flight (below the OPA engine's default queue of 256). */
  static final int IN_FLIGHT = 64;

  private static final Duration PER_EXCHANGE = Duration.ofSeconds(30);

  private Replay() {}

  /**
   * Replays exchanges.
   *
   * @param engine the candidate policy
   * @param exchanges the recorded exchanges, in journal order
   * @param expected the changes the author expects
   */
  public static ReplayReport run(
      PolicyEngine engine, List<RecordedExchange> exchanges, ReplayExpectations expected) {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(expected, "expected");
    List<ReplayReport.Outcome> outcomes = new ArrayList<>(exchanges.size());
    Deque<Pending> window = new ArrayDeque<>(IN_FLIGHT);
    for (RecordedExchange x : exchanges) {
      if (window.size() == IN_FLIGHT) {
        outcomes.add(window.removeFirst().await(engine, expected));
      }
      window.addLast(new Pending(x, engine.evaluate(x.input()).toCompletableFuture()));
    }
    while (!window.isEmpty()) {
      outcomes.add(window.removeFirst().await(engine, expected));
    }
    return new ReplayReport(engine.name(), engine.revision(), outcomes, expected);
  }

  private record Pending(RecordedExchange exchange, CompletableFuture<Decision> decision) {
    ReplayReport.Outcome await(PolicyEngine engine, ReplayExpectations expected) {
      Decision d;
      try {
        d = decision.get(PER_EXCHANGE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        d = Decision.failClosed("policy_timeout", "no decision while replaying: " + e, engine.revision());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        d = Decision.failClosed("policy_error", "interrupted", engine.revision());
      }
      DecisionSummary after = DecisionSummary.of(d);
      String why = after.equals(exchange.before()) ? null : expected.explain(exchange.exchangeId(), exchange.before(), after);
      return new ReplayReport.Outcome(exchange, d, after, why);
    }
  }
}
