package io.countersign.proxy.upstream;

/** How a streamed answer ended, as the ledger records it ({@link #wireName()}). */
public enum StreamEnd {
  /** The upstream sent the whole body and ended it properly. */
  COMPLETE("complete"),
  /** The agent closed its connection, or stopped reading for longer than the idle timeout. */
  AGENT_GONE("agent_gone"),
  /** The upstream closed, reset or broke the framing before the body ended. */
  UPSTREAM_BROKE("upstream_broke"),
  /** The body went past {@code upstream.streaming.max_bytes}. */
  LIMIT("limit"),
  /** Nothing came from the upstream for longer than {@code upstream.streaming.idle_timeout}. */
  IDLE_TIMEOUT("idle_timeout");

  private final String wireName;

  StreamEnd(String wireName) {
    this.wireName = wireName;
  }

  /** The name in the ledger and in metrics. */
  public String wireName() {
    return wireName;
  }
}
