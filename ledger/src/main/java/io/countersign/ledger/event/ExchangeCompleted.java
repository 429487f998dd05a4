package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * {@code exchange.completed}: the exchange was answered: with the upstream's answer ({@code
 * outcome} {@code forwarded}, {@code response} set) or with a refusal that nothing was forwarded
 * for ({@code denied}, {@code approval_denied} ...).
 *
 * @param outcome the outcome's name (see {@link ExchangeOutcome#outcome()})
 * @param status the status the agent got
 * @param response the upstream's answer as the agent got it, or null when nothing was forwarded
 * @param upstreamLatencyUs from sending upstream to the answer, in microseconds, or null
 * @param totalLatencyUs from receiving the request to the answer, in microseconds
 * @param rollback the decision's rollback instruction for a forwarded mutation, or null
 * @param usage what an LLM call used and cost, when the decision priced it; else null
 */
public record ExchangeCompleted(
    String outcome,
    int status,
    ResponseRecord response,
    Long upstreamLatencyUs,
    long totalLatencyUs,
    JsonNode rollback,
    LlmUsage usage)
    implements ExchangeOutcome {

  /** An outcome without LLM usage. */
  public ExchangeCompleted(String outcome, int status, ResponseRecord response,
      Long upstreamLatencyUs, long totalLatencyUs, JsonNode rollback) {
    this(outcome, status, response, upstreamLatencyUs, totalLatencyUs, rollback, null);
  }

  /** Normalizes a JSON null rollback to none. */
  public ExchangeCompleted {
    rollback = Json.orNull(rollback);
  }

  @Override
  public Map<String, Map<String, String>> redactableHeaders() {
    return response == null ? Map.of() : Map.of("response", response.headers());
  }
}
