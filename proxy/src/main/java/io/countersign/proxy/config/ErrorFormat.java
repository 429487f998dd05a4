package io.countersign.proxy.config;

import java.util.Locale;

/**
 * How a route's API writes its errors ({@code routes[].errors}), so that the agent's client SDK
 * can read the proxy's refusals as it reads the API's own errors ({@code docs/errors.md}).
 */
public enum ErrorFormat {
  /** RFC 9457 {@code application/problem+json}, carrying the proxy's fields as extensions (the default). */
  PROBLEM,
  /** The OpenAI API's {@code {"error": {"message", "type", "param", "code"}}}. */
  OPENAI,
  /** Stripe's {@code {"error": {"type", "code", "message", "param"}}}. */
  STRIPE,
  /** A JSON-RPC 2.0 error response (MCP and other JSON-RPC APIs). */
  JSONRPC;

  /** The name in the config file, e.g. {@code openai}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The format named {@code name} in the config file (validated by the schema), or null for none. */
  public static ErrorFormat of(String name) {
    return name == null ? null : valueOf(name.toUpperCase(Locale.ROOT));
  }

  /** The dialect of a route of {@code kind} that names none: JSON-RPC for MCP, else problem details. */
  public static ErrorFormat defaultFor(RouteKind kind) {
    return kind == RouteKind.MCP ? JSONRPC : PROBLEM;
  }
}
