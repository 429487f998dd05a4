package io.countersign.policy;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The engine in force, which a reload replaces atomically. Each evaluation uses whichever engine
 * was current when it started, to the end, so a request in flight is never judged half by the
 * old policy and half by the new; the caller closes a replaced engine once its evaluations are
 * done. Thread-safe.
 */
public final class SwappablePolicyEngine implements PolicyEngine {
  private final AtomicReference<PolicyEngine> current;

  /** Starts with {@code first} in force. */
  public SwappablePolicyEngine(PolicyEngine first) {
    this.current = new AtomicReference<>(first);
  }

  @Override
  public CompletionStage<Decision> evaluate(PolicyInput input) {
    return current.get().evaluate(input);
  }

  /** Puts {@code next} in force; returns the engine it replaced (still open). */
  public PolicyEngine swap(PolicyEngine next) {
    return current.getAndSet(next);
  }

  /** The engine in force. */
  public PolicyEngine current() {
    return current.get();
  }

  @Override
  public void prepareThread() {
    current.get().prepareThread();
  }

  @Override
  public String name() {
    return current.get().name();
  }

  @Override
  public String revision() {
    return current.get().revision();
  }

  @Override
  public Map<String, Long> failClosedCounts() {
    return current.get().failClosedCounts();
  }

  @Override
  public void close() {
    current.get().close();
  }
}
