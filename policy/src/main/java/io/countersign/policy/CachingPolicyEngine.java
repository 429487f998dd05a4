package io.countersign.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * A decision cache (Caffeine) in front of an engine, for decisions the policy marks {@code
 * "cacheable": true}. The key is the whole input without {@code context} (time and spend
 * counters) and without the trace headers ({@link #key}); so a policy may mark a decision cacheable
 * only when it reads none of them. Holds and
 * fail-closed decisions are never cached. One cache per engine instance: a reload builds a new
 * engine, so a new policy never answers from the old one's cache. Thread-safe.
 */
public final class CachingPolicyEngine implements PolicyEngine {
  private final PolicyEngine engine;
  private final Cache<String, Decision> cache;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  /**
   * @param engine the engine behind the cache
   * @param maxEntries the most decisions kept
   * @param ttl how long a decision may be reused
   */
  public CachingPolicyEngine(PolicyEngine engine, long maxEntries, Duration ttl) {
    this(engine, Caffeine.newBuilder().maximumSize(maxEntries).expireAfterWrite(ttl));
  }

  /**
   * As above, with the time source the TTL is measured on; the cache's upkeep runs on the caller's
   * thread, so that a test advancing a fake ticker sees the expiry at once.
   */
  CachingPolicyEngine(PolicyEngine engine, long maxEntries, Duration ttl, Ticker ticker) {
    this(engine, Caffeine.newBuilder().maximumSize(maxEntries).expireAfterWrite(ttl).ticker(ticker)
        .executor(Runnable::run));
  }

  private CachingPolicyEngine(PolicyEngine engine, Caffeine<Object, Object> builder) {
    this.engine = engine;
    this.cache = builder.build();
  }

  @Override
  public CompletionStage<Decision> evaluate(PolicyInput input) {
    String key = key(input);
    Decision cached = cache.getIfPresent(key);
    if (cached != null) {
      hits.increment();
      return CompletableFuture.completedFuture(cached);
    }
    misses.increment();
    return engine.evaluate(input).thenApply(d -> {
      if (!d.isFailure() && d.action() != PolicyAction.HOLD
          && d.obligations().path("cacheable").asBoolean(false)) {
        cache.put(key, d);
      }
      return d;
    });
  }

  /**
   * Everything in the input but its context and trace headers, as one string in which every value
   * is length-prefixed (so no two inputs share a key); a body is serialized. Built by hand because serializing the input and hashing it was ~5 % of the event loop under load;
   * {@code CachingPolicyEngineTest} changes every record component and checks the key changes.
   */
  static String key(PolicyInput input) {
    PolicyInput.Request r = input.request();
    StringBuilder k = new StringBuilder(256);
    field(k, r.method());
    field(k, r.route());
    field(k, r.path());
    field(k, r.upstreamPath());
    if (r.query() == null) {
      k.append('-');
    } else {
      k.append(r.query().size()).append('q');
      r.query().forEach((name, values) -> {
        field(k, name);
        fields(k, values);
      });
    }
    if (r.headers() == null) {
      k.append('-');
    } else {
      r.headers().forEach((name, value) -> {
        if (!name.equals("traceparent") && !name.equals("tracestate")) {
          field(k, name);
          field(k, value);
        }
      });
      k.append('h');
    }
    field(k, r.bodyKind());
    json(k, r.body());
    json(k, r.bodyNested());
    field(k, r.bodySha256());
    k.append(r.size()).append('n');
    PolicyInput.Caller c = input.caller();
    field(k, c.agent());
    field(k, c.workflow());
    field(k, c.run());
    field(k, c.onBehalfOf());
    field(k, c.account());
    field(k, c.tool());
    field(k, c.promptRef());
    fields(k, c.contextRefs());
    // input.mcp is read from the body and headers already in the key; kept in it anyway, so the
    // key never depends on that reading staying a function of them
    if (input.mcp() == null) {
      k.append('-');
    } else {
      json(k, PolicyJson.mapper().valueToTree(input.mcp()));
    }
    return k.toString();
  }

  private static void json(StringBuilder k, com.fasterxml.jackson.databind.JsonNode value) {
    if (value == null || value.isNull()) {
      k.append('-');
    } else {
      try {
        field(k, PolicyJson.mapper().writeValueAsString(value));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static void fields(StringBuilder k, List<String> values) {
    if (values == null) {
      k.append('-');
    } else {
      k.append(values.size()).append('v');
      values.forEach(v -> field(k, v));
    }
  }

  private static void field(StringBuilder k, String value) {
    if (value == null) {
      k.append('-');
    } else {
      k.append(value.length()).append(':').append(value);
    }
  }

  /** Cache hits since start. */
  public long hits() {
    return hits.sum();
  }

  /** Cache misses since start. */
  public long misses() {
    return misses.sum();
  }

  @Override
  public String name() {
    return engine.name();
  }

  @Override
  public String revision() {
    return engine.revision();
  }

  @Override
  public Map<String, Long> failClosedCounts() {
    return engine.failClosedCounts();
  }

  @Override
  public void close() {
    cache.invalidateAll();
    engine.close();
  }
}
