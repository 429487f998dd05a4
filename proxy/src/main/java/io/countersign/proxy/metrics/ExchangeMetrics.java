package io.countersign.proxy.metrics;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What operators monitor, in Prometheus form on the admin port's {@code /metrics}: exchanges by
 * route, risk, action and outcome (success, denial and exception rates follow), approvals and
 * overrides, fail-closed decisions, latency histograms (policy, ledger, upstream, total), pending
 * holds, and cost per workflow. Thread-safe; every method is cheap enough for an event loop.
 *
 * <p>Label values that come from the agent (the workflow) are bounded: past {@link
 * #MAX_WORKFLOWS} distinct names, further ones are counted as {@code other}, so an agent cannot
 * blow up the metrics' memory.
 */
public final class ExchangeMetrics {
  /** The most distinct workflow label values kept. */
  public static final int MAX_WORKFLOWS = 200;
  private static final Duration[] SLOS = {
    Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
    Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
    Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
    Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5)
  };

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Set<String> workflows = ConcurrentHashMap.newKeySet();
  private final Cache<String, Boolean> recentRuns =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofHours(24)).build();
  private final Timer policy = timer("countersign_policy_latency", "time from receipt to decision");
  private final Timer ledger = timer("countersign_ledger_append_latency", "time to append one event");
  private final Timer upstream = timer("countersign_upstream_latency", "time from forwarding to the answer");
  private final Timer total = timer("countersign_exchange_latency", "time from receipt to the answer");

  private Timer timer(String name, String help) {
    return Timer.builder(name).description(help).serviceLevelObjectives(SLOS)
        .publishPercentileHistogram(false).register(registry);
  }

  /** Registers gauges read at scrape time. */
  public void gauge(String name, String help, Supplier<Number> value, String... tags) {
    Gauge.builder(name, value).description(help).tags(tags).register(registry);
  }

  private final java.util.Map<String, Counter> exchangeCounters = new ConcurrentHashMap<>();

  /** An exchange ended: how, and for which route, risk and action. */
  public void exchange(String route, String risk, String action, String outcome, int status) {
    // looked up by a plain key: building and registering a meter id per request is the costly part
    String key = route + '\u0000' + risk + '\u0000' + action + '\u0000' + outcome + '\u0000' + (status / 100);
    exchangeCounters.computeIfAbsent(key, k -> Counter.builder("countersign_exchanges")
        .description("exchanges by route, risk, action and outcome")
        .tags("route", route, "risk", risk, "action", action, "outcome", outcome,
            "status_class", (status / 100) + "xx")
        .register(registry)).increment();
  }

  /** A request refused before any policy saw it. */
  public void rejected(String error) {
    Counter.builder("countersign_rejected").description("requests refused before policy, by error")
        .tag("error", error).register(registry).increment();
  }

  /**
   * An upstream answer on a credential route was cleaned before the agent got it ({@code what}:
   * set-cookie, credential-in-headers, credential-in-body).
   */
  public void scrubbed(String route, String what) {
    Counter.builder("countersign_answers_scrubbed")
        .description("upstream answers cleaned of cookies or the route's credential, by route and what")
        .tag("route", route).tag("what", what).register(registry).increment();
  }

  /**
   * A streamed answer ended ({@code ended}: complete, agent_gone, upstream_broke, limit,
   * idle_timeout) after carrying {@code bytes} body bytes to the agent.
   */
  public void streamEnded(String route, String ended, long bytes) {
    Counter.builder("countersign_streams").description("streamed answers, by route and how they ended")
        .tag("route", route).tag("ended", ended).register(registry).increment();
    Counter.builder("countersign_stream_bytes").description("body bytes of streamed answers, by route")
        .baseUnit("bytes").tag("route", route).register(registry).increment(bytes);
  }

  /**
   * An LLM call the policy priced: its tokens and what they cost ({@code costMicros} millionths of
   * {@code currency}).
   */
  public void llm(String route, long inputTokens, long outputTokens, String currency,
      long costMicros) {
    Counter.builder("countersign_llm_tokens").description("LLM tokens of priced calls, by route and direction")
        .tag("route", route).tag("direction", "input").register(registry).increment(inputTokens);
    Counter.builder("countersign_llm_tokens").description("LLM tokens of priced calls, by route and direction")
        .tag("route", route).tag("direction", "output").register(registry).increment(outputTokens);
    Counter.builder("countersign_llm_cost").description("what priced LLM calls cost, by route and currency")
        .tag("route", route).tag("currency", currency).register(registry).increment(costMicros / 1e6);
  }

  /** The policy engine failed closed. */
  public void failClosed(String kind) {
    Counter.builder("countersign_policy_fail_closed").description("decisions the proxy made by failing closed")
        .tag("kind", kind).register(registry).increment();
  }

  /** The shadow policy agreed with the enforced one, or not. */
  public void shadow(boolean agreed) {
    Counter.builder("countersign_shadow_decisions").description("shadow policy decisions, by agreement")
        .tag("agreed", Boolean.toString(agreed)).register(registry).increment();
  }

  /** A policy reload happened or was refused. */
  public void reload(boolean reloaded) {
    Counter.builder("countersign_policy_reloads").description("policy reloads, by result")
        .tag("result", reloaded ? "reloaded" : "refused").register(registry).increment();
  }

  /** A hold opened. */
  public void holdOpened(String mode) {
    Counter.builder("countersign_approvals_opened").description("holds opened").tag("mode", mode)
        .register(registry).increment();
  }

  /**
   * A hold resolved. An approved hold and an approver's deny are both overrides of nothing: the
   * policy asked a human; {@code countersign_overrides} counts the human outcomes (approved holds,
   * and denials by an approver) so the rate of human intervention is visible.
   */
  public void holdResolved(String result, boolean byHuman) {
    Counter.builder("countersign_approvals_resolved").description("holds resolved, by result")
        .tag("result", result).register(registry).increment();
    if (byHuman) {
      Counter.builder("countersign_overrides").description("holds decided by a human approver")
          .tag("result", result).register(registry).increment();
    }
  }

  /** A forwarded exchange's cost (the decision's {@code cost}), per workflow. */
  public void cost(String workflow, String run, double cost) {
    String w = workflowLabel(workflow);
    if (cost > 0) {
      Counter.builder("countersign_cost").description("policy cost of forwarded exchanges, by workflow")
          .tag("workflow", w).register(registry).increment(cost);
    }
    if (run != null && recentRuns.asMap().putIfAbsent(w + "\u0000" + run, Boolean.TRUE) == null) {
      Counter.builder("countersign_workflow_runs").description("distinct runs seen, by workflow")
          .tag("workflow", w).register(registry).increment();
    }
  }

  private String workflowLabel(String workflow) {
    if (workflow == null) {
      return "none";
    }
    if (workflows.contains(workflow)) {
      return workflow;
    }
    if (workflows.size() < MAX_WORKFLOWS) {
      workflows.add(workflow);
      return workflow;
    }
    return "other";
  }

  /** Records latencies, in nanoseconds. */
  public void policyLatency(long nanos) {
    policy.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void ledgerLatency(long nanos) {
    ledger.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void upstreamLatency(long nanos) {
    upstream.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void totalLatency(long nanos) {
    total.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }
}
