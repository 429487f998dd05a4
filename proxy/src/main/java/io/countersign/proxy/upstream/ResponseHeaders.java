package io.countersign.proxy.upstream;

import java.util.HashSet;
import java.util.List;
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

  /**
   * Whether the header named {@code name} (any case) is passed on to the agent, given the names
   * the answer's own Connection headers nominate ({@link #nominated}).
   */
  public static boolean passedOn(String name, Set<String> nominated) {
    String lower = name.toLowerCase(Locale.ROOT);
    return !NOT_PASSED_ON.contains(lower) && (nominated.isEmpty() || !nominated.contains(lower));
  }

  /**
   * The header names an answer's {@code Connection} headers nominate as hop-by-hop (RFC 9110
   * 7.6.1), lower case: they are for the proxy's connection only and are not passed on.
   *
   * @param connectionValues the values of the answer's Connection headers
   */
  public static Set<String> nominated(List<String> connectionValues) {
    if (connectionValues.isEmpty()) {
      return Set.of();
    }
    Set<String> names = new HashSet<>();
    for (String v : connectionValues) {
      for (String token : v.split(",")) {
        String t = token.strip().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          names.add(t);
        }
      }
    }
    return names;
  }
}
