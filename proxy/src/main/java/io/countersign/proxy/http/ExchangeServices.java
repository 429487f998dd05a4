package io.countersign.proxy.http;

import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.exchange.ExchangeFlow;

/**
 * What every agent connection's handler uses; shared, thread-safe parts only.
 *
 * @param canonicalizer turns requests into canonical requests
 * @param flow runs them: decide, record, act, record
 * @param approvals the holds, for the agent's async tickets
 * @param maxPipelined requests accepted ahead of their answers
 * @param drain counts exchanges in flight, for graceful shutdown
 */
public record ExchangeServices(
    Canonicalizer canonicalizer,
    ExchangeFlow flow,
    ApprovalStore approvals,
    int maxPipelined,
    Drain drain) {}
