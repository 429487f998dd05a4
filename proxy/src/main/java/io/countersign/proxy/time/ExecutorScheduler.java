package io.countersign.proxy.time;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The real {@link Scheduler}: one daemon timer thread. Tasks must be short and must not block (they
 * journal through the ledger's non-blocking append and complete futures).
 */
public final class ExecutorScheduler implements Scheduler, AutoCloseable {
  private final ScheduledExecutorService timer;

  /** A scheduler on a new daemon thread named {@code threadName}. */
  public ExecutorScheduler(String threadName) {
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public Scheduled schedule(Runnable task, Duration delay) {
    try {
      ScheduledFuture<?> f = timer.schedule(task, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
      return () -> f.cancel(false);
    } catch (RejectedExecutionException e) {
      return () -> { }; // closed: the proxy is stopping, and nothing scheduled now would run
    }
  }

  /** Stops the timer; tasks not yet run never run. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}
