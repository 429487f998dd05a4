package io.countersign.proxy.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The configuration file as written, bound by Jackson once the schema has checked it and filled its
 * defaults: one record per section, one component per key (snake_case in the file). Values are as
 * the file has them (durations and paths as text); {@link ConfigValidator} turns them into a
 * {@link ProxyConfig}. {@code ConfigSchemaTest} checks these records and the schema name the same
 * keys.
 *
 * @param agentId {@code agent_id}
 * @param listen {@code listen}
 * @param limits {@code limits}
 * @param policy {@code policy}
 * @param ledger {@code ledger}
 * @param upstream {@code upstream}
 * @param routes {@code routes}
 * @param approvals {@code approvals}
 */
record ConfigFile(
    String agentId,
    Listen listen,
    Limits limits,
    Policy policy,
    Ledger ledger,
    Upstream upstream,
    List<Route> routes,
    Approvals approvals) {

  /**
   * {@code listen}.
   *
   * @param agent the agent port's host:port
   * @param admin the admin port's host:port
   */
  record Listen(String agent, String admin) {}

  /**
   * {@code limits}.
   *
   * @param maxInitialLineBytes longest request line
   * @param maxHeaderBytes largest header block
   * @param maxBodyBytes largest request body
   * @param requestTimeout time to receive one request
   * @param idleTimeout idle keep-alive connections close after this
   * @param maxPipelined requests ahead of their answers
   * @param drainTimeout how long shutdown waits for exchanges in flight
   */
  record Limits(
      int maxInitialLineBytes,
      int maxHeaderBytes,
      int maxBodyBytes,
      String requestTimeout,
      String idleTimeout,
      int maxPipelined,
      String drainTimeout) {}

  /**
   * {@code policy}.
   *
   * @param engine opa or wasm
   * @param opaUrl an external OPA, or null
   * @param opaBinary the OPA binary
   * @param regoDir the policy folder
   * @param timeout how long a decision may take
   * @param cache the decision cache
   * @param watch reload on file changes
   * @param shadowRegoDir a candidate policy, or null
   */
  record Policy(
      String engine,
      String opaUrl,
      String opaBinary,
      String regoDir,
      String timeout,
      Cache cache,
      boolean watch,
      String shadowRegoDir) {}

  /**
   * {@code policy.cache}.
   *
   * @param maxEntries decisions kept (0: off)
   * @param ttl how long one is reused
   */
  record Cache(int maxEntries, String ttl) {}

  /**
   * {@code ledger}.
   *
   * @param dir the journal's folder
   * @param roll hourly, daily or weekly
   * @param hmacKeyFile the chain's HMAC key file, or null
   * @param redactHeaders header names never written, or null for the default list
   * @param retainCycles roll cycles kept (0: all)
   * @param minFreeBytes the free-space floor
   */
  record Ledger(
      String dir,
      String roll,
      String hmacKeyFile,
      List<String> redactHeaders,
      int retainCycles,
      long minFreeBytes) {}

  /**
   * {@code upstream}.
   *
   * @param connectTimeout connect deadline
   * @param responseTimeout response deadline
   * @param maxResponseBytes largest response body
   * @param maxConnectionsPerEventLoop pooled connections per upstream per loop
   * @param caFile trusted CAs, or null for the JDK's
   * @param streaming streamed answers
   */
  record Upstream(
      String connectTimeout,
      String responseTimeout,
      int maxResponseBytes,
      int maxConnectionsPerEventLoop,
      String caFile,
      Streaming streaming) {}

  /**
   * {@code upstream.streaming}.
   *
   * @param idleTimeout the longest silence of a stream (upstream or agent)
   * @param maxBytes the most bytes of one stream, 0 for no limit
   * @param recordBytes the first bytes of a streamed body the ledger keeps
   * @param recordEvents the first events of an event stream the ledger keeps
   */
  record Streaming(String idleTimeout, long maxBytes, int recordBytes, int recordEvents) {}

  /**
   * {@code routes[]}.
   *
   * @param name the route's name
   * @param prefix the agent-side path prefix
   * @param upstream the upstream base URL
   * @param credential the injected credential, or null
   * @param canonicalization how strictly the route reads requests, or null (strict)
   * @param kind what the upstream speaks: {@code http} or {@code mcp} (the schema's default fills
   *     in {@code http})
   */
  record Route(String name, String prefix, String upstream, Credential credential,
      Canonicalization canonicalization, String kind) {}

  /**
   * {@code routes[].canonicalization}.
   *
   * @param overrides refuse or strip
   * @param pathParameters allow {@code ;} in paths
   * @param encodedPercent allow {@code %25} in paths
   * @param opaqueBodies forward unreadable bodies as opaque
   * @param caseSensitiveNames the upstream tells names apart by case
   */
  record Canonicalization(String overrides, boolean pathParameters, boolean encodedPercent,
      boolean opaqueBodies, boolean caseSensitiveNames) {}

  /**
   * {@code routes[].credential}.
   *
   * @param header the header to set
   * @param valuePrefix text before the secret
   * @param fromEnv the secret's environment variable, or null
   * @param fromFile the secret's file, or null
   * @param passSetCookie let the upstream's Set-Cookie reach the agent
   */
  record Credential(String header, String valuePrefix, String fromEnv, String fromFile,
      boolean passSetCookie) {}

  /**
   * {@code approvals}.
   *
   * @param approversFile the approvers, or null
   * @param maxPending async holds at once
   * @param maxHeldConnections sync holds at once
   * @param defaultTimeout a hold's timeout when the decision names none
   * @param publicUrl the admin port's URL for links, or null
   * @param notifications {@code notify}: who is told
   * @param oidc OIDC approvers, or null
   * @param maxHeldBytes bytes of held bodies at once
   * @param maxHeldBytesPerWorkflow bytes of held bodies of one workflow at once
   * @param agentActsFor who the agent acts for (never its approvers)
   */
  record Approvals(
      String approversFile,
      int maxPending,
      int maxHeldConnections,
      String defaultTimeout,
      String publicUrl,
      @JsonProperty("notify") Notify notifications,
      Oidc oidc,
      long maxHeldBytes,
      long maxHeldBytesPerWorkflow,
      List<String> agentActsFor) {}

  /**
   * {@code approvals.notify}.
   *
   * @param webhooks generic webhooks
   * @param slack Slack incoming webhooks
   */
  record Notify(List<Webhook> webhooks, List<Webhook> slack) {}

  /**
   * A webhook.
   *
   * @param url where to POST
   * @param secretFromEnv the signing key's environment variable, or null
   */
  record Webhook(String url, String secretFromEnv) {}

  /**
   * {@code approvals.oidc}.
   *
   * @param issuer iss
   * @param audience aud
   * @param jwksUrl the IdP's keys
   * @param nameClaim the approver's name claim
   * @param groupsClaim the groups claim
   */
  record Oidc(String issuer, String audience, String jwksUrl, String nameClaim, String groupsClaim) {}
}
