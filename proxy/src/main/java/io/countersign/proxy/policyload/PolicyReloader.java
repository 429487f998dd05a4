package io.countersign.proxy.policyload;

import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.event.PolicyReloadRefused;
import io.countersign.ledger.event.PolicyReloaded;
import io.countersign.policy.PolicyRevision;
import io.countersign.policy.SwappablePolicyEngine;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces the policy in force without dropping or mis-judging requests in flight: the candidate
 * is checked and loaded beside the old one, swapped in atomically (a request is judged by the
 * revision in force when its evaluation starts), and the old one is closed after a grace period.
 * A candidate that does not compile is refused with OPA's message and the old policy stays. Every
 * reload, and every refusal, is journaled. Reloads are serialized; they block, so they run on the
 * caller's own thread (the watcher, or the admin API's worker), never an event loop.
 */
public final class PolicyReloader implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  /**
   * What a reload did.
   *
   * @param reloaded whether a new revision is in force
   * @param revision the revision in force afterwards
   * @param message what happened (the refusal's reason)
   */
  public record Result(boolean reloaded, String revision, String message) {}

  private final PolicyLoader loader;
  private final SwappablePolicyEngine engine;
  private final Path dir;
  private final Ledger ledger;
  private final Clock clock;
  private final Duration grace;
  private final ScheduledExecutorService retirer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "countersign-policy-retire");
    t.setDaemon(true);
    return t;
  });
  private volatile LoadedPolicy current;
  private final java.util.Set<LoadedPolicy> retiring = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile java.util.function.Consumer<Result> listener = r -> { };

  /** Told the result of every reload attempt that changed or refused something (metrics). */
  public void listener(java.util.function.Consumer<Result> l) {
    this.listener = l;
  }
  private volatile String lastError;

  /**
   * @param loader builds candidates
   * @param first the policy loaded at startup (already in {@code engine})
   * @param engine the engine the proxy evaluates through
   * @param dir the policy folder
   * @param ledger journals reloads
   * @param clock wall clock
   * @param grace how long a replaced policy keeps serving evaluations already started
   */
  public PolicyReloader(PolicyLoader loader, LoadedPolicy first, SwappablePolicyEngine engine, Path dir,
      Ledger ledger, Clock clock, Duration grace) {
    this.loader = loader;
    this.current = first;
    this.engine = engine;
    this.dir = dir;
    this.ledger = ledger;
    this.clock = clock;
    this.grace = grace;
  }

  /** The policy in force. */
  public LoadedPolicy current() {
    return current;
  }

  /** The last refusal's message, or null. */
  public String lastError() {
    return lastError;
  }

  /** Loads the folder again if its revision changed (or {@code force}); see the class comment. */
  public synchronized Result reload(String trigger, boolean force) {
    if (!loader.reloadable()) {
      return new Result(false, current.revision(),
          "the policy is served by an external OPA; reload it there");
    }
    String candidate;
    try {
      candidate = PolicyRevision.ofDirectory(dir);
    } catch (RuntimeException e) {
      return refuse(trigger, "cannot read " + dir + ": " + e.getMessage());
    }
    if (!force && candidate.equals(current.revision())) {
      return new Result(false, current.revision(), "unchanged");
    }
    LoadedPolicy next;
    try {
      next = loader.load(dir);
    } catch (PolicyLoadException e) {
      return refuse(trigger, e.getMessage());
    }
    LoadedPolicy old = current;
    current = next;
    engine.swap(next.engine());
    lastError = null;
    retiring.add(old);
    retirer.schedule(() -> {
      if (retiring.remove(old)) {
        old.close();
      }
    }, grace.toMillis(), TimeUnit.MILLISECONDS);
    ledger.append(LedgerEvent.of("policy", clock.instant(),
        new PolicyReloaded(old.revision(), next.revision(), trigger)));
    LOG.info("policy reloaded ({}): {} -> {}", trigger, old.revision(), next.revision());
    Result r = new Result(true, next.revision(), "reloaded");
    listener.accept(r);
    return r;
  }

  private Result refuse(String trigger, String message) {
    lastError = message;
    ledger.append(LedgerEvent.of("policy", clock.instant(),
        new PolicyReloadRefused(current.revision(), trigger, message)));
    LOG.warn("policy reload refused ({}), {} stays in force: {}", trigger, current.revision(), message);
    Result r = new Result(false, current.revision(), message);
    listener.accept(r);
    return r;
  }

  @Override
  public void close() {
    retirer.shutdownNow();
    for (LoadedPolicy old : retiring) {
      if (retiring.remove(old)) {
        old.close(); // replaced but not yet retired: its managed OPA must not outlive us
      }
    }
    current.close();
  }
}
