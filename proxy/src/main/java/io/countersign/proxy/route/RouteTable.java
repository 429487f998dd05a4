package io.countersign.proxy.route;

import io.countersign.proxy.config.ConfigException;
import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Maps a canonical path to its route by the longest prefix that ends at a segment boundary, and
 * resolves every route's credential once at startup (a missing secret stops the start, it does not
 * surface later as an upstream 401).
 */
public final class RouteTable {
  private final List<Route> byLongestPrefix;

  private RouteTable(List<Route> routes) {
    List<Route> sorted = new ArrayList<>(routes);
    sorted.sort(Comparator.comparingInt((Route r) -> r.prefix().length()).reversed());
    this.byLongestPrefix = List.copyOf(sorted);
  }

  /** Builds the table from validated routes, reading credentials from {@code env} and files. */
  public static RouteTable from(List<RouteConfig> configs, Map<String, String> env) {
    List<Route> routes = new ArrayList<>();
    for (RouteConfig c : configs) {
      routes.add(
          new Route(
              c.name(),
              c.prefix(),
              Route.UpstreamTarget.parse(c.upstream()),
              resolve(c.name(), c.credential(), env),
              c.rules(),
              c.kind()));
    }
    return new RouteTable(routes);
  }

  /** Builds a table from already-resolved routes (tests). */
  public static RouteTable of(List<Route> routes) {
    return new RouteTable(routes);
  }

  private static Route.InjectedCredential resolve(
      String route, Credential c, Map<String, String> env) {
    if (c == null) {
      return null;
    }
    String secret;
    if (c.fromEnv() != null) {
      secret = env.get(c.fromEnv());
      secret = secret == null ? null : secret.strip();
      if (secret == null || secret.isEmpty()) {
        throw new ConfigException(
            "route '"
                + route
                + "': credential.from_env names "
                + c.fromEnv()
                + ", which is not set; export it (or mount the secret and use from_file)");
      }
    } else {
      try {
        secret = Files.readString(c.fromFile()).strip();
      } catch (IOException e) {
        throw new ConfigException(
            "route '"
                + route
                + "': credential.from_file "
                + c.fromFile()
                + " cannot be read ("
                + e.getMessage()
                + "); mount the secret there",
            e);
      }
    }
    if (secret.isEmpty()) {
      throw new ConfigException("route '" + route + "': credential.from_file " + c.fromFile()
          + " is empty; mount the secret there");
    }
    if ((c.valuePrefix() + secret).chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
      throw new ConfigException("route '" + route + "': the credential or its value_prefix holds"
          + " control characters; store the secret as one line and use a plain prefix");
    }
    return new Route.InjectedCredential(
        c.header().toLowerCase(Locale.ROOT), c.valuePrefix() + secret, c.passSetCookie());
  }

  /**
   * The route for a canonical path, and the path to send upstream.
   *
   * @return the match, or null when no route's prefix covers the path
   */
  public Match match(String canonicalPath) {
    for (Route r : byLongestPrefix) {
      String p = r.prefix();
      if (canonicalPath.startsWith(p)
          && (canonicalPath.length() == p.length() || canonicalPath.charAt(p.length()) == '/')) {
        String rest = canonicalPath.substring(p.length());
        String upstreamPath = r.upstream().basePath() + rest;
        return new Match(r, upstreamPath.isEmpty() ? "/" : upstreamPath);
      }
    }
    return null;
  }

  /** All routes, longest prefix first. */
  public List<Route> routes() {
    return byLongestPrefix;
  }

  /**
   * A matched route.
   *
   * @param route the route
   * @param upstreamPath the canonical path to send upstream (base path + rest)
   */
  public record Match(Route route, String upstreamPath) {}
}
