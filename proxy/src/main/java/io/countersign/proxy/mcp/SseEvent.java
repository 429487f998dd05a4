package io.countersign.proxy.mcp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One Server-Sent Events block (WHATWG HTML, "Server-sent events", the event stream
 * interpretation): the lines up to a blank line. An MCP server's streamable HTTP answer carries
 * one JSON-RPC message in the {@code data} of each event.
 *
 * @param event the {@code event} field (the event type), or null
 * @param data the {@code data} lines joined by LF, or null when the block has no {@code data}
 *     field (a comment, or only {@code id} / {@code retry})
 * @param id the {@code id} field of this block (for resumption with {@code Last-Event-ID}), or null
 * @param retry the {@code retry} field, in milliseconds, or null
 * @param raw the block's bytes as received, blank line included, passed on unchanged while the
 *     event is not changed; null for an event built or changed here
 */
public record SseEvent(String event, String data, String id, Long retry, byte[] raw) {

  /** A message event carrying {@code data}, for a stream the proxy writes itself. */
  public static SseEvent message(String id, String data) {
    return new SseEvent(null, data, id, null, null);
  }

  /** This event with other {@code data}; written afresh by {@link #encode()}. */
  public SseEvent withData(String newData) {
    return new SseEvent(event, newData, id, retry, null);
  }

  /** Whether this block is only comments (a keep-alive, typically): no field at all. */
  public boolean isComment() {
    return event == null && data == null && id == null && retry == null;
  }

  /**
   * The bytes of this event on the wire: the received bytes when unchanged, otherwise the fields
   * in the order event, id, retry, data (one {@code data:} line per line), LF line ends and a
   * blank line.
   */
  public byte[] encode() {
    if (raw != null) {
      return raw.clone();
    }
    StringBuilder s = new StringBuilder();
    if (event != null) {
      s.append("event: ").append(event).append('\n');
    }
    if (id != null) {
      s.append("id: ").append(id).append('\n');
    }
    if (retry != null) {
      s.append("retry: ").append(retry).append('\n');
    }
    if (data != null) {
      for (String line : data.split("\n", -1)) {
        s.append("data: ").append(line).append('\n');
      }
    }
    if (s.length() == 0) {
      s.append(":\n"); // an event with no field at all is a comment
    }
    s.append('\n');
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 8);
    out.writeBytes(s.toString().getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
