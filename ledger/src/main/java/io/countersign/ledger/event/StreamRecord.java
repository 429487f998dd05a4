package io.countersign.ledger.event;

import java.util.List;

/**
 * How a streamed answer went: passed on to the agent as it arrived, so its body is journaled by
 * size and SHA-256 (in the {@link ResponseRecord}) plus what the recording limits keep of it.
 *
 * @param ended how it ended: {@code complete}, {@code agent_gone}, {@code upstream_broke}, {@code
 *     limit} or {@code idle_timeout}
 * @param detail why it ended so, when not complete; else null
 * @param prefix the first bytes of the body as text (UTF-8), when they are valid UTF-8 and the
 *     decision lets the ledger keep bodies; else null
 * @param prefixBase64 the first bytes in base64 when they are not valid UTF-8; else null
 * @param prefixComplete whether the prefix is the whole body
 * @param events the first server-sent events of an event stream, or null for other bodies
 * @param eventCount how many events the stream carried in all, or null for other bodies
 * @param credentialScrubbed true when the route's credential was removed from the body, else null
 * @param durationUs from the answer's head to its end, in microseconds
 */
public record StreamRecord(
    String ended,
    String detail,
    String prefix,
    String prefixBase64,
    boolean prefixComplete,
    List<SseEventRecord> events,
    Long eventCount,
    Boolean credentialScrubbed,
    long durationUs) {

  /** Normalizes an empty event list of a non-event stream to none. */
  public StreamRecord {
    events = events == null ? null : List.copyOf(events);
  }
}
