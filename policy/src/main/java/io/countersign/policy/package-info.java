/**
 * The policy contract: {@link io.countersign.policy.PolicyInput} in, {@link
 * io.countersign.policy.Decision} out, through a {@link io.countersign.policy.PolicyEngine}. No
 * Netty here: the proxy adapts.
 *
 * <p>Engines: {@link io.countersign.policy.OpaServerEngine} (an OPA server over REST, e.g. the
 * {@link io.countersign.policy.ManagedOpa} child process that is the embedded default) and {@link
 * io.countersign.policy.WasmEngine} (in process, from a {@link io.countersign.policy.WasmBundle}).
 * Both read results with {@link io.countersign.policy.DecisionReader} and stamp decisions with a
 * {@link io.countersign.policy.PolicyRevision}; both fail closed, never throw.
 */
package io.countersign.policy;
