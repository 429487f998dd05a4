package io.countersign.policy.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What an eval case expects of the decision. Each part is optional (null means "any"), but a case
 * names at least one, so a case can never pass by expecting nothing.
 *
 * @param action the expected action, or null
 * @param risk the expected risk class, or null
 * @param rule the expected deciding rule, or null
 */
public record Expectation(String action, String risk, String rule) {

  /** Validates that at least one part is named. */
  public Expectation {
    if (action == null && risk == null && rule == null) {
      throw new IllegalArgumentException("an expectation names at least one of action, risk, rule");
    }
  }

  /** The parts of {@code got} that differ from this expectation, e.g. {@code rule}; empty if none. */
  public List<String> mismatches(DecisionSummary got) {
    List<String> out = new ArrayList<>(3);
    if (action != null && !action.equals(got.action())) {
      out.add("action");
    }
    if (risk != null && !risk.equals(got.risk())) {
      out.add("risk");
    }
    if (rule != null && !Objects.equals(rule, got.rule())) {
      out.add("rule");
    }
    return out;
  }

  /** {@code action risk rule}, with {@code *} for what is not expected. */
  @Override
  public String toString() {
    return star(action) + " " + star(risk) + " " + star(rule);
  }

  private static String star(String s) {
    return s == null ? "*" : s;
  }
}
