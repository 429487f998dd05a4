package io.countersign.policy.eval;

import io.countersign.policy.Decision;

/**
 * The part of a decision that evals compare: action, risk and rule.
 *
 * @param action the wire name of the action ({@code allow}, {@code deny}, {@code hold})
 * @param risk the wire name of the risk class
 * @param rule the deciding rule's id, or null (a fail-closed decision has none)
 */
public record DecisionSummary(String action, String risk, String rule) {

  /** The summary of a decision. */
  public static DecisionSummary of(Decision d) {
    return new DecisionSummary(d.action().wireName(), d.risk().wireName(), d.rule());
  }

  /** {@code action risk rule}, with {@code -} for what is missing. */
  @Override
  public String toString() {
    return dash(action) + " " + dash(risk) + " " + dash(rule);
  }

  private static String dash(String s) {
    return s == null ? "-" : s;
  }
}
