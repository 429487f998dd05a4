package io.countersign.proxy.policyload;

import io.countersign.policy.ManagedOpa;
import io.countersign.policy.PolicyEngine;
import java.time.Instant;

/**
 * One loaded policy revision: its engine, and the OPA process serving it when managed.
 *
 * @param engine the engine (possibly behind a decision cache)
 * @param opa the managed OPA, or null (wasm or an external OPA)
 * @param revision the policy revision
 * @param loadedAt when it was loaded
 */
public record LoadedPolicy(PolicyEngine engine, ManagedOpa opa, String revision, Instant loadedAt)
    implements AutoCloseable {

  /** Whether it can decide now (a managed OPA must be healthy). */
  public boolean healthy() {
    return opa == null || opa.isHealthy();
  }

  @Override
  public void close() {
    engine.close();
    if (opa != null) {
      opa.close();
    }
  }
}
