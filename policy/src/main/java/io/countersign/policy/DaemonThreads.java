package io.countersign.policy;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Names the policy module's threads ({@code prefix-1}, {@code prefix-2} ...) and makes them daemons. */
final class DaemonThreads implements ThreadFactory {
  private final String prefix;
  private final AtomicInteger next = new AtomicInteger(1);

  DaemonThreads(String prefix) {
    this.prefix = prefix;
  }

  @Override
  public Thread newThread(Runnable task) {
    Thread t = new Thread(task, prefix + "-" + next.getAndIncrement());
    t.setDaemon(true);
    return t;
  }
}
