package io.countersign.proxy.exchange;

import io.countersign.ledger.Ledger;
import io.countersign.policy.PolicyEngine;
import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.approval.HeldBodies;
import io.countersign.proxy.budget.SpendCounters;
import io.countersign.proxy.metrics.ExchangeMetrics;
import io.countersign.proxy.upstream.UpstreamClient;
import java.time.Clock;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * What the {@link ExchangeFlow} uses: shared, thread-safe parts only.
 *
 * @param policy judges requests
 * @param shadow a candidate policy evaluated beside the enforced one, never enforced; or null
 * @param ledger records every step
 * @param upstream forwards requests
 * @param records builds the ledger events
 * @param approvals the holds awaiting human approval
 * @param heldBodies reads a held request's body back from the ledger to execute it
 * @param spend spend counters the policy reads in {@code input.context.spend}
 * @param metrics what operators monitor
 * @param clock wall-clock time (injected, so tests control it)
 * @param nanoTime monotonic time for latencies
 * @param defaultHoldTimeout how long a hold waits when its decision names no timeout
 */
public record FlowServices(
    PolicyEngine policy,
    PolicyEngine shadow,
    Ledger ledger,
    UpstreamClient upstream,
    ExchangeRecords records,
    ApprovalStore approvals,
    HeldBodies heldBodies,
    SpendCounters spend,
    ExchangeMetrics metrics,
    Clock clock,
    LongSupplier nanoTime,
    Duration defaultHoldTimeout) {}
