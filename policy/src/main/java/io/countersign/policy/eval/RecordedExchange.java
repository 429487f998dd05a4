package io.countersign.policy.eval;

import io.countersign.policy.PolicyInput;
import java.util.Objects;

/**
 * One exchange as the ledger recorded it: the policy input rebuilt from its {@code
 * exchange.decided} body, and the decision it got then.
 *
 * <p>The proxy rebuilds it from the journal ({@code PolicyInputs.recorded} in the proxy, which
 * knows both the ledger's event types and how it builds inputs; this module knows neither).
 *
 * @param exchangeId the exchange id
 * @param index the journal index of the event (orders the report)
 * @param input the rebuilt policy input
 * @param before the recorded decision's action, risk and rule
 * @param bodyRecorded false when the request had a body that the ledger did not keep (the replay
 *     judges it as null, so its decision may differ for that reason alone)
 */
public record RecordedExchange(
    String exchangeId, long index, PolicyInput input, DecisionSummary before, boolean bodyRecorded) {

  /** Validates the record. */
  public RecordedExchange {
    Objects.requireNonNull(exchangeId, "exchangeId");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(before, "before");
  }

  /** {@code METHOD /path} as the agent sent it, for reports. */
  public String requestLine() {
    return input.request().method() + " " + input.request().path();
  }
}
