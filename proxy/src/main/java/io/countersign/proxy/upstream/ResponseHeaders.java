package io.countersign.proxy.upstream;

import java.util.Locale;
import java.util.Set;

/**
 * Which upstream response headers reach the agent: all but the hop-by-hop ones (RFC 9110 7.6.1)
 * and Content-Length, which the proxy sets for the body it actually sends. One list for every path
 * that hands an upstream answer to the agent (direct, async tickets, tickets rebuilt after a
 * restart).
 */
public final class ResponseHeaders {
  private static final Set<String> NOT_PASSED_ON =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "content-length");

  private ResponseHeaders() {}

  /** Whether the header named {@code name} (any case) is passed on to the agent. */
  public static boolean passedOn(String name) {
    return !NOT_PASSED_ON.contains(name.toLowerCase(Locale.ROOT));
  }
}
