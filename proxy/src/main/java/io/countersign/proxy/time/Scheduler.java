package io.countersign.proxy.time;

import java.time.Duration;

/**
 * Runs a task once after a delay. The proxy's timers (hold expiry, escalation, how long an ended
 * hold stays in memory) go through this, so tests advance a fake clock instead of waiting.
 * Implementations must not run the task on the caller's thread before {@code schedule} returns.
 */
public interface Scheduler {

  /** A scheduled task that has not run yet may be cancelled. */
  interface Scheduled {
    /** Cancels the task if it has not started; a no-op afterwards. */
    void cancel();
  }

  /**
   * Runs {@code task} once, {@code delay} from now (at once for a zero or negative delay).
   *
   * @return a handle to cancel it
   */
  Scheduled schedule(Runnable task, Duration delay);
}
