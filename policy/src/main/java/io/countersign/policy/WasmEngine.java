package io.countersign.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.styra.opa.wasm.OpaPolicy;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates {@code data.countersign.decision} in process, with opa-java-wasm, from a {@link
 * WasmBundle}: no OPA process, no network, a few microseconds per decision.
 *
 * <p>Threading: evaluation is pure CPU work, so it runs synchronously on the calling thread and the
 * returned stage is already complete. A wasm instance is single-threaded and mutable, so each
 * calling thread gets its own {@link OpaPolicy} (a {@link ThreadLocal}), built on its first call
 * with the bundle's data loaded once. opa-java-wasm's own {@code OpaPolicyPool} is deliberately not
 * used: in 1.0.4 returning a policy to the pool resets it, freeing its loaded data and its selected
 * entry point, so every later loan of a data-dependent policy answered wrongly. An instance that
 * throws is dropped and rebuilt on that thread's next call, so a trap cannot leave a half-written
 * heap behind. The engine is thread-safe.
 *
 * <p>Failure: never throws from {@link #evaluate}; a wasm error or abort gives {@code
 * policy_error}, an empty result set gives {@code policy_undefined}, a malformed decision gives
 * {@code policy_invalid}, each counted.
 */
public final class WasmEngine implements PolicyEngine {
  private static final Logger log = LoggerFactory.getLogger(WasmEngine.class);

  private final WasmBundle bundle;
  private final String revision;
  private final String dataJson;
  private final ThreadLocal<OpaPolicy> policies = new ThreadLocal<>();
  private final FailClosedCounter failures = new FailClosedCounter();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** An engine that reports the bundle's own revision. */
  public WasmEngine(WasmBundle bundle) {
    this(bundle, bundle.revision());
  }

  /**
   * An engine.
   *
   * @param bundle the compiled policy and its data
   * @param revision the revision to record with each decision (e.g. the {@link PolicyRevision} of
   *     the source directory, so both engines report the same one for the same policy)
   * @throws IllegalArgumentException when the module cannot be instantiated or has no {@code
   *     countersign/decision} entry point; checked here, on the constructing thread, so a bad
   *     bundle fails at startup and not on the first request
   */
  public WasmEngine(WasmBundle bundle, String revision) {
    this.bundle = Objects.requireNonNull(bundle, "bundle");
    this.revision = revision;
    try {
      this.dataJson = PolicyJson.mapper().writeValueAsString(bundle.data());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialize the bundle's data", e);
    }
    try {
      policies.set(newPolicy());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("cannot load wasm policy " + bundle + ": " + e.getMessage(), e);
    }
  }

  /**
   * Builds a bundle from a policy directory with {@code opa build} and loads it.
   *
   * @param opaBinary the {@code opa} executable
   * @param regoDir the policy directory
   * @param workDir where to write the bundle
   * @return an engine reporting the directory's {@link PolicyRevision}
   */
  public static WasmEngine fromDirectory(
      java.nio.file.Path opaBinary, java.nio.file.Path regoDir, java.nio.file.Path workDir) {
    WasmBundle bundle = WasmBundle.read(WasmBundle.build(opaBinary, regoDir, workDir));
    return new WasmEngine(bundle, PolicyRevision.ofDirectory(regoDir));
  }

  /**
   * Instantiates this thread's module (Chicory compiles it to JVM classes: ~1 s on a busy core),
   * which the first evaluation on the thread would otherwise do.
   */
  @Override
  public void prepareThread() {
    if (closed.get() || policies.get() != null) {
      return;
    }
    try {
      policies.set(newPolicy());
    } catch (RuntimeException e) {
      log.debug("preparing the wasm policy on {} failed; the first evaluation retries", Thread.currentThread().getName(), e);
    }
  }

  private OpaPolicy newPolicy() {
    OpaPolicy p = OpaPolicy.builder().withPolicy(bundle.policyWasmShared()).build();
    // Entry point by name: its number depends on the order opa build assigns.
    p.entrypoint(WasmBundle.ENTRYPOINT);
    p.data(dataJson);
    return p;
  }

  @Override
  public CompletionStage<Decision> evaluate(PolicyInput input) {
    return CompletableFuture.completedFuture(failures.record(decide(input)));
  }

  private Decision decide(PolicyInput input) {
    if (closed.get()) {
      return Decision.failClosed("policy_error", "the wasm engine is closed", revision);
    }
    String json;
    try {
      json = new String(PolicyJson.toJson(input), StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      return Decision.failClosed("policy_error", "cannot serialize the policy input: " + e, revision);
    }
    String resultSet;
    try {
      OpaPolicy policy = policies.get();
      if (policy == null) {
        policy = newPolicy();
        policies.set(policy);
      }
      resultSet = policy.evaluate(json);
    } catch (RuntimeException | StackOverflowError e) {
      policies.remove();
      log.debug("wasm evaluation failed", e);
      return Decision.failClosed("policy_error", "wasm evaluation failed: " + describe(e), revision);
    }
    return read(resultSet);
  }

  // The module answers a result set: [] when undefined, [{"result": <decision>}] otherwise.
  private Decision read(String resultSet) {
    JsonNode set;
    try {
      set = PolicyJson.mapper().readTree(resultSet);
    } catch (JsonProcessingException e) {
      return Decision.failClosed(
          "policy_error", "wasm result is not JSON: " + e.getOriginalMessage(), revision);
    }
    if (set == null || !set.isArray()) {
      return Decision.failClosed(
          "policy_error", "wasm result is not a result set: " + resultSet, revision);
    }
    if (set.isEmpty()) {
      return DecisionReader.read(null, revision);
    }
    return DecisionReader.read(set.get(0).get("result"), revision);
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m;
  }

  @Override
  public String name() {
    return "wasm";
  }

  @Override
  public String revision() {
    return revision;
  }

  @Override
  public Map<String, Long> failClosedCounts() {
    return failures.snapshot();
  }

  /**
   * Stops the engine: later calls fail closed. Per-thread instances are freed with their threads
   * (a ThreadLocal cannot be cleared from another thread).
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      policies.remove();
    }
  }
}
