package io.countersign.proxy.support;

import io.countersign.proxy.time.Scheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/**
 * Fake time for tests: a wall clock, a monotonic source and a scheduler that move only when {@link
 * #advance} is called, which runs the tasks that fell due, in time order, on the caller's thread.
 * Thread-safe.
 */
public final class ManualTime implements Scheduler {
  private final PriorityQueue<Task> tasks = new PriorityQueue<>();
  private final Instant start;
  private long elapsedNanos;
  private long sequence;

  private final class Task implements Comparable<Task>, Scheduled {
    final long dueNanos;
    final long order;
    final Runnable run;
    boolean cancelled;

    Task(long dueNanos, long order, Runnable run) {
      this.dueNanos = dueNanos;
      this.order = order;
      this.run = run;
    }

    @Override
    public int compareTo(Task o) {
      int c = Long.compare(dueNanos, o.dueNanos);
      return c != 0 ? c : Long.compare(order, o.order);
    }

    @Override
    public void cancel() {
      synchronized (ManualTime.this) {
        cancelled = true;
      }
    }
  }

  /** Time starting at {@code start}. */
  public ManualTime(Instant start) {
    this.start = start;
  }

  /** The wall clock. */
  public Clock clock() {
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return now();
      }
    };
  }

  /** The current wall-clock time. */
  public synchronized Instant now() {
    return start.plusNanos(elapsedNanos);
  }

  /** The monotonic time, in nanoseconds. */
  public synchronized long nanos() {
    return elapsedNanos;
  }

  @Override
  public synchronized Scheduled schedule(Runnable task, Duration delay) {
    Task t = new Task(elapsedNanos + Math.max(0, delay.toNanos()), sequence++, task);
    tasks.add(t);
    return t;
  }

  /** Tasks scheduled and not yet run or cancelled. */
  public synchronized int pending() {
    return (int) tasks.stream().filter(t -> !t.cancelled).count();
  }

  /** Moves time forward by {@code d}, running each task that falls due at its time. */
  public void advance(Duration d) {
    long target;
    synchronized (this) {
      target = elapsedNanos + d.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.peek();
        if (next == null || next.dueNanos > target) {
          elapsedNanos = target;
          return;
        }
        tasks.poll();
        elapsedNanos = Math.max(elapsedNanos, next.dueNanos);
        if (next.cancelled) {
          continue;
        }
      }
      next.run.run(); // outside the lock: a task may schedule more
    }
  }
}
