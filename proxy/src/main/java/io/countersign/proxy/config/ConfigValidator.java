package io.countersign.proxy.config;

import io.countersign.ledger.LedgerOptions;
import io.countersign.ledger.RollPeriod;
import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The rules the schema cannot say: durations are positive, ports fit, URLs parse and are of the
 * right kind, names and prefixes are unique, a credential has exactly one source, files named
 * exist, and what one key requires of another. Turns a checked {@link ConfigFile} into the {@link
 * ProxyConfig} the proxy runs with; relative paths are resolved against the config file's folder.
 */
final class ConfigValidator {
  /** A rule a key breaks. */
  static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient List<Object> path;
    final String problem;
    final String fix;

    Refusal(List<Object> path, String problem, String fix) {
      super(ConfigSchema.key(path) + " " + problem + "; " + fix, null, false, false);
      this.path = path;
      this.problem = problem;
      this.fix = fix;
    }
  }

  private final Path base;

  /** @param configFile the file being read (its folder anchors relative paths) */
  ConfigValidator(Path configFile) {
    this.base = configFile.toAbsolutePath().getParent();
  }

  ProxyConfig validate(ConfigFile f) {
    return new ProxyConfig(
        f.agentId().strip(),
        address(f.listen().agent(), "listen", "agent"),
        address(f.listen().admin(), "listen", "admin"),
        limits(f.limits()),
        policy(f.policy()),
        path(f.ledger().dir()),
        upstream(f.upstream()),
        routes(f.routes()),
        approvals(f.approvals()),
        ledger(f.ledger()));
  }

  private ProxyConfig.Limits limits(ConfigFile.Limits l) {
    return new ProxyConfig.Limits(l.maxInitialLineBytes(), l.maxHeaderBytes(), l.maxBodyBytes(),
        duration(l.requestTimeout(), "limits", "request_timeout"),
        duration(l.idleTimeout(), "limits", "idle_timeout"), l.maxPipelined(),
        duration(l.drainTimeout(), "limits", "drain_timeout"));
  }

  private ProxyConfig.Policy policy(ConfigFile.Policy p) {
    Engine engine = Engine.valueOf(p.engine().toUpperCase(Locale.ROOT));
    if (p.opaUrl() != null) {
      uri(p.opaUrl(), "policy", "opa_url");
    }
    Path regoDir = path(p.regoDir());
    if (!Files.isDirectory(regoDir)) {
      throw refuse("is " + regoDir + ", not a folder", "point it at the rego/ folder", "policy",
          "rego_dir");
    }
    Path opaBinary = path(p.opaBinary());
    boolean needsBinary = engine == Engine.WASM || p.opaUrl() == null;
    if (needsBinary && !Files.isExecutable(opaBinary)) {
      throw refuse("is " + opaBinary + ", which is not an executable file",
          "run scripts/install-tools.sh opa, or set policy.opa_url to a running OPA server", "policy",
          "opa_binary");
    }
    Path shadow = p.shadowRegoDir() == null ? null : path(p.shadowRegoDir());
    if (shadow != null && p.opaUrl() != null && engine == Engine.OPA) {
      throw refuse("is set with an external opa_url, which would judge with the enforced policy",
          "use engine wasm, or a managed OPA (no opa_url), for shadow mode", "policy",
          "shadow_rego_dir");
    }
    if (shadow != null && !Files.isDirectory(shadow)) {
      throw refuse("is " + shadow + ", not a folder",
          "point it at the candidate policy's folder, or remove it", "policy", "shadow_rego_dir");
    }
    return new ProxyConfig.Policy(engine, p.opaUrl(), opaBinary, regoDir,
        duration(p.timeout(), "policy", "timeout"), p.cache().maxEntries(),
        duration(p.cache().ttl(), "policy", "cache", "ttl"), p.watch(), shadow);
  }

  private LedgerOptions ledger(ConfigFile.Ledger l) {
    LedgerOptions o = LedgerOptions.defaults().withRollPeriod(RollPeriod.parse(l.roll()));
    if (l.hmacKeyFile() != null) {
      Path key = path(l.hmacKeyFile());
      if (!Files.isReadable(key)) {
        throw refuse("is " + key + ", not a readable file", "mount the key", "ledger", "hmac_key_file");
      }
      o = o.withHmacKeyFile(key);
    }
    if (l.redactHeaders() != null) {
      Set<String> names = new HashSet<>();
      l.redactHeaders().forEach(h -> names.add(h.toLowerCase(Locale.ROOT)));
      o = o.withRedactHeaders(names);
    }
    return o.withRetainCycles(l.retainCycles()).withMinFreeBytes(l.minFreeBytes());
  }

  private ProxyConfig.Upstream upstream(ConfigFile.Upstream u) {
    Path ca = u.caFile() == null ? null : path(u.caFile());
    if (ca != null && !Files.isReadable(ca)) {
      throw refuse("is " + ca + ", not a readable file", "mount the CA bundle", "upstream", "ca_file");
    }
    return new ProxyConfig.Upstream(duration(u.connectTimeout(), "upstream", "connect_timeout"),
        duration(u.responseTimeout(), "upstream", "response_timeout"), u.maxResponseBytes(),
        u.maxConnectionsPerEventLoop(), ca, streaming(u.streaming()));
  }

  private ProxyConfig.Streaming streaming(ConfigFile.Streaming s) {
    Duration idle = duration(s.idleTimeout(), "upstream", "streaming", "idle_timeout");
    if (idle.isZero() || idle.isNegative()) {
      throw refuse("is " + s.idleTimeout() + ", not a positive duration", "use e.g. PT5M",
          "upstream", "streaming", "idle_timeout");
    }
    return new ProxyConfig.Streaming(idle, s.maxBytes(), s.recordBytes(), s.recordEvents());
  }

  private List<RouteConfig> routes(List<ConfigFile.Route> routes) {
    List<RouteConfig> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> prefixes = new HashSet<>();
    for (int i = 0; i < routes.size(); i++) {
      ConfigFile.Route r = routes.get(i);
      if (!names.add(r.name())) {
        throw refuse("repeats '" + r.name() + "'", "give each route its own name", "routes", i, "name");
      }
      String prefix = r.prefix();
      if (prefix.contains("/./") || prefix.endsWith("/.") || prefix.contains("/..")) {
        throw refuse("is '" + prefix + "'", "use plain path segments, e.g. /crm or /api/v1", "routes", i,
            "prefix");
      }
      if (prefix.startsWith("/.countersign")) {
        throw refuse("is '" + prefix + "'", "/.countersign is reserved for tickets", "routes", i, "prefix");
      }
      if (!prefixes.add(prefix)) {
        throw refuse("repeats '" + prefix + "'", "give each route its own prefix", "routes", i, "prefix");
      }
      upstreamUrl(r.upstream(), i);
      out.add(new RouteConfig(r.name(), prefix, r.upstream(), credential(r.credential(), i),
          rules(r.canonicalization()), RouteKind.fromConfig(r.kind())));
    }
    return out;
  }

  private void upstreamUrl(String upstream, int i) {
    URI uri = uri(upstream, "routes", i, "upstream");
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
        || uri.getHost() == null
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null
        || uri.getRawUserInfo() != null
        || uri.getPort() > 65535
        || !plainBasePath(uri.getRawPath())) {
      throw refuse("is '" + upstream + "'", "use http(s)://host[:port][/base-path] with a port up to"
          + " 65535, a canonical base path (no dot-segments or empty segments), no query, fragment or"
          + " user info", "routes", i, "upstream");
    }
  }

  /**
   * Whether a base path is plain segments (the rule of route prefixes): nothing that two path
   * decoders could read differently, since the proxy prepends it to what the policy judged.
   */
  private static boolean plainBasePath(String rawPath) {
    if (rawPath == null || rawPath.isEmpty() || rawPath.equals("/")) {
      return true;
    }
    String trimmed = rawPath.endsWith("/") ? rawPath.substring(0, rawPath.length() - 1) : rawPath;
    if (!trimmed.matches("(/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+")) {
      return false;
    }
    for (String segment : trimmed.substring(1).split("/")) {
      if (segment.equals(".") || segment.equals("..")) {
        return false;
      }
    }
    return true;
  }

  private static RequestRules rules(ConfigFile.Canonicalization c) {
    if (c == null) {
      return RequestRules.STRICT;
    }
    return new RequestRules("strip".equals(c.overrides()) ? RequestRules.Overrides.STRIP
        : RequestRules.Overrides.REFUSE, c.pathParameters(), c.encodedPercent(), c.opaqueBodies(),
        c.caseSensitiveNames());
  }

  private Credential credential(ConfigFile.Credential c, int i) {
    if (c == null) {
      return null;
    }
    if ((c.fromEnv() == null) == (c.fromFile() == null)) {
      throw refuse("must name exactly one source", "set one of them", "routes", i, "credential",
          "from_env/from_file");
    }
    return new Credential(c.header(), c.valuePrefix(), c.fromEnv(),
        c.fromFile() == null ? null : path(c.fromFile()), c.passSetCookie());
  }

  private ProxyConfig.Approvals approvals(ConfigFile.Approvals a) {
    Path approvers = a.approversFile() == null ? null : path(a.approversFile());
    if (approvers != null && !Files.isReadable(approvers)) {
      throw refuse("is " + approvers + ", not a readable file",
          "mount the approvers file (see docs/approvals.md)", "approvals", "approvers_file");
    }
    if (a.publicUrl() != null) {
      uri(a.publicUrl(), "approvals", "public_url");
    }
    return new ProxyConfig.Approvals(approvers, a.maxPending(), a.maxHeldConnections(),
        duration(a.defaultTimeout(), "approvals", "default_timeout"), a.publicUrl(),
        webhooks(a.notifications().webhooks(), "webhooks"),
        webhooks(a.notifications().slack(), "slack"),
        oidc(a.oidc()), a.maxHeldBytes(), Math.min(a.maxHeldBytes(), a.maxHeldBytesPerWorkflow()),
        a.agentActsFor().stream().map(String::strip).toList());
  }

  private List<ProxyConfig.Webhook> webhooks(List<ConfigFile.Webhook> hooks, String kind) {
    List<ProxyConfig.Webhook> out = new ArrayList<>();
    for (int i = 0; i < hooks.size(); i++) {
      ConfigFile.Webhook w = hooks.get(i);
      uri(w.url(), "approvals", "notify", kind, i, "url");
      out.add(new ProxyConfig.Webhook(w.url(), w.secretFromEnv()));
    }
    return out;
  }

  private ProxyConfig.Oidc oidc(ConfigFile.Oidc o) {
    if (o == null) {
      return null;
    }
    URI u = uri(o.jwksUrl(), "approvals", "oidc", "jwks_url");
    boolean loopbackHttp = "http".equals(u.getScheme())
        && ("127.0.0.1".equals(u.getHost()) || "localhost".equals(u.getHost()));
    if (!"https".equals(u.getScheme()) && !loopbackHttp) {
      throw refuse("is '" + o.jwksUrl() + "'", "use https (plain http only for a loopback IdP)",
          "approvals", "oidc", "jwks_url");
    }
    return new ProxyConfig.Oidc(o.issuer(), o.audience(), o.jwksUrl(), o.nameClaim(), o.groupsClaim());
  }

  // ---- values ----

  private Duration duration(String v, Object... path) {
    try {
      Duration d = Duration.parse(v);
      if (d.isNegative() || d.isZero()) {
        throw refuse("is " + v, "use a positive ISO-8601 duration such as PT30S", path);
      }
      return d;
    } catch (DateTimeParseException e) {
      throw refuse("is '" + v + "'", "use an ISO-8601 duration such as PT30S or PT0.5S", path);
    }
  }

  private InetSocketAddress address(String v, Object... path) {
    int colon = v.lastIndexOf(':');
    String port = v.substring(colon + 1);
    int p = Integer.parseInt(port); // the schema allows digits only
    if (p > 65535) {
      throw refuse("has port '" + port + "'", "use a port from 0 to 65535", path);
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, p);
  }

  private URI uri(String v, Object... path) {
    try {
      return new URI(v);
    } catch (URISyntaxException e) {
      throw refuse("is '" + v + "', not a URL (" + e.getReason() + ")", "fix the URL", path);
    }
  }

  private Path path(String v) {
    return base.resolve(v).normalize();
  }

  private static Refusal refuse(String problem, String fix, Object... path) {
    return new Refusal(List.of(path), problem, fix);
  }
}
