/**
 * Evals for policy authors: run a policy against edge cases before it is rolled out.
 *
 * <p>{@link io.countersign.policy.eval.EvalCases} reads a file of cases (a note, a policy input or
 * a short request form, and the expected action, risk and rule), {@link
 * io.countersign.policy.eval.EvalRun} judges each with a real {@link
 * io.countersign.policy.PolicyEngine} and reports every mismatch. {@link
 * io.countersign.policy.eval.Replay} re-judges recorded exchanges ({@link
 * io.countersign.policy.eval.RecordedExchange}, rebuilt from the ledger's {@code
 * exchange.decided} bodies) with a candidate policy and reports what would change, against the
 * author's {@link io.countersign.policy.eval.ReplayExpectations}.
 *
 * <p>This package knows the ledger's event bodies as JSON only; reading the journal is the
 * caller's job (the {@code countersign policy} command), so the policy module stays free of the
 * ledger module.
 */
package io.countersign.policy.eval;
