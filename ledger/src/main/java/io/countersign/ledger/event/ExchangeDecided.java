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
 * @param mcp on an MCP route, {@code input.mcp} as the policy saw it (arguments only when the
 *     decision keeps the body); null on other routes
 */
public record ExchangeDecided(
    String route,
    RequestRecord request,
    Caller caller,
    DecisionRecord decision,
    Map<String, Long> spend,
    long policyLatencyUs,
    String receivedAt,
    McpRecord mcp)
    implements ExchangeEvent {

  /** The intent of a request on a route that is not an MCP route. */
  public ExchangeDecided(String route, RequestRecord request, Caller caller,
      DecisionRecord decision, Map<String, Long> spend, long policyLatencyUs, String receivedAt) {
    this(route, request, caller, decision, spend, policyLatencyUs, receivedAt, null);
  }

  /** Normalizes an empty spend map to none. */
  public ExchangeDecided {
    spend = spend == null || spend.isEmpty() ? null : spend;
  }

  @Override
  public Map<String, Map<String, String>> redactableHeaders() {
    return request == null ? Map.of() : Map.of("request", request.headers());
  }
}
