package io.countersign.policy;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts fail-closed decisions by failure kind, so every engine exposes the same metric.
 *
 * <p>Thread-safe: any thread may record, any thread may read a snapshot.
 */
final class FailClosedCounter {
  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

  /** Counts {@code decision} when it is a fail-closed one, and returns it. */
  Decision record(Decision decision) {
    if (decision.isFailure()) {
      counts.computeIfAbsent(decision.failure(), k -> new LongAdder()).increment();
    }
    return decision;
  }

  /** A sorted snapshot of the counts. */
  Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((kind, n) -> out.put(kind, n.sum()));
    return java.util.Collections.unmodifiableMap(out);
  }
}
