package io.countersign.proxy.exchange;

import io.countersign.ledger.event.SseEventRecord;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a {@code text/event-stream} body as it passes, for the ledger: the events (type, id, data)
 * as the HTML standard's event-stream interpretation dispatches them, the first {@code maxEvents}
 * of them kept within a byte budget, all of them counted. Lines end at CR, LF or CRLF (also when
 * the CR and LF arrive in different pieces); comment lines and a leading byte-order mark are
 * skipped. It only observes: the bytes the agent gets are not changed.
 *
 * <p>Streams are long (an LLM answer, a notification stream of hours), so past the recording limits
 * a line is no longer kept: only its first bytes, enough to tell a {@code data} line and an empty
 * line (which dispatches) apart, so counting costs a pass over the bytes and nothing more. Not
 * thread-safe: one per stream.
 */
final class SseRecorder {
  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
  private static final int MAX_LINE = 64 * 1024;
  private static final int FIELD_BYTES = 5; // "data:" is the longest prefix counting looks at

  private final int maxEvents;
  private int budget;
  private final List<SseEventRecord> events = new ArrayList<>();
  private long total;
  private byte[] line = new byte[256];
  private int lineLength; // bytes of the current line seen (kept: up to the limit in force)
  private boolean lineCut;
  private boolean afterCr;
  private int bomSeen;
  private String type;
  private String id;
  private StringBuilder data;
  private boolean dataCut;
  private boolean hasData; // counting only: the event being read has a data line
  private final boolean watchUsage;
  private String lastUsage;

  /**
   * @param maxEvents the most events kept
   * @param budget the most bytes of event data kept over all events
   */
  SseRecorder(int maxEvents, int budget) {
    this(maxEvents, budget, false);
  }

  /**
   * @param watchUsage keep the data of the last event that reports LLM token usage (every event is
   *     then read whole, past the recording limits too: LLM streams are small)
   */
  SseRecorder(int maxEvents, int budget, boolean watchUsage) {
    this.maxEvents = maxEvents;
    this.budget = budget;
    this.watchUsage = watchUsage;
  }

  /** The data of the last event that may report token usage, or null. */
  String lastUsage() {
    return lastUsage;
  }

  /** Reads the next bytes of the stream (not consumed). */
  void feed(ByteBuf piece) {
    int n = piece.readableBytes();
    byte[] a;
    int from;
    if (piece.hasArray()) {
      a = piece.array();
      from = piece.arrayOffset() + piece.readerIndex();
    } else {
      a = new byte[n];
      piece.getBytes(piece.readerIndex(), a);
      from = 0;
    }
    int i = from;
    int to = from + n;
    while (i < to && bomSeen < BOM.length) {
      take(a[i++]);
    }
    while (i < to && recording()) {
      take(a[i++]);
    }
    if (i < to) {
      countLines(a, i, to);
    }
  }

  /**
   * Past the recording limits: a tight pass that keeps only the first bytes of each line (enough
   * to tell a data line) and counts the events empty lines dispatch.
   */
  private void countLines(byte[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      byte b = a[i];
      if (b == '\n' || b == '\r') {
        if (b == '\n' && afterCr) {
          afterCr = false;
          continue;
        }
        afterCr = b == '\r';
        count(Math.min(lineLength, FIELD_BYTES));
        lineLength = 0;
        lineCut = false;
      } else {
        afterCr = false;
        if (lineLength < FIELD_BYTES) {
          line[lineLength] = b;
        }
        lineLength++;
      }
    }
  }

  private boolean recording() {
    return watchUsage || (events.size() < maxEvents && budget > 0);
  }

  private boolean keeping() {
    return events.size() < maxEvents && budget > 0;
  }

  private void take(byte b) {
    if (bomSeen < BOM.length) { // the stream may start with a byte-order mark, which is skipped
      if (b == BOM[bomSeen]) {
        bomSeen++;
        return;
      }
      int seen = bomSeen;
      bomSeen = BOM.length;
      for (int k = 0; k < seen; k++) {
        take(BOM[k]); // not a mark after all: those bytes were text
      }
    }
    if (b == '\n' && afterCr) {
      afterCr = false;
      return; // the LF of a CRLF
    }
    afterCr = b == '\r';
    if (b == '\r' || b == '\n') {
      endOfLine();
      return;
    }
    int keep = recording() ? MAX_LINE : FIELD_BYTES;
    if (lineLength < keep) {
      if (lineLength == line.length) {
        line = Arrays.copyOf(line, Math.min(MAX_LINE, line.length * 2));
      }
      line[lineLength] = b;
    } else {
      lineCut = true;
    }
    lineLength++;
  }

  private void endOfLine() {
    int kept = Math.min(lineLength, recording() ? MAX_LINE : FIELD_BYTES);
    if (recording()) {
      line(new String(line, 0, kept, StandardCharsets.UTF_8));
    } else {
      count(kept);
    }
    lineLength = 0;
    lineCut = false;
  }

  /** Past the recording limits: only whether the line dispatches an event, or is a data line. */
  private void count(int kept) {
    if (lineLength == 0) {
      if (hasData || data != null) {
        total++;
      }
      hasData = false;
      data = null;
      type = null;
      return;
    }
    boolean dataField = lineLength >= 4 && line[0] == 'd' && line[1] == 'a' && line[2] == 't'
        && line[3] == 'a' && (lineLength == 4 || (kept > 4 && line[4] == ':'));
    hasData |= dataField;
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
    String text = data.toString();
    if (watchUsage && LlmPricing.mayHoldUsage(text)) {
      lastUsage = text;
    }
    if (!keeping()) {
      type = null;
      data = null;
      dataCut = false;
      return;
    }
    boolean cut = dataCut;
    if (text.length() > budget) {
      text = text.substring(0, budget);
      cut = true;
    }
    budget -= text.length();
    events.add(new SseEventRecord(type, id, text, cut ? Boolean.TRUE : null));
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
