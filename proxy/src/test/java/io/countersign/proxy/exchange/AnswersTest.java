package io.countersign.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The upstream's answer as the agent's HTTP encoder will send it, so the ledger records that. */
class AnswersTest {
  private static Answer answer(int code, String reason, String contentLength, String body,
      boolean head) {
    HttpResponse h = new DefaultHttpResponse(HttpVersion.HTTP_1_1, new HttpResponseStatus(code, reason));
    if (contentLength != null) {
      h.headers().set("Content-Length", contentLength);
    }
    ByteBuf b = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    try {
      return Answers.fromUpstream(h, b, head, "ex-1", null);
    } finally {
      b.release();
    }
  }

  @Test
  void answersWithoutContentHaveTheFramingTheEncoderWrites() {
    Answer reset = answer(205, "Reset Content", "5", "hello", false);
    assertEquals(0, reset.body().readableBytes());
    assertEquals("0", reset.headers().get("content-length"));
    Answer resetToHead = answer(205, "Reset Content", null, "", true);
    assertEquals("0", resetToHead.headers().get("content-length"), "HEAD or not, 205 says 0");
    Answer none = answer(204, "No Content", "5", "hello", false);
    assertNull(none.headers().get("content-length"));
    assertEquals(0, none.body().readableBytes());
    Answer notModified = answer(304, "Not Modified", "1234", "", false);
    assertEquals("1234", notModified.headers().get("content-length"), "what a GET would get");
    Answer head = answer(200, "OK", "99", "", true);
    assertEquals("99", head.headers().get("content-length"));
    for (Answer a : new Answer[] {reset, resetToHead, none, notModified, head}) {
      a.release();
    }
  }

  @Test
  void theUpstreamsReasonPhraseIsReplacedByTheStandardOne() {
    Answer a = answer(500, "Echo Bearer sk-live-secret", "2", "no", false);
    assertEquals("Internal Server Error", a.status().reasonPhrase());
    assertFalse(a.status().toString().contains("secret"));
    a.release();
  }
}
