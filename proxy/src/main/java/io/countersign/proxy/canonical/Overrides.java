package io.countersign.proxy.canonical;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Headers and parameters that change what the upstream does, as frameworks and the proxies in
 * front of them read them: the policy would judge one request and the application run another.
 * Each family says what it changes; {@code docs/canonicalization.md} lists every name with its
 * source. A route refuses them (the default) or strips them ({@code canonicalization.overrides}).
 *
 * <p>Header names are looked up after lower-casing and reading {@code _} as {@code -}, because
 * CGI-style servers (PHP, WSGI, Rack) map both spellings to the same variable ({@code
 * HTTP_X_HTTP_METHOD_OVERRIDE}). Thread-safe: immutable tables, set lookups only.
 */
final class Overrides {

  /** What a family of overrides changes. */
  enum Family {
    METHOD("changes the method the application runs (the policy judges the request line's)"),
    URL("changes the path the application routes (the policy judges the request target's)"),
    HOST("changes the host or base the application believes it serves"),
    POSITION("claims a client address, scheme or port on the proxy's behalf"),
    IDENTITY("asserts an authenticated user, as an authenticating proxy in front of the"
        + " application would"),
    INTERNAL("marks the request as an internal one, which the framework then lets skip its own"
        + " checks"),
    CONTENT("replaces the body or its type with one the policy never saw");

    private final String effect;

    Family(String effect) {
      this.effect = effect;
    }

    /** What it changes, for error messages. */
    String effect() {
      return effect;
    }
  }

  private static final Map<String, Family> HEADERS = new HashMap<>();
  /** Prefixes whose every header belongs to a family; checked only for names that start with x- or cf-. */
  private static final List<Map.Entry<String, Family>> HEADER_PREFIXES =
      List.of(
          Map.entry("x-forwarded-", Family.POSITION),
          Map.entry("x-auth-request-", Family.IDENTITY),
          Map.entry("x-ms-client-principal", Family.IDENTITY),
          Map.entry("x-ms-token-", Family.IDENTITY),
          Map.entry("x-goog-authenticated-user-", Family.IDENTITY),
          Map.entry("x-amzn-oidc-", Family.IDENTITY),
          Map.entry("x-consumer-", Family.IDENTITY),
          Map.entry("x-envoy-", Family.INTERNAL));

  private static final Map<String, Family> PARAMETERS =
      Map.of(
          "_method", Family.METHOD,
          "_httpmethod", Family.METHOD,
          "_method_override", Family.METHOD,
          "x-http-method-override", Family.METHOD,
          "x-http-method", Family.METHOD,
          "x-method-override", Family.METHOD,
          "_content_type", Family.CONTENT,
          "_content", Family.CONTENT);

  static {
    add(Family.METHOD, "x-http-method-override", "x-http-method", "x-method-override",
        "x-original-method");
    add(Family.URL, "x-override-url", "x-override-uri", "x-original-url", "x-rewrite-url",
        "x-original-uri", "x-envoy-original-path",
        "x-envoy-original-url", "x-request-uri", "x-request-url", "x-rewrite-path", "x-real-url",
        "x-real-uri", "x-script-name");
    add(Family.HOST, "x-host", "x-http-host-override", "x-original-host", "x-real-host");
    add(Family.POSITION, "forwarded", "x-forwarded", "forwarded-for", "x-real-ip", "via",
        "x-client-ip", "true-client-ip", "x-cluster-client-ip", "cf-connecting-ip",
        "fastly-client-ip", "x-originating-ip", "x-remote-ip", "x-remote-addr", "client-ip",
        "x-original-forwarded-for", "x-scheme", "x-url-scheme", "front-end-https");
    add(Family.IDENTITY, "remote-user", "x-remote-user", "x-user", "x-email", "x-webauth-user",
        "x-authenticated-user", "x-authenticated-userid", "x-credential-identifier", "x-userinfo",
        "x-goog-iap-jwt-assertion", "cf-access-jwt-assertion",
        "cf-access-authenticated-user-email");
    add(Family.INTERNAL, "x-middleware-subrequest");
  }

  private static void add(Family family, String... names) {
    for (String n : names) {
      HEADERS.put(n, family);
    }
  }

  private Overrides() {}

  /**
   * The family of a header, or null.
   *
   * @param lookupName the lower-case name with {@code _} read as {@code -}
   */
  static Family header(String lookupName) {
    Family f = HEADERS.get(lookupName);
    if (f != null || !(lookupName.startsWith("x-") || lookupName.startsWith("cf-"))) {
      return f;
    }
    for (Map.Entry<String, Family> p : HEADER_PREFIXES) {
      if (lookupName.startsWith(p.getKey())) {
        return p.getValue();
      }
    }
    return null;
  }

  /**
   * The family of a query, form or multipart parameter, or null.
   *
   * @param name the decoded parameter name; only its part before any '[' counts, in any case
   */
  static Family parameter(String name) {
    int bracket = name.indexOf('[');
    String base = bracket < 0 ? name : name.substring(0, bracket);
    if (base.length() < 5 || base.length() > 22) {
      return null; // cheaper than lower-casing every name: no listed name is shorter or longer
    }
    return PARAMETERS.get(base.toLowerCase(Locale.ROOT));
  }

  /** Every listed header name, for the docs test. */
  static Set<String> headerNames() {
    return HEADERS.keySet();
  }

  /** The refusal for an override header. */
  static RequestRejectedException refusedHeader(String sentName, Family family) {
    return new RequestRejectedException(400, "override_header", "the header " + sentName + " "
        + family.effect() + "; this route refuses such headers (canonicalization.overrides:"
        + " refuse): send the request you mean instead, or strip them on this route");
  }

  /** The refusal for an override parameter. */
  static RequestRejectedException refusedParameter(String where, String name, Family family) {
    return new RequestRejectedException(400, "override_parameter", "the " + where + " parameter "
        + name + " " + family.effect() + "; this route refuses such parameters"
        + " (canonicalization.overrides: refuse): send the request you mean instead");
  }
}
