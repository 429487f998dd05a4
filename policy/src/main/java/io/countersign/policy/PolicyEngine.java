package io.countersign.policy;

import java.util.concurrent.CompletionStage;

/**
 * Evaluates the query {@code data.countersign.decision} for one input.
 *
 * <p>Implementations never block the calling thread on I/O and never complete exceptionally: an
 * undefined result, an error or a timeout completes with {@link Decision#failClosed}. They are
 * thread-safe.
 */
public interface PolicyEngine extends AutoCloseable {

  /** Judges one request. */
  CompletionStage<Decision> evaluate(PolicyInput input);

  /**
   * Readies the calling thread for {@link #evaluate}, so the first request on it does not pay for
   * what the engine keeps per thread (the wasm engine's module instance). Optional: without it the
   * first evaluation on a thread does the same work. Never throws.
   */
  default void prepareThread() {}

  /** A short name for logs and the ledger: {@code opa} or {@code wasm}. */
  String name();

  /** The revision of the policy in force (a digest of the policy files), for the ledger. */
  String revision();

  /** Counts of fail-closed decisions since start, by failure kind. */
  java.util.Map<String, Long> failClosedCounts();

  /** Releases the engine's resources (threads, processes). */
  @Override
  void close();
}
