package io.countersign.ledger.event;

/**
 * {@code exchange.rejected}: a request refused before any policy saw it (bad input, no route,
 * shutting down), and why. Nothing was forwarded.
 *
 * @param agent the sidecar's agent id
 * @param status the status the agent got
 * @param error the error code
 * @param message what was wrong
 * @param method the method as received, or null
 * @param target the request target as received (cut at 2 KiB), or null
 * @param remote the agent's address, or null
 */
public record ExchangeRejected(
    String agent, int status, String error, String message, String method, String target, String remote)
    implements ExchangeEvent {}
