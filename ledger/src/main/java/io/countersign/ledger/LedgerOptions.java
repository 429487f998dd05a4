package io.countersign.ledger;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link ChronicleLedger} is opened.
 *
 * @param rollPeriod how often the journal starts a new file
 * @param queueCapacity how many appends may wait for the writer thread; beyond that, appends fail
 *     fast with {@link LedgerUnavailableException} rather than buffer without bound
 * @param closeTimeout how long {@link ChronicleLedger#close()} waits for queued events to be
 *     written
 */
public record LedgerOptions(RollPeriod rollPeriod, int queueCapacity, Duration closeTimeout) {

  /** The default capacity: enough to absorb a burst, small enough to surface a stuck disk fast. */
  public static final int DEFAULT_QUEUE_CAPACITY = 8192;

  /** The default close timeout. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** Validates the options. */
  public LedgerOptions {
    Objects.requireNonNull(rollPeriod, "rollPeriod");
    Objects.requireNonNull(closeTimeout, "closeTimeout");
    if (queueCapacity < 1) {
      throw new IllegalArgumentException(
          "ledger queue capacity must be at least 1, got " + queueCapacity);
    }
    if (closeTimeout.isNegative()) {
      throw new IllegalArgumentException("ledger close timeout must not be negative");
    }
  }

  /** Daily files, {@link #DEFAULT_QUEUE_CAPACITY}, {@link #DEFAULT_CLOSE_TIMEOUT}. */
  public static LedgerOptions defaults() {
    return new LedgerOptions(RollPeriod.DAILY, DEFAULT_QUEUE_CAPACITY, DEFAULT_CLOSE_TIMEOUT);
  }

  /** These options with another roll period. */
  public LedgerOptions withRollPeriod(RollPeriod period) {
    return new LedgerOptions(period, queueCapacity, closeTimeout);
  }

  /** These options with another queue capacity. */
  public LedgerOptions withQueueCapacity(int capacity) {
    return new LedgerOptions(rollPeriod, capacity, closeTimeout);
  }

  /** These options with another close timeout. */
  public LedgerOptions withCloseTimeout(Duration timeout) {
    return new LedgerOptions(rollPeriod, queueCapacity, timeout);
  }
}
