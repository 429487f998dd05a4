package io.countersign.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * A decision cache (Caffeine) in front of an engine, for decisions the policy marks {@code
 * "cacheable": true}. The key is the SHA-256 of the whole input without {@code context} (time and
 * spend counters) and without the trace headers; so a policy may mark a decision cacheable only
 * when it reads none of them. Holds and
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
    this.engine = engine;
    this.cache = Caffeine.newBuilder().maximumSize(maxEntries).expireAfterWrite(ttl).build();
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

  private static String key(PolicyInput input) {
    PolicyInput.Request r = input.request();
    Map<String, String> headers = r.headers();
    if (headers != null && (headers.containsKey("traceparent") || headers.containsKey("tracestate"))) {
      // trace context differs on every request and says nothing about what is asked
      headers = new java.util.LinkedHashMap<>(headers);
      headers.remove("traceparent");
      headers.remove("tracestate");
      r = new PolicyInput.Request(r.method(), r.route(), r.path(), r.upstreamPath(), r.query(),
          headers, r.body(), r.bodySha256(), r.size());
    }
    try {
      byte[] json = PolicyJson.mapper().writeValueAsBytes(new KeyView(r, input.caller()));
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What a cached decision may depend on: the input without its context. */
  private record KeyView(PolicyInput.Request request, PolicyInput.Caller caller) {}

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
