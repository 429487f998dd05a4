package io.countersign.proxy.exchange;

import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exchange ids: UUID version 7 (RFC 9562), so they sort by time in logs and exports; the time part
 * comes from the injected clock. Not secrets (the agent sees them), so a thread-local random source
 * serves, without SecureRandom's lock on the request path. Approval ids and tickets, which must be
 * unguessable, do not come from here. Thread-safe.
 */
public final class ExchangeIds {
  private final Clock clock;

  /** Ids whose time part is {@code clock}'s. */
  public ExchangeIds(Clock clock) {
    this.clock = clock;
  }

  /** A new id. */
  public String next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long millis = clock.millis();
    long msb = (millis << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }
}
