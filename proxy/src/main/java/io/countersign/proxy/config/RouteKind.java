package io.countersign.proxy.config;

/**
 * What a route's upstream speaks ({@code routes[].kind}), which decides how its request bodies are
 * read before the policy sees them.
 */
public enum RouteKind {
  /** Any HTTP API: bodies are read by their media type (docs/canonicalization.md). */
  HTTP,
  /**
   * An MCP server over the streamable HTTP transport: every request body is one JSON-RPC 2.0
   * message (or a batch of them, where the protocol revision allows it), and the policy sees what
   * it asks for in {@code input.mcp} (docs/mcp.md).
   */
  MCP;

  /**
   * The kind a config file names; the schema allows only {@code http} and {@code mcp}.
   *
   * @throws IllegalArgumentException for any other name
   */
  public static RouteKind fromConfig(String name) {
    if (name == null || name.equals("http")) {
      return HTTP;
    }
    if (name.equals("mcp")) {
      return MCP;
    }
    throw new IllegalArgumentException("no route kind '" + name + "'");
  }
}
