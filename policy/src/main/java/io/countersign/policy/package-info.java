/**
 * The policy contract: {@link io.countersign.policy.PolicyInput} in, {@link
 * io.countersign.policy.Decision} out, through a {@link io.countersign.policy.PolicyEngine}. No
 * Netty here: the proxy adapts.
 */
package io.countersign.policy;
