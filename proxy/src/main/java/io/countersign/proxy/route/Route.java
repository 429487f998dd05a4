package io.countersign.proxy.route;

import io.countersign.proxy.config.RequestRules;
import io.countersign.proxy.config.RouteKind;
import java.net.URI;

/**
 * One configured route, resolved at startup: a path prefix the agent uses, and the upstream it
 * leads to.
 *
 * @param name the route's name (what the policy sees as {@code request.route})
 * @param prefix the agent-side path prefix, e.g. {@code /crm}
 * @param upstream where requests go
 * @param credential the credential injected into forwarded requests, or null
 * @param rules how strictly the route reads requests (never null)
 * @param kind what the upstream speaks (never null)
 */
public record Route(
    String name,
    String prefix,
    UpstreamTarget upstream,
    InjectedCredential credential,
    RequestRules rules,
    RouteKind kind) {

  /** Validates that {@code rules} and {@code kind} are set. */
  public Route {
    java.util.Objects.requireNonNull(rules, "rules");
    java.util.Objects.requireNonNull(kind, "kind");
  }

  /** A plain HTTP route with {@code rules}. */
  public Route(String name, String prefix, UpstreamTarget upstream, InjectedCredential credential,
      RequestRules rules) {
    this(name, prefix, upstream, credential, rules, RouteKind.HTTP);
  }

  /** A route with the strict {@link RequestRules#STRICT} rules. */
  public Route(String name, String prefix, UpstreamTarget upstream, InjectedCredential credential) {
    this(name, prefix, upstream, credential, RequestRules.STRICT);
  }

  /**
   * An upstream origin and base path.
   *
   * @param secure https when true
   * @param host host name or address
   * @param port port
   * @param basePath path prepended to the agent's path after the prefix; empty or starts with "/"
   */
  public record UpstreamTarget(boolean secure, String host, int port, String basePath) {

    /** Parses a validated {@code http(s)://host[:port][/base]} URL. */
    public static UpstreamTarget parse(String url) {
      URI uri = URI.create(url);
      boolean secure = "https".equals(uri.getScheme());
      int port = uri.getPort() >= 0 ? uri.getPort() : secure ? 443 : 80;
      String host = uri.getHost();
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1); // URI keeps IPv6 brackets; authority() adds them
      }
      String base = uri.getRawPath() == null ? "" : uri.getRawPath();
      while (base.endsWith("/")) {
        base = base.substring(0, base.length() - 1);
      }
      return new UpstreamTarget(secure, host, port, base);
    }

    /** The value of the Host header sent upstream. */
    public String authority() {
      boolean defaultPort = secure ? port == 443 : port == 80;
      String h = host.contains(":") ? "[" + host + "]" : host;
      return defaultPort ? h : h + ":" + port;
    }

    /** The origin, e.g. {@code https://api.example.com:8443}, for logs and the ledger. */
    public String origin() {
      return (secure ? "https://" : "http://") + authority();
    }
  }

  /**
   * A credential the proxy adds to every forwarded request of a route.
   *
   * @param header lower-case header name
   * @param value the full header value (secret: never logged, never in the ledger)
   * @param passSetCookie whether the upstream's Set-Cookie reaches the agent (off by default)
   */
  public record InjectedCredential(String header, String value, boolean passSetCookie) {
    /** A credential whose answers lose their cookies (the default). */
    public InjectedCredential(String header, String value) {
      this(header, value, false);
    }

    @Override
    public String toString() {
      return "InjectedCredential[header=" + header + ", value=<redacted>, passSetCookie="
          + passSetCookie + "]";
    }
  }
}
