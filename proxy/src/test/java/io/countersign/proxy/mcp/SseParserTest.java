package io.countersign.proxy.mcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event stream rules, chunk by chunk, and events written back as they came or changed. */
class SseParserTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Feeds the stream one byte at a time, the hardest split. */
  private static List<SseEvent> byteByByte(String stream) throws Exception {
    SseParser p = new SseParser(1 << 16);
    List<SseEvent> out = new ArrayList<>();
    for (byte b : bytes(stream)) {
      out.addAll(p.feed(new byte[] {b}));
    }
    out.addAll(p.finish());
    return out;
  }

  @Test
  void anMcpAnswerStreamIsReadAsItsMessages() throws Exception {
    String stream = "id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
        + ": keep-alive\n\n"
        + "id: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\n"
        + "data: \"result\":{}}\n\n";
    List<SseEvent> events = byteByByte(stream);
    assertEquals(3, events.size());
    assertEquals("1", events.get(0).id());
    assertEquals("message", events.get(0).event());
    assertEquals("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}", events.get(0).data());
    assertTrue(events.get(1).isComment());
    assertEquals("{\"jsonrpc\":\"2.0\",\"id\":3,\n\"result\":{}}", events.get(2).data());
    assertNull(events.get(2).event());
  }

  @Test
  void unchangedEventsAreWrittenBackAsTheyCame() throws Exception {
    String stream = "\uFEFFid: a\r\ndata:x\r\n\r\nretry: 3000\rdata: y\r\rdata: z\n\n";
    List<SseEvent> events = byteByByte(stream);
    assertEquals(3, events.size());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    events.forEach(e -> out.writeBytes(e.encode()));
    assertArrayEquals(bytes(stream.substring(1)), out.toByteArray(), "the stream less its BOM");
    assertEquals("x", events.get(0).data(), "no space after the colon: the value as is");
    assertEquals(3000L, events.get(1).retry());
    assertEquals("y", events.get(1).data());
  }

  @Test
  void aChangedEventIsWrittenFreshWithOneDataLinePerLine() throws Exception {
    SseEvent e = byteByByte("event: message\nid: 7\ndata: old\n\n").get(0).withData("a\nb");
    assertEquals("event: message\nid: 7\ndata: a\ndata: b\n\n",
        new String(e.encode(), StandardCharsets.UTF_8));
    assertEquals("id: 1\ndata: {}\n\n",
        new String(SseEvent.message("1", "{}").encode(), StandardCharsets.UTF_8));
    assertEquals(":\n\n", new String(new SseEvent(null, null, null, null, null).encode(),
        StandardCharsets.UTF_8));
  }

  @Test
  void fieldsTheRulesIgnoreAreIgnored() throws Exception {
    List<SseEvent> events = byteByByte("id: bad\u0000id\nretry: 10s\nfoo: bar\ndata\n\n");
    assertEquals(1, events.size());
    assertNull(events.get(0).id(), "an id with NUL is ignored");
    assertNull(events.get(0).retry(), "a retry that is not digits is ignored");
    assertEquals("", events.get(0).data(), "a bare data line is an empty data value");
  }

  @Test
  void anUnfinishedEventAtTheEndIsDiscardedAndBlankLinesBetweenBlocksAreDropped() throws Exception {
    SseParser p = new SseParser(1024);
    assertEquals(1, p.feed(bytes("\n\ndata: 1\n\n\n\ndata: 2")).size());
    assertTrue(p.hasPartialEvent());
    assertEquals(List.of(), p.finish());
    assertFalse(p.hasPartialEvent());
  }

  @Test
  void aBlockEndedByACrWaitsForAPossibleLfAndIsGivenAtTheEnd() throws Exception {
    SseParser p = new SseParser(1024);
    assertEquals(List.of(), p.feed(bytes("data: 1\r\r")));
    List<SseEvent> at = p.finish();
    assertEquals(1, at.size());
    assertEquals("1", at.get(0).data());
  }

  @Test
  void aByteOrderMarkPrefixThatIsNotOneStaysInTheStream() throws Exception {
    SseParser p = new SseParser(1024);
    List<SseEvent> events = p.feed(new byte[] {(byte) 0xEF, 'x', ':', ' ', '1', '\n', '\n'});
    assertEquals(1, events.size());
    assertEquals(7, events.get(0).raw().length);
  }

  @Test
  void anEventLongerThanTheBoundIsRefused() {
    SseParser p = new SseParser(16);
    assertThrows(SseParser.EventTooLarge.class, () -> p.feed(bytes("data: " + "x".repeat(32))));
    assertThrows(IllegalArgumentException.class, () -> new SseParser(0));
  }
}
