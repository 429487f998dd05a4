package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.config.ErrorFormat;

/**
 * How the proxy writes a {@link Refusal} for one route: in the error dialect of the API behind
 * it ({@code routes[].errors}), so the agent's client SDK reads the refusal as it reads that
 * API's own errors and shows the rule and reasons instead of failing on an unknown shape.
 * Documented in {@code docs/errors.md#error-dialects}.
 */
public interface ErrorDialect {
  /** RFC 9457 problem details: the default, and what refusals before any route is known use. */
  ErrorDialect PROBLEM = new ProblemDetails();

  /** The answer for {@code refusal}, with Content-Type, Content-Length and the exchange id header. */
  Answer write(Refusal refusal);

  /** The dialect of {@code format}, bound to the request it answers (JSON-RPC echoes its id). */
  static ErrorDialect of(ErrorFormat format, JsonNode requestJson) {
    return switch (format) {
      case PROBLEM -> PROBLEM;
      case OPENAI -> new OpenAiErrors();
      case STRIPE -> new StripeErrors();
      case JSONRPC -> JsonRpcErrors.answering(requestJson);
    };
  }

  /** The dialect of {@code request}'s route, bound to it. */
  static ErrorDialect forRequest(CanonicalRequest request) {
    return of(request.route().errors(), request.bodyJson());
  }

  /** An {@code error} object's {@code type} by status: the 4xx/5xx split both SDK dialects make. */
  static boolean serverSide(int status) {
    return status >= 500;
  }
}
