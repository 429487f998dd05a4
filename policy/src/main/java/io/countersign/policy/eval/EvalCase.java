package io.countersign.policy.eval;

import io.countersign.policy.PolicyInput;
import java.util.Objects;

/**
 * One edge case: a note that says why it matters, the policy input, and the expected decision.
 *
 * @param note what the case is about (shown in reports)
 * @param input the full policy input, expanded from the short form when the file used it
 * @param want the expected decision
 */
public record EvalCase(String note, PolicyInput input, Expectation want) {

  /** Validates the case. */
  public EvalCase {
    Objects.requireNonNull(note, "note");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(want, "want");
  }
}
