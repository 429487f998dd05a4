package io.countersign.ledger;

import java.util.Locale;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;

/**
 * How often the journal starts a new file. One file per period is also the unit a future retention
 * policy deletes, so pick the period by how fine-grained retention needs to be.
 */
public enum RollPeriod {
  /** One file per hour. */
  HOURLY(RollCycles.FAST_HOURLY),
  /** One file per day (the default). */
  DAILY(RollCycles.FAST_DAILY),
  /** One file per week. */
  WEEKLY(RollCycles.WEEKLY);

  private final RollCycle cycle;

  RollPeriod(RollCycle cycle) {
    this.cycle = cycle;
  }

  RollCycle chronicleCycle() {
    return cycle;
  }

  /**
   * Parses a config value ({@code hourly}, {@code daily}, {@code weekly}, any case).
   *
   * @throws IllegalArgumentException naming the accepted values when {@code name} is none of them
   */
  public static RollPeriod parse(String name) {
    for (RollPeriod p : values()) {
      if (p.name().equalsIgnoreCase(name.trim())) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown ledger roll period '" + name + "'; use one of hourly, daily, weekly");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
