package io.countersign.ledger.event;

import java.util.Map;

/**
 * {@code exchange.decided}: the intent, appended before anything is forwarded. The canonical
 * request, who called, the decision, and what the policy was told besides (spend so far).
 *
 * @param route the route's name
 * @param request the canonical request
 * @param caller who called and why
 * @param decision the decision
 * @param spend the spend counters the policy saw in {@code input.context.spend}, or null
 * @param policyLatencyUs how long the decision took, in microseconds
 * @param receivedAt when the request was received ({@code input.context.time} to the millisecond)
 */
public record ExchangeDecided(
    String route,
    RequestRecord request,
    Caller caller,
    DecisionRecord decision,
    Map<String, Long> spend,
    long policyLatencyUs,
    String receivedAt)
    implements ExchangeEvent {

  /** Normalizes an empty spend map to none. */
  public ExchangeDecided {
    spend = spend == null || spend.isEmpty() ? null : spend;
  }

  @Override
  public Map<String, Map<String, String>> redactableHeaders() {
    return request == null ? Map.of() : Map.of("request", request.headers());
  }
}
