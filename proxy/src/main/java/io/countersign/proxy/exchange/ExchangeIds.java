package io.countersign.proxy.exchange;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exchange ids: UUID version 7 (RFC 9562), so they sort by time in logs and exports. Not secrets
 * (the agent sees them), so a thread-local random source serves, without SecureRandom's lock on
 * the request path. Approval ids and tickets, which must be unguessable, do not come from here.
 */
public final class ExchangeIds {
  private ExchangeIds() {}

  /** A new id. */
  public static String next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long millis = System.currentTimeMillis();
    long msb = (millis << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }
}
