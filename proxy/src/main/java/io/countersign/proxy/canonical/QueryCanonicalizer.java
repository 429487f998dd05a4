package io.countersign.proxy.canonical;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Canonicalizes a query string. Parameters keep their order (an upstream may care); each name and
 * value is decoded strictly and re-encoded by one rule. A raw '+' means a space (as in HTML forms,
 * which is how most APIs read queries); the canonical form writes a space as %20 and a plus as %2B,
 * the two spellings every upstream decodes alike, so the value the policy sees is the value the
 * upstream reads.
 */
public final class QueryCanonicalizer {
  private QueryCanonicalizer() {}

  /**
   * A canonical query.
   *
   * @param canonical the query string to forward (without '?'), or null when there is none
   * @param params decoded parameters, values in request order per name
   */
  public record CanonicalQuery(String canonical, Map<String, List<String>> params) {}

  private static final CanonicalQuery NONE = new CanonicalQuery(null, Map.of());

  /**
   * Parses and canonicalizes.
   *
   * @param rawQuery the raw query (after '?'), or null
   * @throws RequestRejectedException (400) on malformed encoding
   */
  public static CanonicalQuery canonicalize(String rawQuery) throws RequestRejectedException {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return NONE;
    }
    if (rawQuery.indexOf('#') >= 0) {
      throw new RequestRejectedException(
          400, "bad_request_target", "the request target holds a fragment ('#')");
    }
    StringBuilder canonical = new StringBuilder(rawQuery.length());
    Map<String, List<String>> params = new LinkedHashMap<>();
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue; // "a=1&&b=2": empty pairs carry nothing and are dropped
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq), "a query parameter name");
      String value = eq < 0 ? null : decode(pair.substring(eq + 1), "a query parameter value");
      if (canonical.length() > 0) {
        canonical.append('&');
      }
      canonical.append(encode(name));
      if (value != null) {
        canonical.append('=').append(encode(value));
      }
      params.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value == null ? "" : value);
    }
    if (canonical.length() == 0) {
      return NONE;
    }
    params.replaceAll((k, v) -> Collections.unmodifiableList(v));
    return new CanonicalQuery(canonical.toString(), Collections.unmodifiableMap(params));
  }

  /**
   * Refuses or strips the query parameters that change what the upstream does ({@code _method},
   * Salesforce's {@code _HttpMethod}, ...; see {@link Overrides}), by the route's rule.
   *
   * @param stripped collects the names of parameters removed
   * @return {@code query} itself when it holds none (the common case), else the query without them
   * @throws RequestRejectedException 400 {@code override_parameter} when the route refuses them
   */
  static CanonicalQuery applyOverrides(CanonicalQuery query, io.countersign.proxy.config.RequestRules rules,
      List<String> stripped) throws RequestRejectedException {
    String found = null;
    for (String name : query.params().keySet()) {
      Overrides.Family family = Overrides.parameter(name);
      if (family != null) {
        if (rules.overrides() == io.countersign.proxy.config.RequestRules.Overrides.REFUSE) {
          throw Overrides.refusedParameter("query", name, family);
        }
        found = name;
      }
    }
    if (found == null) {
      return query;
    }
    StringBuilder canonical = new StringBuilder();
    Map<String, List<String>> params = new LinkedHashMap<>();
    for (String pair : query.canonical().split("&")) {
      int eq = pair.indexOf('=');
      String name = PercentCodec.decode(eq < 0 ? pair : pair.substring(0, eq), "a query parameter name");
      if (Overrides.parameter(name) != null) {
        stripped.add("query:" + name);
        continue;
      }
      if (canonical.length() > 0) {
        canonical.append('&');
      }
      canonical.append(pair);
      params.put(name, query.params().get(name));
    }
    return canonical.length() == 0 ? NONE
        : new CanonicalQuery(canonical.toString(), Collections.unmodifiableMap(params));
  }

  private static String decode(String raw, String what) throws RequestRejectedException {
    String s = PercentCodec.decode(raw.replace("+", "%20"), what);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new RequestRejectedException(
            400, "query_control_character", what + " holds a control character");
      }
    }
    return s;
  }

  private static String encode(String decoded) {
    return PercentCodec.encode(decoded, PercentCodec.QUERY_LITERAL);
  }
}
