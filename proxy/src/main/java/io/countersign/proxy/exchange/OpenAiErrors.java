package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The OpenAI API's error body, {@code {"error": {"message", "type", "param", "code"}}}, with the
 * proxy's fields under {@code error.countersign}. The official client raises the exception of
 * the HTTP status ({@code PermissionDeniedError} for 403) and puts {@code error.message} in its
 * text, so the message carries the rule and reasons; {@code error.code} is the proxy's code.
 */
final class OpenAiErrors implements ErrorDialect {

  /** {@code error.type} by status, in the API's words. */
  static String typeOf(int status) {
    return switch (status) {
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 429 -> "rate_limit_error";
      default -> ErrorDialect.serverSide(status) ? "server_error" : "invalid_request_error";
    };
  }

  @Override
  public Answer write(Refusal r) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    ObjectNode error = body.putObject("error");
    error.put("message", r.explained());
    error.put("type", typeOf(r.status()));
    error.putNull("param");
    error.put("code", r.code());
    r.details(error.putObject("countersign"));
    return Answers.json(r.status(), body, "application/json", r.exchangeId());
  }
}
