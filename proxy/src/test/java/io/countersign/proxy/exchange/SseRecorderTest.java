package io.countersign.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.ledger.event.SseEventRecord;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseRecorderTest {
  private static List<SseEventRecord> read(SseRecorder r, String... pieces) {
    for (String p : pieces) {
      r.feed(Unpooled.wrappedBuffer(p.getBytes(StandardCharsets.UTF_8)));
    }
    return r.events();
  }

  @Test
  void eventsAreReadAsTheStandardDispatchesThem() {
    SseRecorder r = new SseRecorder(10, 1000);
    List<SseEventRecord> events = read(r, "\uFEFF: a comment\n", "retry: 100\n",
        "data: one\n\n", "event: delta\r\nid: 7\r\ndata:two\r\ndata:  three\r\n\r\n",
        "data\n\n", "event: only-type\n\n");
    assertEquals(3, events.size(), events.toString());
    assertEquals(new SseEventRecord(null, null, "one", null), events.get(0));
    assertEquals(new SseEventRecord("delta", "7", "two\n three", null), events.get(1));
    assertEquals(new SseEventRecord(null, "7", "", null), events.get(2), "the id carries on");
    assertEquals(3, r.total());
  }

  @Test
  void aCrAndItsLfInDifferentPiecesEndOneLine() {
    SseRecorder r = new SseRecorder(10, 1000);
    List<SseEventRecord> events = read(r, "data: a\r", "\ndata: b\r", "\n\r", "\n");
    assertEquals(List.of(new SseEventRecord(null, null, "a\nb", null)), events);
  }

  @Test
  void aByteOrderMarkIsOnlySkippedAtTheStart() {
    SseRecorder r = new SseRecorder(10, 1000);
    List<SseEventRecord> events = read(r, "\uFEFFdata: x\n\ndata: \uFEFFy\n\n");
    assertEquals("x", events.get(0).data());
    assertEquals("\uFEFFy", events.get(1).data());
  }

  @Test
  void recordingStopsAtItsLimitsButEveryEventIsCounted() {
    SseRecorder r = new SseRecorder(2, 8);
    List<SseEventRecord> events = read(r, "data: 12345\n\n", "data: 67890\n\n", "data: more\n\n");
    assertEquals(2, events.size());
    assertEquals("12345", events.get(0).data());
    assertNull(events.get(0).truncated());
    assertEquals("678", events.get(1).data());
    assertTrue(events.get(1).truncated());
    assertEquals(3, r.total());
  }

  @Test
  void pastTheLimitsEventsAreCountedAsTheStandardDispatchesThem() {
    String stream = "data: kept\n\n" + ": comment\r\n\r\n" + "event: x\n\n" + "data\r\n\r\n"
        + "datum: no\n\n" + "data:a\rdata:b\r\r" + "id: 3\ndata: c\n\n";
    for (int cut = 0; cut <= stream.length(); cut++) {
      SseRecorder r = new SseRecorder(1, 1000);
      read(r, stream.substring(0, cut), stream.substring(cut));
      assertEquals(4, r.total(), "cut at " + cut);
      assertEquals(1, r.events().size());
    }
  }
}
