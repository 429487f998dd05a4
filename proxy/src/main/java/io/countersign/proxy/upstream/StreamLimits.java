package io.countersign.proxy.upstream;

import java.time.Duration;

/**
 * Limits of streamed answers ({@code upstream.streaming}).
 *
 * @param idleTimeout the longest silence of the upstream, and the longest time the agent may leave
 *     a stream unread, before the stream is cut
 * @param maxBytes the most body bytes one stream may carry, or 0 for no limit
 */
public record StreamLimits(Duration idleTimeout, long maxBytes) {
  /** Five minutes of idleness, no size limit. */
  public static final StreamLimits DEFAULT = new StreamLimits(Duration.ofMinutes(5), 0);

  /** Checks the values. */
  public StreamLimits {
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("the idle timeout must be positive, not " + idleTimeout);
    }
    if (maxBytes < 0) {
      throw new IllegalArgumentException("max bytes must be 0 (no limit) or more, not " + maxBytes);
    }
  }
}
