package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Stripe's error body, {@code {"error": {"type", "code", "message", "param"}}}, with the proxy's
 * fields under {@code error.countersign}. The official client picks the {@code StripeError}
 * subclass by status ({@code PermissionError} for 403, {@code InvalidRequestError} for 400 and
 * 404, {@code RateLimitError} for 429, {@code APIError} otherwise) and shows {@code
 * error.message}, which carries the rule and reasons. {@code type} is one of Stripe's:
 * {@code invalid_request_error} for a 4xx, {@code api_error} for a 5xx.
 */
final class StripeErrors implements ErrorDialect {

  @Override
  public Answer write(Refusal r) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    ObjectNode error = body.putObject("error");
    error.put("type", ErrorDialect.serverSide(r.status()) ? "api_error" : "invalid_request_error");
    error.put("code", r.code());
    error.put("message", r.explained());
    error.putNull("param");
    r.details(error.putObject("countersign"));
    return Answers.json(r.status(), body, "application/json", r.exchangeId());
  }
}
