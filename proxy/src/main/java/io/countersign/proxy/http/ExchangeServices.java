package io.countersign.proxy.http;

import io.countersign.ledger.Ledger;
import io.countersign.policy.PolicyEngine;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.exchange.ExchangeRecords;
import io.countersign.proxy.upstream.UpstreamClient;
import java.time.Clock;
import java.util.function.LongSupplier;

/**
 * What every agent connection's exchange handler uses; shared, thread-safe parts only.
 *
 * @param canonicalizer turns requests into canonical requests
 * @param policy judges them
 * @param ledger records them
 * @param upstream forwards them
 * @param records builds ledger events
 * @param clock wall-clock time (injected, so tests control it)
 * @param nanoTime monotonic time for latencies
 * @param maxPipelined requests accepted ahead of their answers
 * @param approvals the holds awaiting human approval
 * @param asyncRunner executes approved async holds
 * @param defaultHoldTimeout how long a hold waits when its decision names no timeout
 * @param metrics what operators monitor
 * @param drain counts exchanges in flight, for graceful shutdown
 * @param shadow a candidate policy evaluated beside the enforced one, never enforced; or null
 * @param spend spend counters the policy reads in input.context.spend
 */
public record ExchangeServices(
    Canonicalizer canonicalizer,
    PolicyEngine policy,
    Ledger ledger,
    UpstreamClient upstream,
    ExchangeRecords records,
    Clock clock,
    LongSupplier nanoTime,
    int maxPipelined,
    io.countersign.proxy.approval.ApprovalStore approvals,
    io.countersign.proxy.approval.AsyncApprovalRunner asyncRunner,
    java.time.Duration defaultHoldTimeout,
    io.countersign.proxy.metrics.ExchangeMetrics metrics,
    Drain drain,
    io.countersign.policy.PolicyEngine shadow,
    io.countersign.proxy.budget.SpendCounters spend) {}
