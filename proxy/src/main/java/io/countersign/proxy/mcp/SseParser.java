package io.countersign.proxy.mcp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a {@code text/event-stream} as it arrives, chunk by chunk, into {@link SseEvent}s, by the
 * WHATWG event stream rules: lines end in CRLF, LF or CR (also when a CRLF is split between two
 * chunks); a blank line ends a block; a line starting with {@code :} is a comment; a field's value
 * loses one leading space; {@code data} lines are joined by LF; an {@code id} holding NUL and a
 * {@code retry} that is not all ASCII digits are ignored; unknown fields are ignored; one leading
 * byte-order mark is dropped; an incomplete block at the end of the stream is discarded. Each
 * event keeps its bytes as received ({@link SseEvent#raw()}); blank lines between blocks are
 * dropped, so passing every event's raw bytes on gives the same events.
 *
 * <p>Memory is bounded: a block longer than {@code maxEventBytes} is refused, so a server that
 * never ends an event cannot make the proxy buffer without bound. One parser per stream; not
 * thread-safe (feed it from the stream's event loop).
 */
public final class SseParser {
  private static final byte CR = '\r';
  private static final byte LF = '\n';

  private final int maxEventBytes;
  private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private boolean afterCr;
  private boolean pendingDispatch;
  private boolean started;
  private int bomMatched;
  private boolean anyLine;
  private String event;
  private StringBuilder data;
  private String id;
  private Long retry;

  /** An event larger than the parser's bound. */
  public static final class EventTooLarge extends Exception {
    private static final long serialVersionUID = 1L;

    EventTooLarge(int max) {
      super("an event of the stream is longer than " + max + " bytes", null, false, false);
    }
  }

  /** @param maxEventBytes the longest block accepted, in bytes, blank line included */
  public SseParser(int maxEventBytes) {
    if (maxEventBytes < 1) {
      throw new IllegalArgumentException("maxEventBytes must be positive");
    }
    this.maxEventBytes = maxEventBytes;
  }

  /**
   * Reads the next bytes of the stream.
   *
   * @return the blocks these bytes completed, in order (often none)
   * @throws EventTooLarge when a block grows beyond the bound
   */
  public List<SseEvent> feed(byte[] chunk) throws EventTooLarge {
    List<SseEvent> out = new ArrayList<>(1);
    for (byte b : chunk) {
      if (!started && skipBom(b)) {
        continue;
      }
      if (pendingDispatch) {
        // a block ended by a CR: its LF, if one follows, still belongs to it
        pendingDispatch = false;
        afterCr = false;
        if (b == LF) {
          raw.write(b);
          dispatch(out);
          continue;
        }
        dispatch(out);
      }
      if (afterCr) {
        afterCr = false;
        if (b == LF) {
          if (raw.size() > 0) {
            raw.write(b); // the LF of a CRLF
          }
          continue;
        }
      }
      if (raw.size() >= maxEventBytes) {
        throw new EventTooLarge(maxEventBytes);
      }
      raw.write(b);
      if (b == CR || b == LF) {
        afterCr = b == CR;
        endLine(out, b == CR);
      } else {
        line.write(b);
      }
    }
    return out;
  }

  /**
   * The end of the stream: the block ended by a final CR, if any; an unfinished block is
   * discarded, as the event stream rules say.
   */
  public List<SseEvent> finish() {
    List<SseEvent> out = new ArrayList<>(1);
    if (pendingDispatch) {
      pendingDispatch = false;
      dispatch(out);
    }
    reset();
    line.reset();
    return out;
  }

  /** Whether the stream holds a block that has not ended (one {@link #finish()} discards). */
  public boolean hasPartialEvent() {
    return !pendingDispatch && (anyLine || line.size() > 0);
  }

  /** The UTF-8 byte-order mark EF BB BF, dropped once at the start of the stream. */
  private boolean skipBom(byte b) {
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    if (b == bom[bomMatched]) {
      bomMatched++;
      if (bomMatched == bom.length) {
        started = true;
      }
      return true;
    }
    started = true;
    if (bomMatched > 0) {
      // not a BOM after all: the bytes held back belong to the stream
      for (int i = 0; i < bomMatched; i++) {
        raw.write(bom[i]);
        line.write(bom[i]);
      }
    }
    return false;
  }

  private void endLine(List<SseEvent> out, boolean byCr) {
    if (line.size() == 0) {
      if (!anyLine) {
        reset(); // a blank line between blocks
      } else if (byCr) {
        pendingDispatch = true;
      } else {
        dispatch(out);
      }
      return;
    }
    anyLine = true;
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.charAt(0) == ':') {
      return;
    }
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> event = value;
      case "data" -> {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      }
      case "id" -> {
        if (value.indexOf('\u0000') < 0) {
          id = value;
        }
      }
      case "retry" -> {
        if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')
            && value.length() <= 18) {
          retry = Long.parseLong(value);
        }
      }
      default -> { }
    }
  }

  private void dispatch(List<SseEvent> out) {
    out.add(new SseEvent(event, data == null ? null : data.toString(), id, retry,
        raw.toByteArray()));
    reset();
  }

  private void reset() {
    raw.reset();
    anyLine = false;
    event = null;
    data = null;
    id = null;
    retry = null;
  }
}
