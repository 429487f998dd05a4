package io.countersign.proxy;

import io.countersign.ledger.ChronicleLedger;
import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.NoLedgerException;
import io.countersign.policy.ManagedOpa;
import io.countersign.policy.PolicyEngine;
import io.countersign.proxy.admin.AdminChannelInitializer;
import io.countersign.proxy.admin.PolicyAdmin;
import io.countersign.proxy.approval.ApprovalNotifier;
import io.countersign.proxy.approval.ApprovalRecovery;
import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.approval.ApproverDirectory;
import io.countersign.proxy.approval.WebhookNotifier;
import io.countersign.proxy.budget.SpendCounters;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.config.ConfigException;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.policy.CachingPolicyEngine;
import io.countersign.proxy.approval.HeldBodies;
import io.countersign.proxy.approval.HoldBounds;
import io.countersign.proxy.approval.HoldMode;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.exchange.ExchangeFlow;
import io.countersign.proxy.exchange.ExchangeRecords;
import io.countersign.proxy.exchange.FlowServices;
import io.countersign.proxy.http.ExchangeServices;
import io.countersign.proxy.time.ExecutorScheduler;
import java.util.Locale;
import io.countersign.proxy.http.AgentChannelInitializer;
import io.countersign.policy.SwappablePolicyEngine;
import io.countersign.proxy.http.Drain;
import io.countersign.proxy.policyload.LoadedPolicy;
import io.countersign.proxy.policyload.PolicyLoader;
import io.countersign.proxy.policyload.PolicyReloader;
import io.countersign.proxy.policyload.PolicyWatcher;
import io.countersign.proxy.metrics.ExchangeMetrics;
import io.countersign.proxy.route.RouteTable;
import io.countersign.proxy.upstream.StreamLimits;
import io.countersign.proxy.upstream.UpstreamClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.function.BooleanSupplier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running sidecar: the policy engine (and the OPA it supervises, if managed), the ledger, the
 * upstream client and the agent listener, started in that order and closed in reverse.
 */
public final class CountersignServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CountersignServer.class);

  private final List<AutoCloseable> closeInReverse = new ArrayList<>();
  private final SwappablePolicyEngine policy;
  private final PolicyEngine shadow;
  private PolicyReloader reloader;
  private final Ledger ledger;
  private final EventLoopGroup group;
  private final Channel agentChannel;
  private final Channel adminChannel;
  private final ApprovalStore approvals;
  private final ExchangeMetrics metrics;
  private final Drain drain = new Drain();
  private final Duration drainTimeout;

  private CountersignServer(ProxyConfig config, Map<String, String> env, Clock clock) {
    drainTimeout = config.limits().drainTimeout();
    try {
      RouteTable routes = RouteTable.from(config.routes(), env);
      ProxyConfig.Policy p = config.policy();
      PolicyLoader loader = new PolicyLoader(p, clock);
      LoadedPolicy first = loader.load(p.regoDir());
      closeInReverse.add(() -> {
        if (reloader == null) {
          first.close(); // startup failed before the reloader took it over
        }
      });
      policy = new SwappablePolicyEngine(first.engine());
      ledger = ChronicleLedger.open(config.ledgerDir(), config.ledger());
      closeInReverse.add(ledger);
      reloader = new PolicyReloader(loader, first, policy, p.regoDir(), ledger, clock, drainTimeout);
      closeInReverse.add(reloader);
      if (p.watch()) {
        closeInReverse.add(new PolicyWatcher(p.regoDir(), reloader));
      }
      if (p.shadowRegoDir() != null) {
        LoadedPolicy candidate = new PolicyLoader(p, clock).load(p.shadowRegoDir());
        closeInReverse.add(candidate);
        shadow = candidate.engine();
      } else {
        shadow = null;
      }
      Transport transport = Transport.detect();
      group = transport.newGroup(Runtime.getRuntime().availableProcessors(), "countersign-io");
      closeInReverse.add(() -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly());
      ProxyConfig.Upstream u = config.upstream();
      ProxyConfig.Streaming streaming = u.streaming();
      UpstreamClient upstream = new UpstreamClient(transport, u.connectTimeout(),
          u.responseTimeout(), u.maxResponseBytes(),
          new StreamLimits(streaming.idleTimeout(), streaming.maxBytes()),
          u.maxConnectionsPerEventLoop(), u.caFile());
      closeInReverse.add(upstream); // its pools run on the group: closed before it
      ExchangeRecords records = new ExchangeRecords(config.agentId(), policy.name(),
          streaming.recordBytes(), streaming.recordEvents());

      ProxyConfig.Approvals ap = config.approvals();
      ApproverDirectory approvers = ap.approversFile() == null
          ? ApproverDirectory.empty() : ApproverDirectory.load(ap.approversFile());
      if (ap.oidc() != null) {
        ProxyConfig.Oidc o = ap.oidc();
        approvers = approvers.withOidc(new io.countersign.proxy.approval.OidcApprovers(
            new io.countersign.proxy.approval.OidcApprovers.Settings(o.issuer(), o.audience(),
                o.jwksUrl(), o.nameClaim(), o.groupsClaim())));
      }
      List<ApprovalNotifier> notifiers = notifiers(ap, env, ledger, clock);
      ExecutorScheduler timers = new ExecutorScheduler("countersign-approval-timer");
      closeInReverse.add(timers);
      approvals = new ApprovalStore(ledger, clock, timers, new HoldBounds(ap.maxPending(),
          ap.maxHeldConnections(), ap.maxHeldBytes(), ap.maxHeldBytesPerWorkflow()), notifiers,
          ap.agentActsFor());
      closeInReverse.add(approvals);
      metrics = new ExchangeMetrics();
      reloader.listener(r -> metrics.reload(r.reloaded()));
      approvals.listener(new ApprovalStore.Listener() {
        @Override
        public void opened(PendingApproval a) {
          metrics.holdOpened(a.mode().name().toLowerCase(Locale.ROOT));
        }

        @Override
        public void resolved(PendingApproval a, PendingApproval.Resolution r, boolean byHuman) {
          metrics.holdResolved(r.status().name().toLowerCase(Locale.ROOT), byHuman);
        }
      });
      registerGauges(config.ledgerDir());
      // one read of the journal rebuilds both the spend counters and the approval holds
      SpendCounters spend = new SpendCounters();
      SpendCounters.Rebuild spent = spend.rebuild(clock.instant());
      ApprovalRecovery recovery = new ApprovalRecovery();
      try (LedgerReader reader = LedgerReader.open(config.ledgerDir())) {
        reader.forEach(spent.andThen(recovery));
      } catch (NoLedgerException e) {
        // a new ledger: nothing to rebuild
      }
      LOG.info("spend counters rebuilt from {} forwarded exchanges of today", spent.counted());
      HeldBodies heldBodies = new HeldBodies(config.ledgerDir(), routes);
      closeInReverse.add(heldBodies);
      ExchangeFlow flow = new ExchangeFlow(new FlowServices(policy, shadow, ledger, upstream, records,
          approvals, heldBodies, spend, metrics, clock, System::nanoTime, ap.defaultTimeout()));
      List<PendingApproval> resumed = recovery.restore(routes, approvals, ledger, clock);
      resumed.forEach(a -> flow.resume(a, group.next()));
      LOG.info("restored {} open async approvals from the ledger", resumed.size());

      ExchangeServices services = new ExchangeServices(new Canonicalizer(routes, config.agentId()),
          flow, approvals, config.limits().maxPipelined(), drain);
      Map<String, BooleanSupplier> readiness = new LinkedHashMap<>();
      readiness.put("ledger_writable", ledger::isWritable);
      readiness.put("policy_engine", () -> reloader.current().healthy());
      adminChannel = new ServerBootstrap()
          .group(group)
          .channel(transport.serverChannel())
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new AdminChannelInitializer(approvals, heldBodies, approvers, readiness, metrics::scrape,
              new PolicyAdmin(reloader, policy), clock))
          .bind(config.adminListen())
          .syncUninterruptibly()
          .channel();
      closeInReverse.add(() -> adminChannel.close().syncUninterruptibly());
      agentChannel = new ServerBootstrap()
          .group(group)
          .channel(transport.serverChannel())
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new AgentChannelInitializer(config.limits(), services))
          .bind(config.agentListen())
          .syncUninterruptibly()
          .channel();
      closeInReverse.add(this::drainAgentPort);
      LOG.info("countersign agent port {}, admin port {} ({}), policy engine {} revision {}, ledger {}",
          agentChannel.localAddress(), adminChannel.localAddress(), transport.name(), policy.name(),
          policy.revision(), config.ledgerDir());
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /**
   * Starts a sidecar.
   *
   * @param config the validated configuration
   * @param env where credentials named by {@code from_env} are looked up
   * @param clock the wall clock for the ledger and policy input
   */
  public static CountersignServer start(ProxyConfig config, Map<String, String> env, Clock clock) {
    return new CountersignServer(config, env, clock);
  }

  private void registerGauges(Path ledgerDir) {
    metrics.gauge("countersign_approvals_pending", "holds awaiting approval",
        () -> approvals.openCount(HoldMode.ASYNC), "mode", "async");
    metrics.gauge("countersign_approvals_pending", "holds awaiting approval",
        () -> approvals.openCount(HoldMode.SYNC), "mode", "sync");
    metrics.gauge("countersign_ledger_writable", "1 when the ledger accepts appends",
        () -> ledger.isWritable() ? 1 : 0);
    metrics.gauge("countersign_policy_cache_hits", "decisions answered from the cache (this revision)",
        () -> policy.current() instanceof CachingPolicyEngine c ? c.hits() : 0);
    metrics.gauge("countersign_policy_cache_misses", "decisions the engine made (this revision)",
        () -> policy.current() instanceof CachingPolicyEngine c ? c.misses() : 0);
    metrics.gauge("countersign_ledger_size_bytes", "bytes of the ledger's journal files",
        () -> directorySize(ledgerDir));
  }

  private static long directorySize(Path dir) {
    try (var files = Files.list(dir)) {
      return files.mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException e) {
      return -1;
    }
  }

  private static List<ApprovalNotifier> notifiers(ProxyConfig.Approvals ap, Map<String, String> env,
      Ledger ledger, Clock clock) {
    List<ApprovalNotifier> out = new ArrayList<>();
    for (ProxyConfig.Webhook w : ap.webhooks()) {
      out.add(new WebhookNotifier(WebhookNotifier.Kind.GENERIC, java.net.URI.create(w.url()),
          secret(w, env), ap.publicUrl(), ledger, clock, Duration.ofMillis(500)));
    }
    for (ProxyConfig.Webhook w : ap.slack()) {
      out.add(new WebhookNotifier(WebhookNotifier.Kind.SLACK, java.net.URI.create(w.url()),
          secret(w, env), ap.publicUrl(), ledger, clock, Duration.ofMillis(500)));
    }
    return out;
  }

  private static byte[] secret(ProxyConfig.Webhook w, Map<String, String> env) {
    if (w.secretFromEnv() == null) {
      return null;
    }
    String v = env.get(w.secretFromEnv());
    if (v == null || v.isBlank()) {
      throw new ConfigException("webhook " + w.url() + ": secret_from_env names " + w.secretFromEnv()
          + ", which is not set; export it or drop secret_from_env");
    }
    return v.strip().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Where the admin port listens (with the real port when 0 was configured). */
  public InetSocketAddress adminAddress() {
    return (InetSocketAddress) adminChannel.localAddress();
  }

  /** The holds awaiting approval. */
  public ApprovalStore approvals() {
    return approvals;
  }

  /** Where the agent port listens (with the real port when 0 was configured). */
  public InetSocketAddress agentAddress() {
    return (InetSocketAddress) agentChannel.localAddress();
  }

  /** The policy engine in use. */
  public PolicyEngine policy() {
    return policy;
  }

  /** The OPA this sidecar supervises now, or null when it uses an external OPA or wasm. */
  public ManagedOpa managedOpa() {
    return reloader.current().opa();
  }

  /** Reloads the policy folder; see {@link PolicyReloader}. Blocking. */
  public PolicyReloader.Result reloadPolicy() {
    return reloader.reload("api", false);
  }

  /** The ledger. */
  public Ledger ledger() {
    return ledger;
  }

  /**
   * Graceful stop of the agent port: no new connections, new requests on open ones answered 503,
   * exchanges in flight finish (up to the drain timeout). Async holds stay pending in the ledger.
   */
  private void drainAgentPort() throws InterruptedException {
    agentChannel.close().syncUninterruptibly();
    int left = drain.drain(drainTimeout);
    if (left > 0) {
      LOG.warn("shutting down with {} exchanges still in flight after {}", left, drainTimeout);
    } else {
      LOG.info("agent port drained");
    }
  }

  /** Exchanges in flight now. */
  public int inFlight() {
    return drain.inFlight();
  }

  /** Stops listening, drains, then closes the upstream client, the ledger and the policy engine. */
  @Override
  public void close() {
    for (int i = closeInReverse.size() - 1; i >= 0; i--) {
      try {
        closeInReverse.get(i).close();
      } catch (Exception e) {
        LOG.warn("closing {} failed: {}", closeInReverse.get(i), e.toString());
      }
    }
    closeInReverse.clear();
  }
}
