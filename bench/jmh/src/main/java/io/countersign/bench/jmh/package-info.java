/**
 * JMH microbenchmarks of the proxy's hot path through its public entry points: {@link
 * io.countersign.bench.jmh.CanonicalizeBenchmark canonicalization}, {@link
 * io.countersign.bench.jmh.PolicyBenchmark embedded policy evaluation} and {@link
 * io.countersign.bench.jmh.LedgerAppendBenchmark ledger append}, on the one realistic exchange of
 * {@link io.countersign.bench.jmh.SampleExchange}. Run them with {@code bench/jmh.sh}.
 */
package io.countersign.bench.jmh;
