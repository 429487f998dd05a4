package io.countersign.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The decoder alone, in an EmbeddedChannel: what it refuses and what it lets through. */
class StrictRequestDecoderTest {

  private static EmbeddedChannel channel() {
    HttpDecoderConfig config = new HttpDecoderConfig().setStrictLineParsing(true)
        .setAllowDuplicateContentLengths(false).setUseRfc9112TransferEncoding(true);
    return new EmbeddedChannel(new StrictRequestDecoder(config), new HttpObjectAggregator(1 << 16));
  }

  private static void write(EmbeddedChannel ch, String bytes) {
    ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
  }

  @Test
  void contentLengthWithChunkedTransferEncodingIsRefusedAsAmbiguousFraming() {
    EmbeddedChannel ch = channel();
    write(ch, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    FullHttpRequest r = ch.readInbound();
    assertTrue(r.decoderResult().isFailure());
    assertInstanceOf(StrictRequestDecoder.AmbiguousFramingException.class, r.decoderResult().cause());
    r.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void aFoldedHeaderSplitAcrossReadsIsRefusedAndLaterBytesAreIgnored() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /x HTTP/1.1\r\nHost: a\r\nX-A: one\r\n");
    assertNull(ch.readInbound(), "nothing decoded yet");
    write(ch, "\ttwo\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n");
    FullHttpRequest r = ch.readInbound();
    assertTrue(r.decoderResult().isFailure());
    assertTrue(r.decoderResult().cause().getMessage().contains("obs-fold"));
    r.release();
    assertNull(ch.readInbound(), "nothing after a refused head is parsed");
    assertFalse(ch.finishAndReleaseAll());
  }

  @Test
  void bodiesAndLaterRequestsThatLookLikeFoldedHeadersAreNotRefused() {
    EmbeddedChannel ch = channel();
    String body = "a\r\n b\r\n\tc";
    write(ch, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
        + "GET /y HTTP/1.1\r\nHost: a\r\nX-B: 1\r\n\r\n");
    FullHttpRequest first = ch.readInbound();
    FullHttpRequest second = ch.readInbound();
    assertTrue(first.decoderResult().isSuccess());
    assertEquals(body, first.content().toString(StandardCharsets.ISO_8859_1));
    assertTrue(second.decoderResult().isSuccess());
    assertEquals("/y", second.uri());
    assertEquals("1", second.headers().get("x-b"));
    first.release();
    second.release();
    assertFalse(ch.finishAndReleaseAll());
  }

  @Test
  void aBareLineFeedIsRefused() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /x HTTP/1.1\nHost: a\n\n");
    FullHttpRequest r = ch.readInbound();
    assertTrue(r.decoderResult().isFailure());
    r.release();
    ch.finishAndReleaseAll();
  }

  /** What the differential fuzzer found Netty reading leniently (fuzz/corpus/repro/). */
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> lenientHeads() {
    String[][] cases = {
      {"two Content-Lengths in HTTP/1.0", "POST /x HTTP/1.0\r\nContent-Length: 0\r\nContent-Length: 4\r\n\r\nabcd"},
      {"two equal Content-Lengths", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na"},
      {"a space before the method", " GET /x HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"two spaces before the version", "GET /x  HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"a lower-case method", "get /x HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"a bare CR in the target", "GET /x\ry HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"a bare CR in a value", "GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n"},
      {"a byte above 0x7E in a value", "GET /x HTTP/1.1\r\nHost: a\r\nX-A: \u00ff\r\n\r\n"},
      {"a name that is not a token", "GET /x HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n"},
      {"an empty Transfer-Encoding element", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n"},
      {"Transfer-Encoding in HTTP/1.0", "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"trailer fields", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\r\n\r\n"},
    };
    return java.util.Arrays.stream(cases).map(c -> org.junit.jupiter.params.provider.Arguments.of(c[0], c[1]));
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.MethodSource("lenientHeads")
  void aHeadOtherParsersReadDifferentlyIsRefused(String note, String bytes) {
    EmbeddedChannel ch = channel();
    write(ch, bytes);
    FullHttpRequest r = ch.readInbound();
    assertTrue(r != null && r.decoderResult().isFailure(), note);
    r.release();
    assertNull(ch.readInbound(), "nothing more is parsed on the connection");
    ch.finishAndReleaseAll();
  }

  @Test
  void aCleanHeadWithAnIpv6HostAndAPortPasses() {
    EmbeddedChannel ch = channel();
    write(ch, "GET /x?a=1 HTTP/1.1\r\nHost: [::1]:8080\r\nX-Empty:\r\nUser-Agent: a b/1\r\n\r\n"
        + "GET /y HTTP/1.0\r\n\r\n");
    FullHttpRequest first = ch.readInbound();
    FullHttpRequest second = ch.readInbound();
    assertTrue(first.decoderResult().isSuccess(), String.valueOf(first.decoderResult()));
    assertTrue(second.decoderResult().isSuccess(), "HTTP/1.0 may leave Host out");
    first.release();
    second.release();
    assertFalse(ch.finishAndReleaseAll());
  }
}
