package io.countersign.proxy.exchange;

import io.countersign.policy.Decision;
import io.countersign.proxy.canonical.CanonicalRequest;
import java.time.Instant;

/**
 * One request's journey through the proxy. Confined to its channel's event loop, so it is not
 * thread-safe and needs not be. {@link #moveTo} is the one place its state changes.
 */
public final class Exchange {
  private final String id;
  private final Instant receivedAt;
  private final long receivedNanos;
  private final CanonicalRequest request;
  private ExchangeState state = ExchangeState.RECEIVED;
  private Decision decision;
  private long decidedNanos;
  private long forwardedNanos;
  private java.util.Map<String, Long> spend = java.util.Map.of();

  /**
   * @param id the exchange id (also sent to the agent as {@code X-Countersign-Exchange-Id})
   * @param receivedAt wall-clock receive time, from the injected clock
   * @param receivedNanos monotonic receive time, for latencies
   * @param request the canonical request
   */
  public Exchange(String id, Instant receivedAt, long receivedNanos, CanonicalRequest request) {
    this.id = id;
    this.receivedAt = receivedAt;
    this.receivedNanos = receivedNanos;
    this.request = request;
  }

  /**
   * Moves to {@code to}.
   *
   * @throws IllegalStateException when the state machine does not allow it (a bug)
   */
  public void moveTo(ExchangeState to) {
    if (!state.canMoveTo(to)) {
      throw new IllegalStateException("exchange " + id + " cannot move from " + state + " to " + to);
    }
    state = to;
  }

  /** Records the decision and when it came. */
  public void decided(Decision d, long nanos) {
    this.decision = d;
    this.decidedNanos = nanos;
  }

  /** The spend counters the policy saw. */
  public void spend(java.util.Map<String, Long> s) {
    this.spend = s;
  }

  public java.util.Map<String, Long> spend() {
    return spend;
  }

  /** Records when the request left for the upstream. */
  public void forwarded(long nanos) {
    this.forwardedNanos = nanos;
  }

  public String id() {
    return id;
  }

  public Instant receivedAt() {
    return receivedAt;
  }

  public long receivedNanos() {
    return receivedNanos;
  }

  public CanonicalRequest request() {
    return request;
  }

  public ExchangeState state() {
    return state;
  }

  public Decision decision() {
    return decision;
  }

  public long decidedNanos() {
    return decidedNanos;
  }

  public long forwardedNanos() {
    return forwardedNanos;
  }
}
