package io.countersign.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.ProxyConfig.Limits;
import io.countersign.proxy.config.ProxyConfig.Policy;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.config.ProxyConfig.Upstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads and validates the sidecar's YAML configuration, once, at startup. Unknown keys are errors
 * (a typo must not silently fall back to a default). Relative paths are resolved against the
 * config file's folder. The reference is {@code docs/configuration.md}.
 */
public final class ConfigLoader {
  private static final ObjectMapper YAML =
      new ObjectMapper(
          YAMLFactory.builder()
              .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
              .build());

  private final Path file;

  private ConfigLoader(Path file) {
    this.file = file;
  }

  /**
   * Loads and validates a config file.
   *
   * @throws ConfigException naming the file, the key and the fix
   */
  public static ProxyConfig load(Path file) {
    return new ConfigLoader(file).read();
  }

  private ProxyConfig read() {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readString(file));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
      throw new ConfigException(
          file + ": " + e.getOriginalMessage() + where + "; fix the YAML (each key once)", e);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the config file: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw fail("(top level)", "must be a YAML mapping", "start from examples/countersign.yaml");
    }
    allowOnly(
        root, "", "agent_id", "listen", "limits", "policy", "ledger", "upstream", "routes",
        "approvals");
    String agentId = requiredText(root, "agent_id");
    JsonNode listen = object(root, "listen");
    allowOnly(listen, "listen.", "agent", "admin");
    InetSocketAddress agentListen = address(listen, "listen.agent", "127.0.0.1:8080");
    InetSocketAddress adminListen = address(listen, "listen.admin", "127.0.0.1:9090");
    return new ProxyConfig(
        agentId,
        agentListen,
        adminListen,
        limits(object(root, "limits")),
        policy(object(root, "policy")),
        ledger(object(root, "ledger")),
        upstream(object(root, "upstream")),
        routes(root.get("routes")),
        approvals(object(root, "approvals")),
        ledgerOptions(object(root, "ledger")));
  }

  private ProxyConfig.Approvals approvals(JsonNode n) {
    allowOnly(
        n,
        "approvals.",
        "approvers_file",
        "max_pending",
        "max_held_connections",
        "default_timeout",
        "public_url",
        "notify",
        "oidc");
    Path approvers = n.hasNonNull("approvers_file") ? path(n, "approvals.approvers_file", null) : null;
    if (approvers != null && !Files.isReadable(approvers)) {
      throw fail("approvals.approvers_file", "is " + approvers + ", not a readable file",
          "mount the approvers file (see docs/approvals.md)");
    }
    String publicUrl = text(n, "approvals.public_url", null);
    if (publicUrl != null) {
      uri("approvals.public_url", publicUrl);
    }
    JsonNode notify = object(n, "notify");
    allowOnly(notify, "approvals.notify.", "webhooks", "slack");
    return new ProxyConfig.Approvals(
        approvers,
        intIn(n, "approvals.max_pending", 100_000, 1, 10_000_000),
        intIn(n, "approvals.max_held_connections", 10_000, 1, 1_000_000),
        duration(n, "approvals.default_timeout", Duration.ofMinutes(30)),
        publicUrl,
        webhooks(notify.get("webhooks"), "approvals.notify.webhooks"),
        webhooks(notify.get("slack"), "approvals.notify.slack"),
        oidc(n.get("oidc")));
  }

  private ProxyConfig.Oidc oidc(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    allowOnly(n, "approvals.oidc.", "issuer", "audience", "jwks_url", "name_claim", "groups_claim");
    String jwks = requiredText(n, "approvals.oidc.jwks_url");
    URI u = uri("approvals.oidc.jwks_url", jwks);
    boolean loopbackHttp = "http".equals(u.getScheme())
        && ("127.0.0.1".equals(u.getHost()) || "localhost".equals(u.getHost()));
    if (!"https".equals(u.getScheme()) && !loopbackHttp) {
      throw fail("approvals.oidc.jwks_url", "is '" + jwks + "'",
          "use https (plain http only for a loopback IdP)");
    }
    return new ProxyConfig.Oidc(
        requiredText(n, "approvals.oidc.issuer"),
        requiredText(n, "approvals.oidc.audience"),
        jwks,
        text(n, "approvals.oidc.name_claim", "email"),
        text(n, "approvals.oidc.groups_claim", "groups"));
  }

  private List<ProxyConfig.Webhook> webhooks(JsonNode n, String key) {
    List<ProxyConfig.Webhook> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isArray()) {
      throw fail(key, "is not a list", "write a list of {url, secret_from_env}");
    }
    for (int i = 0; i < n.size(); i++) {
      String at = key + "[" + i + "].";
      allowOnly(n.get(i), at, "url", "secret_from_env");
      String url = requiredText(n.get(i), at + "url");
      URI u = uri(at + "url", url);
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
        throw fail(at + "url", "is '" + url + "'", "use an http(s) URL");
      }
      out.add(new ProxyConfig.Webhook(url, text(n.get(i), at + "secret_from_env", null)));
    }
    return out;
  }

  private Limits limits(JsonNode n) {
    allowOnly(
        n,
        "limits.",
        "max_initial_line_bytes",
        "max_header_bytes",
        "max_body_bytes",
        "request_timeout",
        "idle_timeout",
        "max_pipelined",
        "drain_timeout");
    return new Limits(
        intIn(n, "limits.max_initial_line_bytes", 8192, 256, 65536),
        intIn(n, "limits.max_header_bytes", 16384, 1024, 1 << 20),
        intIn(n, "limits.max_body_bytes", 1 << 20, 0, 64 << 20),
        duration(n, "limits.request_timeout", Duration.ofSeconds(30)),
        duration(n, "limits.idle_timeout", Duration.ofSeconds(60)),
        intIn(n, "limits.max_pipelined", 8, 1, 128),
        duration(n, "limits.drain_timeout", Duration.ofSeconds(20)));
  }

  private Policy policy(JsonNode n) {
    allowOnly(n, "policy.", "engine", "opa_url", "opa_binary", "rego_dir", "timeout", "cache",
        "watch", "shadow_rego_dir");
    String engineName = text(n, "policy.engine", "opa").toUpperCase(Locale.ROOT);
    Engine engine;
    try {
      engine = Engine.valueOf(engineName);
    } catch (IllegalArgumentException e) {
      throw fail("policy.engine", "is '" + n.path("engine").asText() + "'", "use opa or wasm");
    }
    String opaUrl = text(n, "policy.opa_url", null);
    if (opaUrl != null) {
      URI uri = uri("policy.opa_url", opaUrl);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw fail("policy.opa_url", "is '" + opaUrl + "'", "use an http(s) URL of an OPA server");
      }
    }
    Path regoDir = path(n, "policy.rego_dir", "rego");
    if (!Files.isDirectory(regoDir)) {
      throw fail("policy.rego_dir", "is " + regoDir + ", not a folder", "point it at the rego/ folder");
    }
    Path opaBinary = path(n, "policy.opa_binary", ".tools/bin/opa");
    boolean needsBinary = engine == Engine.WASM || opaUrl == null;
    if (needsBinary && !Files.isExecutable(opaBinary)) {
      throw fail(
          "policy.opa_binary",
          "is " + opaBinary + ", which is not an executable file",
          "run scripts/install-tools.sh opa, or set policy.opa_url to a running OPA server");
    }
    JsonNode cache = object(n, "cache");
    allowOnly(cache, "policy.cache.", "max_entries", "ttl");
    JsonNode watch = n.get("watch");
    if (watch != null && !watch.isBoolean()) {
      throw fail("policy.watch", "is not true or false", "write watch: true to reload on file changes");
    }
    Path shadow = n.hasNonNull("shadow_rego_dir") ? path(n, "policy.shadow_rego_dir", null) : null;
    if (shadow != null && opaUrl != null && engine == Engine.OPA) {
      throw fail("policy.shadow_rego_dir", "is set with an external opa_url, which would judge with"
          + " the enforced policy", "use engine wasm, or a managed OPA (no opa_url), for shadow mode");
    }
    if (shadow != null && !Files.isDirectory(shadow)) {
      throw fail("policy.shadow_rego_dir", "is " + shadow + ", not a folder",
          "point it at the candidate policy's folder, or remove it");
    }
    return new Policy(
        engine, opaUrl, opaBinary, regoDir, duration(n, "policy.timeout", Duration.ofMillis(500)),
        intIn(cache, "policy.cache.max_entries", 10_000, 0, 10_000_000),
        duration(cache, "policy.cache.ttl", Duration.ofMinutes(5)),
        watch != null && watch.asBoolean(),
        shadow);
  }

  private Path ledger(JsonNode n) {
    allowOnly(n, "ledger.", "dir", "roll", "hmac_key_file", "redact_headers", "retain_cycles",
        "min_free_bytes");
    return path(n, "ledger.dir", "ledger");
  }

  private io.countersign.ledger.LedgerOptions ledgerOptions(JsonNode n) {
    io.countersign.ledger.LedgerOptions o = io.countersign.ledger.LedgerOptions.defaults();
    String roll = text(n, "ledger.roll", null);
    if (roll != null) {
      try {
        o = o.withRollPeriod(io.countersign.ledger.RollPeriod.parse(roll));
      } catch (IllegalArgumentException e) {
        throw fail("ledger.roll", "is '" + roll + "'", e.getMessage());
      }
    }
    if (n.hasNonNull("hmac_key_file")) {
      Path key = path(n, "ledger.hmac_key_file", null);
      if (!Files.isReadable(key)) {
        throw fail("ledger.hmac_key_file", "is " + key + ", not a readable file", "mount the key");
      }
      o = o.withHmacKeyFile(key);
    }
    JsonNode headers = n.get("redact_headers");
    if (headers != null && !headers.isNull()) {
      if (!headers.isArray()) {
        throw fail("ledger.redact_headers", "is not a list", "list header names, e.g. [authorization]");
      }
      java.util.Set<String> names = new java.util.HashSet<>();
      headers.forEach(h -> names.add(h.asText().toLowerCase(Locale.ROOT)));
      o = o.withRedactHeaders(names);
    }
    o = o.withRetainCycles(intIn(n, "ledger.retain_cycles", 0, 0, 100_000));
    JsonNode floor = n.get("min_free_bytes");
    if (floor != null && !floor.isNull()) {
      if (!floor.canConvertToLong() || floor.asLong() < 0) {
        throw fail("ledger.min_free_bytes", "is not a non-negative whole number", "e.g. 1048576");
      }
      o = o.withMinFreeBytes(floor.asLong());
    }
    return o;
  }


  private Upstream upstream(JsonNode n) {
    allowOnly(
        n,
        "upstream.",
        "connect_timeout",
        "response_timeout",
        "max_response_bytes",
        "max_connections_per_event_loop",
        "ca_file");
    Path ca = n.hasNonNull("ca_file") ? path(n, "upstream.ca_file", null) : null;
    if (ca != null && !Files.isReadable(ca)) {
      throw fail("upstream.ca_file", "is " + ca + ", not a readable file", "mount the CA bundle");
    }
    return new Upstream(
        duration(n, "upstream.connect_timeout", Duration.ofSeconds(2)),
        duration(n, "upstream.response_timeout", Duration.ofSeconds(30)),
        intIn(n, "upstream.max_response_bytes", 8 << 20, 0, 256 << 20),
        intIn(n, "upstream.max_connections_per_event_loop", 64, 1, 4096),
        ca);
  }

  private List<RouteConfig> routes(JsonNode n) {
    if (n == null || !n.isArray() || n.isEmpty()) {
      throw fail("routes", "is missing or empty", "add at least one route {name, prefix, upstream}");
    }
    List<RouteConfig> routes = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> prefixes = new HashSet<>();
    for (int i = 0; i < n.size(); i++) {
      String at = "routes[" + i + "].";
      JsonNode r = n.get(i);
      if (!r.isObject()) {
        throw fail("routes[" + i + "]", "is not a mapping", "use {name, prefix, upstream}");
      }
      allowOnly(r, at, "name", "prefix", "upstream", "credential", "canonicalization");
      String name = requiredText(r, at + "name");
      if (!name.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
        throw fail(at + "name", "is '" + name + "'", "use lower-case letters, digits, - and _");
      }
      if (!names.add(name)) {
        throw fail(at + "name", "repeats '" + name + "'", "give each route its own name");
      }
      String prefix = requiredText(r, at + "prefix");
      if (!prefix.matches("(/[A-Za-z0-9._~-]+)+") || prefix.contains("/./") || prefix.endsWith("/.")
          || prefix.contains("/..")) {
        throw fail(
            at + "prefix", "is '" + prefix + "'", "use plain path segments, e.g. /crm or /api/v1");
      }
      if (prefix.startsWith("/.countersign")) {
        throw fail(at + "prefix", "is '" + prefix + "'", "/.countersign is reserved for tickets");
      }
      if (!prefixes.add(prefix)) {
        throw fail(at + "prefix", "repeats '" + prefix + "'", "give each route its own prefix");
      }
      String upstream = requiredText(r, at + "upstream");
      URI uri = uri(at + "upstream", upstream);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null
          || uri.getRawUserInfo() != null
          || uri.getPort() > 65535
          || !plainBasePath(uri.getRawPath())) {
        throw fail(
            at + "upstream",
            "is '" + upstream + "'",
            "use http(s)://host[:port][/base-path] with a port up to 65535, a canonical base path"
                + " (no dot-segments or empty segments), no query, fragment or user info");
      }
      routes.add(new RouteConfig(name, prefix, upstream, credential(r.get("credential"), at),
          requestRules(r.get("canonicalization"), at)));
    }
    return routes;
  }

  private static boolean plainBasePath(String rawPath) {
    if (rawPath == null || rawPath.isEmpty() || rawPath.equals("/")) {
      return true;
    }
    try {
      String trimmed = rawPath.endsWith("/") ? rawPath.substring(0, rawPath.length() - 1) : rawPath;
      return io.countersign.proxy.canonical.PathCanonicalizer.canonicalize(trimmed).equals(trimmed);
    } catch (io.countersign.proxy.canonical.RequestRejectedException e) {
      return false;
    }
  }

  /** A route's {@code canonicalization:} switches (docs/canonicalization.md); strict when absent. */
  private io.countersign.proxy.route.RequestRules requestRules(JsonNode n, String at) {
    if (n == null || n.isNull()) {
      return io.countersign.proxy.route.RequestRules.STRICT;
    }
    String key = at + "canonicalization.";
    if (!n.isObject()) {
      throw fail(at + "canonicalization", "is not a mapping",
          "write overrides, path_parameters, encoded_percent and opaque_bodies under it");
    }
    allowOnly(n, key, "overrides", "path_parameters", "encoded_percent", "opaque_bodies");
    String overrides = text(n, key + "overrides", "refuse");
    io.countersign.proxy.route.RequestRules.Overrides handling;
    switch (overrides) {
      case "refuse" -> handling = io.countersign.proxy.route.RequestRules.Overrides.REFUSE;
      case "strip" -> handling = io.countersign.proxy.route.RequestRules.Overrides.STRIP;
      default -> throw fail(key + "overrides", "is '" + overrides + "'", "use refuse or strip");
    }
    return new io.countersign.proxy.route.RequestRules(handling,
        bool(n, key + "path_parameters"), bool(n, key + "encoded_percent"),
        bool(n, key + "opaque_bodies"));
  }

  private boolean bool(JsonNode parent, String key) {
    JsonNode v = parent.get(leaf(key));
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw fail(key, "is not true or false", "write true or false");
    }
    return v.asBoolean();
  }

  private Credential credential(JsonNode n, String at) {
    if (n == null || n.isNull()) {
      return null;
    }
    String key = at + "credential.";
    allowOnly(n, key, "header", "value_prefix", "from_env", "from_file");
    String header = text(n, key + "header", "Authorization");
    if (!header.matches("[A-Za-z0-9-]+")) {
      throw fail(key + "header", "is '" + header + "'", "use a plain header name");
    }
    String fromEnv = text(n, key + "from_env", null);
    Path fromFile = n.hasNonNull("from_file") ? path(n, key + "from_file", null) : null;
    if ((fromEnv == null) == (fromFile == null)) {
      throw fail(key + "from_env/from_file", "must name exactly one source", "set one of them");
    }
    return new Credential(header, text(n, key + "value_prefix", ""), fromEnv, fromFile);
  }

  // ---- typed field readers; each names the key on failure ----

  private JsonNode object(JsonNode parent, String key) {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return YAML.createObjectNode();
    }
    if (!n.isObject()) {
      throw fail(key, "is not a mapping", "write it as a YAML mapping");
    }
    return n;
  }

  private void allowOnly(JsonNode n, String prefix, String... keys) {
    Set<String> allowed = Set.of(keys);
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw fail(prefix + k, "is not a known key", "remove it or use one of " + allowed);
      }
    }
  }

  private static String leaf(String key) {
    int dot = key.lastIndexOf('.');
    return dot < 0 ? key : key.substring(dot + 1);
  }

  private String requiredText(JsonNode parent, String key) {
    String v = text(parent, key, null);
    if (v == null || v.isBlank()) {
      throw fail(key, "is missing", "set it");
    }
    return v;
  }

  private String text(JsonNode parent, String key, String dflt) {
    JsonNode n = parent.get(leaf(key));
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isTextual()) {
      throw fail(key, "is not a string", "quote the value");
    }
    return n.asText();
  }

  private int intIn(JsonNode parent, String key, int dflt, int min, int max) {
    JsonNode n = parent.get(leaf(key));
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber()) {
      throw fail(key, "is not a whole number", "use a number from " + min + " to " + max);
    }
    int v = n.asInt();
    if (v < min || v > max) {
      throw fail(key, "is " + v, "use a number from " + min + " to " + max);
    }
    return v;
  }

  private Duration duration(JsonNode parent, String key, Duration dflt) {
    String v = text(parent, key, null);
    if (v == null) {
      return dflt;
    }
    try {
      Duration d = Duration.parse(v);
      if (d.isNegative() || d.isZero()) {
        throw fail(key, "is " + v, "use a positive ISO-8601 duration such as PT30S");
      }
      return d;
    } catch (DateTimeParseException e) {
      throw fail(key, "is '" + v + "'", "use an ISO-8601 duration such as PT30S or PT0.5S");
    }
  }

  private Path path(JsonNode parent, String key, String dflt) {
    String v = text(parent, key, dflt);
    Path base = file.toAbsolutePath().getParent();
    return base.resolve(v).normalize();
  }

  private InetSocketAddress address(JsonNode parent, String key, String dflt) {
    String v = text(parent, key, dflt);
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      throw fail(key, "is '" + v + "'", "use host:port, e.g. 127.0.0.1:8080");
    }
    try {
      int port = Integer.parseInt(v.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new InetSocketAddress(v.substring(0, colon), port);
    } catch (NumberFormatException e) {
      throw fail(key, "has port '" + v.substring(colon + 1) + "'", "use a port from 0 to 65535");
    }
  }

  private URI uri(String key, String v) {
    try {
      return new URI(v);
    } catch (URISyntaxException e) {
      throw fail(key, "is '" + v + "', not a URL (" + e.getReason() + ")", "fix the URL");
    }
  }

  private ConfigException fail(String key, String problem, String fix) {
    return new ConfigException(file + ": " + key + " " + problem + "; " + fix);
  }
}
