package io.countersign.policy;

import java.time.Duration;

/**
 * How long the supervisor waits before restarting a managed OPA that exited: from {@code min},
 * doubling after each quick exit up to {@code max}, and back to {@code min} once a process had run
 * for {@code stableAfter}. A pure rule (the supervisor measures how long the process ran and waits
 * the answer out), so it is tested without time. Not thread-safe: the supervisor thread owns it.
 */
final class RestartBackoff {
  private final Duration min;
  private final Duration max;
  private final Duration stableAfter;
  private Duration next;

  RestartBackoff(Duration min, Duration max, Duration stableAfter) {
    this.min = min;
    this.max = max;
    this.stableAfter = stableAfter;
    this.next = min;
  }

  /** The wait before restarting a process that ran for {@code ranFor} before it exited. */
  Duration after(Duration ranFor) {
    if (ranFor.compareTo(stableAfter) >= 0) {
      next = min;
    }
    Duration wait = next;
    Duration doubled = next.multipliedBy(2);
    next = doubled.compareTo(max) > 0 ? max : doubled;
    return wait;
  }
}
