package io.countersign.proxy.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The validated configuration of one sidecar. Built only by {@link ConfigLoader}, which checks every
 * value once at startup; everything downstream may trust it.
 *
 * @param agentId the id of the agent this sidecar serves (the agent cannot change it)
 * @param agentListen where the agent port listens
 * @param adminListen where the admin port listens (approvals API, health); never agent-facing
 * @param limits request parsing limits
 * @param policy which policy engine judges requests
 * @param ledgerDir the Chronicle Queue directory of the ledger
 * @param upstream upstream client settings
 * @param routes the routes, each a path prefix mapped to an upstream
 * @param approvals who may approve held requests, bounds, and notification targets
 * @param ledger how the ledger is written (roll period, HMAC, redaction, retention, free-space floor)
 */
public record ProxyConfig(
    String agentId,
    InetSocketAddress agentListen,
    InetSocketAddress adminListen,
    Limits limits,
    Policy policy,
    Path ledgerDir,
    Upstream upstream,
    List<RouteConfig> routes,
    Approvals approvals,
    io.countersign.ledger.LedgerOptions ledger) {

  /** With the ledger's default options. */
  public ProxyConfig(String agentId, InetSocketAddress agentListen, InetSocketAddress adminListen,
      Limits limits, Policy policy, Path ledgerDir, Upstream upstream, List<RouteConfig> routes,
      Approvals approvals) {
    this(agentId, agentListen, adminListen, limits, policy, ledgerDir, upstream, routes, approvals,
        io.countersign.ledger.LedgerOptions.defaults());
  }

  /**
   * Approval settings.
   *
   * @param approversFile the approvers (names, groups, SHA-256 of their tokens), or null for none
   * @param maxPending the most async holds pending at once; beyond it holds answer 429
   * @param maxHeldConnections the most sync holds waiting at once; beyond it holds answer 503
   * @param defaultTimeout how long a hold waits when the decision names no timeout
   * @param publicUrl the admin port's URL as approvers reach it, for links in notifications
   * @param webhooks generic JSON webhooks notified when a hold opens
   * @param slack Slack incoming webhooks notified when a hold opens
   * @param oidc OIDC approvers (JWTs checked against a JWKS), or null for static tokens only
   * @param maxHeldBytes bytes of held bodies at once, in total; beyond it holds answer 429
   * @param maxHeldBytesPerWorkflow bytes of held bodies of one workflow at once
   * @param agentActsFor the people this sidecar's agent acts for: none of them may approve its
   *     holds, whether or not a request names them
   */
  public record Approvals(
      Path approversFile,
      int maxPending,
      int maxHeldConnections,
      Duration defaultTimeout,
      String publicUrl,
      List<Webhook> webhooks,
      List<Webhook> slack,
      Oidc oidc,
      long maxHeldBytes,
      long maxHeldBytesPerWorkflow,
      List<String> agentActsFor) {

    /** The default byte bounds: 256 MiB in total, 64 MiB per workflow. */
    public static final long DEFAULT_MAX_HELD_BYTES = 256L << 20;

    /** See {@link #DEFAULT_MAX_HELD_BYTES}. */
    public static final long DEFAULT_MAX_HELD_BYTES_PER_WORKFLOW = 64L << 20;

    /** Copies the list. */
    public Approvals {
      agentActsFor = agentActsFor == null ? List.of() : List.copyOf(agentActsFor);
    }

    /** With the default byte bounds and no one named the agent acts for. */
    public Approvals(Path approversFile, int maxPending, int maxHeldConnections,
        Duration defaultTimeout, String publicUrl, List<Webhook> webhooks, List<Webhook> slack,
        Oidc oidc) {
      this(approversFile, maxPending, maxHeldConnections, defaultTimeout, publicUrl, webhooks, slack,
          oidc, DEFAULT_MAX_HELD_BYTES, DEFAULT_MAX_HELD_BYTES_PER_WORKFLOW, List.of());
    }
  }

  /**
   * OIDC approvers.
   *
   * @param issuer the exact issuer ({@code iss})
   * @param audience the audience that must be in {@code aud}
   * @param jwksUrl the IdP's signing keys
   * @param nameClaim the claim naming the approver
   * @param groupsClaim the claim listing the approver's groups
   */
  public record Oidc(String issuer, String audience, String jwksUrl, String nameClaim,
      String groupsClaim) {}

  /**
   * A notification target.
   *
   * @param url where to POST
   * @param secretFromEnv the environment variable holding the HMAC-SHA256 key, or null (unsigned)
   */
  public record Webhook(String url, String secretFromEnv) {}

  /**
   * Limits on what the agent port accepts.
   *
   * @param maxInitialLineBytes longest request line
   * @param maxHeaderBytes largest header block
   * @param maxBodyBytes largest request body
   * @param requestTimeout time to receive one whole request once it started
   * @param idleTimeout an idle keep-alive connection is closed after this
   * @param maxPipelined requests the agent may send before earlier ones are answered
   * @param drainTimeout on shutdown, how long exchanges in flight may take to finish
   */
  public record Limits(
      int maxInitialLineBytes,
      int maxHeaderBytes,
      int maxBodyBytes,
      Duration requestTimeout,
      Duration idleTimeout,
      int maxPipelined,
      Duration drainTimeout) {}

  /** The policy engines the proxy can use. */
  public enum Engine {
    /** An OPA server over REST: the configured URL, or a managed child process. */
    OPA,
    /** In-process WebAssembly compiled from the Rego by {@code opa build -t wasm}. */
    WASM
  }

  /**
   * Policy settings.
   *
   * @param engine which engine
   * @param opaUrl an external OPA server, or null to start a managed one
   * @param opaBinary the OPA binary (managed OPA and wasm builds)
   * @param regoDir the policy directory
   * @param timeout how long a decision may take before the proxy fails closed
   * @param cacheMaxEntries decisions cached (only those the policy marks cacheable); 0 = no cache;
   *     10,000 when the config file does not say
   * @param cacheTtl how long a cached decision may be reused
   * @param watch reload when a file under {@code regoDir} changes
   * @param shadowRegoDir a candidate policy evaluated beside the enforced one, never enforced; or
   *     null
   */
  public record Policy(
      Engine engine,
      String opaUrl,
      Path opaBinary,
      Path regoDir,
      Duration timeout,
      int cacheMaxEntries,
      Duration cacheTtl,
      boolean watch,
      Path shadowRegoDir) {

    /** Without cache, watching or shadow. */
    public Policy(Engine engine, String opaUrl, Path opaBinary, Path regoDir, Duration timeout) {
      this(engine, opaUrl, opaBinary, regoDir, timeout, 0, Duration.ofMinutes(5), false, null);
    }
  }

  /**
   * Upstream client settings.
   *
   * @param connectTimeout TCP (and TLS) connect deadline
   * @param responseTimeout deadline for the whole response after the request was sent
   * @param maxResponseBytes largest response body accepted
   * @param maxConnectionsPerEventLoop pooled connections per upstream per event loop
   * @param caFile the CA certificates (PEM) trusted for https upstreams instead of the JDK's trust
   *     store, or null for the JDK's
   * @param streaming how answers without Content-Length (and event streams) are streamed
   */
  public record Upstream(
      Duration connectTimeout,
      Duration responseTimeout,
      int maxResponseBytes,
      int maxConnectionsPerEventLoop,
      Path caFile,
      Streaming streaming) {

    /** With the default streaming settings. */
    public Upstream(Duration connectTimeout, Duration responseTimeout, int maxResponseBytes,
        int maxConnectionsPerEventLoop, Path caFile) {
      this(connectTimeout, responseTimeout, maxResponseBytes, maxConnectionsPerEventLoop, caFile,
          Streaming.DEFAULT);
    }
  }

  /**
   * Streamed answers ({@code upstream.streaming}).
   *
   * @param idleTimeout the longest the upstream may send nothing, or the agent read nothing,
   *     before a stream is cut
   * @param maxBytes the most body bytes of one stream, or 0 for no limit
   * @param recordBytes the first bytes of a streamed body the ledger keeps
   * @param recordEvents the first server-sent events of an event stream the ledger keeps
   */
  public record Streaming(Duration idleTimeout, long maxBytes, int recordBytes, int recordEvents) {
    /** Five minutes idle, no size limit, 64 KiB and 100 events recorded. */
    public static final Streaming DEFAULT = new Streaming(Duration.ofMinutes(5), 0, 64 * 1024, 100);
  }

  /**
   * One route.
   *
   * @param name the route's name, as the policy sees it
   * @param prefix the path prefix, e.g. {@code /crm}
   * @param upstream the upstream base URL, e.g. {@code https://api.example.com/base}
   * @param credential the credential injected into every forwarded request, or null
   * @param rules how strictly requests are read ({@code canonicalization:}); never null
   * @param kind what the upstream speaks ({@code kind:}); never null
   */
  public record RouteConfig(String name, String prefix, String upstream, Credential credential,
      io.countersign.proxy.config.RequestRules rules, RouteKind kind) {

    /** Fills in {@link RouteKind#HTTP} when no kind is given. */
    public RouteConfig {
      kind = kind == null ? RouteKind.HTTP : kind;
    }

    /** A plain HTTP route with {@code rules}. */
    public RouteConfig(String name, String prefix, String upstream, Credential credential,
        io.countersign.proxy.config.RequestRules rules) {
      this(name, prefix, upstream, credential, rules, RouteKind.HTTP);
    }

    /** A plain HTTP route with the strict default rules. */
    public RouteConfig(String name, String prefix, String upstream, Credential credential) {
      this(name, prefix, upstream, credential, io.countersign.proxy.config.RequestRules.STRICT);
    }
  }

  /**
   * A credential the proxy injects; the agent never sees it.
   *
   * @param header the header to set, e.g. {@code Authorization}
   * @param valuePrefix text before the secret, e.g. {@code "Bearer "}
   * @param fromEnv the environment variable holding the secret, or null
   * @param fromFile the file holding the secret (e.g. a mounted Kubernetes secret), or null
   * @param passSetCookie whether the upstream's Set-Cookie reaches the agent (dropped by default:
   *     a session minted for the credential is as good as the credential)
   */
  public record Credential(String header, String valuePrefix, String fromEnv, Path fromFile,
      boolean passSetCookie) {
    /** A credential whose answers lose their cookies (the default). */
    public Credential(String header, String valuePrefix, String fromEnv, Path fromFile) {
      this(header, valuePrefix, fromEnv, fromFile, false);
    }
  }
}
