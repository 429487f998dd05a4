package io.countersign.proxy.http;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts exchanges in flight and lets shutdown wait for them. Once draining, new requests are
 * answered 503 and their connection closed, while those already in flight finish. Thread-safe:
 * event loops count, the shutdown thread waits.
 */
public final class Drain {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private int inFlight;
  private volatile boolean draining;

  void started() {
    lock.lock();
    try {
      inFlight++;
    } finally {
      lock.unlock();
    }
  }

  void finished() {
    lock.lock();
    try {
      if (--inFlight == 0) {
        idle.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Whether new requests are refused. */
  public boolean draining() {
    return draining;
  }

  /** Exchanges in flight now. */
  public int inFlight() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses new requests and waits until none is in flight or {@code deadline} passes.
   *
   * @return how many were still in flight at the deadline (0 when drained)
   */
  public int drain(Duration deadline) throws InterruptedException {
    draining = true;
    long left = deadline.toNanos();
    lock.lock();
    try {
      while (inFlight > 0 && left > 0) {
        left = idle.awaitNanos(left);
      }
      return inFlight;
    } finally {
      lock.unlock();
    }
  }
}
