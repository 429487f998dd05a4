package io.countersign.proxy.exchange;

import io.countersign.policy.Decision;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.netty.channel.EventLoop;
import java.time.Instant;
import java.util.Map;

/**
 * One request's journey through the {@link ExchangeFlow}. Confined to one event loop ({@link
 * #loop()}): every step of the flow runs there, so it is not thread-safe and needs not be. {@link
 * #moveTo} is the one place its state changes. It owns its canonical request, whose body is
 * released once, when the exchange ends (a held request's body lives in the ledger meanwhile).
 */
final class Exchange {
  private final String id;
  private final Instant receivedAt;
  private final long receivedNanos;
  private CanonicalRequest request;
  private final EventLoop loop;
  private ExchangeState state;
  private Decision decision;
  private long decidedNanos;
  private long forwardedNanos;
  private Map<String, Long> spend = Map.of();
  private PendingApproval hold;
  private boolean ticketed;

  private Exchange(String id, Instant receivedAt, long receivedNanos, CanonicalRequest request,
      EventLoop loop, ExchangeState state) {
    this.id = id;
    this.receivedAt = receivedAt;
    this.receivedNanos = receivedNanos;
    this.request = request;
    this.loop = loop;
    this.state = state;
  }

  /** A request just received and canonicalized. */
  static Exchange received(String id, Instant receivedAt, long receivedNanos, CanonicalRequest request,
      EventLoop loop) {
    return new Exchange(id, receivedAt, receivedNanos, request, loop, ExchangeState.RECEIVED);
  }

  /**
   * An async hold rebuilt from the ledger after a restart: the ledger already records its way from
   * RECEIVED through DECIDED to HELD (the intent and {@code approval.opened}), so it resumes there,
   * its agent holding a ticket.
   */
  static Exchange restoredHold(PendingApproval hold, Decision decision, long receivedNanos,
      EventLoop loop) {
    Exchange x = new Exchange(hold.exchangeId(), hold.openedAt(), receivedNanos, hold.request(), loop,
        ExchangeState.HELD);
    x.decision = decision;
    x.decidedNanos = receivedNanos;
    x.hold = hold;
    x.ticketed = true;
    return x;
  }

  /**
   * Moves to {@code to}.
   *
   * @throws IllegalStateException when the state machine does not allow it (a bug)
   */
  void moveTo(ExchangeState to) {
    if (!state.canMoveTo(to)) {
      throw new IllegalStateException("exchange " + id + " cannot move from " + state + " to " + to);
    }
    state = to;
  }

  /** Records the decision and when it came. */
  void decided(Decision d, long nanos) {
    this.decision = d;
    this.decidedNanos = nanos;
  }

  /** The spend counters the policy saw. */
  void spend(Map<String, Long> s) {
    this.spend = s;
  }

  Map<String, Long> spend() {
    return spend;
  }

  /** Records when the request left for the upstream. */
  void forwarded(long nanos) {
    this.forwardedNanos = nanos;
  }

  /** The hold this exchange waits on (or waited on). */
  void hold(PendingApproval a) {
    this.hold = a;
  }

  PendingApproval hold() {
    return hold;
  }

  /** The agent got a ticket: the final answer goes to the hold's ticket, not to the agent. */
  void ticketed() {
    this.ticketed = true;
  }

  boolean isTicketed() {
    return ticketed;
  }

  String id() {
    return id;
  }

  Instant receivedAt() {
    return receivedAt;
  }

  long receivedNanos() {
    return receivedNanos;
  }

  CanonicalRequest request() {
    return request;
  }

  /**
   * The request changes its form, never its bytes: detached from its body while held (the body is
   * in the ledger), then read back from the ledger to be executed. The caller releases what it
   * replaces, when that still holds a body.
   */
  void request(CanonicalRequest r) {
    this.request = r;
  }

  EventLoop loop() {
    return loop;
  }

  ExchangeState state() {
    return state;
  }

  Decision decision() {
    return decision;
  }

  long decidedNanos() {
    return decidedNanos;
  }

  long forwardedNanos() {
    return forwardedNanos;
  }
}
