package io.countersign.proxy.exchange;

import io.countersign.ledger.event.SseEventRecord;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a {@code text/event-stream} body as it passes, for the ledger: the events (type, id, data)
 * as the HTML standard's event-stream interpretation dispatches them, the first {@code maxEvents}
 * of them kept within a byte budget, all of them counted. Lines end at CR, LF or CRLF (also when
 * the CR and LF arrive in different pieces); comment lines and a leading byte-order mark are
 * skipped. It only observes: the bytes the agent gets are not changed. Not thread-safe: one per
 * stream.
 */
final class SseRecorder {
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
  private final int maxEvents;
  private int budget;
  private final List<SseEventRecord> events = new ArrayList<>();
  private long total;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private boolean lineCut;
  private boolean afterCr;
  private int bomSeen;
  private String type;
  private String id;
  private StringBuilder data;
  private boolean dataCut;

  /**
   * @param maxEvents the most events kept
   * @param budget the most bytes of event data kept over all events
   */
  SseRecorder(int maxEvents, int budget) {
    this.maxEvents = maxEvents;
    this.budget = budget;
  }

  /** Reads the next bytes of the stream (not consumed). */
  void feed(ByteBuf piece) {
    for (int i = piece.readerIndex(); i < piece.writerIndex(); i++) {
      byte b = piece.getByte(i);
      if (bomSeen < BOM.length) { // the stream may start with a byte-order mark, which is skipped
        if (b == BOM[bomSeen]) {
          bomSeen++;
          continue;
        }
        for (int k = 0; k < bomSeen; k++) {
          take(BOM[k]); // not a mark after all: those bytes were text
        }
        bomSeen = BOM.length;
      }
      take(b);
    }
  }

  private void take(byte b) {
    if (b == '\n' && afterCr) {
      afterCr = false;
      return; // the LF of a CRLF
    }
    afterCr = b == '\r';
    if (b == '\r' || b == '\n') {
      line(line.toString(StandardCharsets.UTF_8));
      line.reset();
      lineCut = false;
      return;
    }
    if (line.size() < 64 * 1024) {
      line.write(b);
    } else {
      lineCut = true;
    }
  }

  /** One line, as the event-stream interpretation reads it. */
  private void line(String text) {
    if (text.isEmpty()) {
      dispatch();
      return;
    }
    if (text.startsWith(":")) {
      return; // a comment
    }
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> type = value;
      case "id" -> {
        if (value.indexOf('\0') < 0) {
          id = value;
        }
      }
      case "data" -> {
        if (data == null) {
          data = new StringBuilder();
        } else {
          data.append('\n');
        }
        data.append(value);
        dataCut |= lineCut;
      }
      default -> { } // retry and unknown fields are not recorded
    }
  }

  private void dispatch() {
    if (data == null) {
      type = null; // an event without data is not dispatched
      return;
    }
    total++;
    if (events.size() < maxEvents && budget > 0) {
      String text = data.toString();
      boolean cut = dataCut;
      if (text.length() > budget) {
        text = text.substring(0, budget);
        cut = true;
      }
      budget -= text.length();
      events.add(new SseEventRecord(type, id, text, cut ? Boolean.TRUE : null));
    }
    type = null;
    data = null;
    dataCut = false;
  }

  /** The events kept. */
  List<SseEventRecord> events() {
    return List.copyOf(events);
  }

  /** How many events were dispatched in all. */
  long total() {
    return total;
  }
}
