package io.countersign.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class CredentialScrubberTest {
  private static final String PAIR = "svc-account:hunter2-very-secret";
  private static final Route.InjectedCredential BASIC = new Route.InjectedCredential("Authorization",
      "Basic " + Base64.getEncoder().encodeToString(PAIR.getBytes(StandardCharsets.UTF_8)));

  private static String clean(Route.InjectedCredential c, HttpHeaders headers, String body) {
    ByteBuf in = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    ByteBuf out = CredentialScrubber.of(c).clean(headers, in);
    try {
      return out.toString(StandardCharsets.UTF_8);
    } finally {
      if (out != in) {
        out.release();
      }
      in.release();
    }
  }

  @Test
  void everyCommonFormOfABasicCredentialIsRemovedFromBodyAndHeaders() {
    HttpHeaders h = new DefaultHttpHeaders().add("X-Echo", BASIC.value()).add("Content-Type", "text/plain");
    String body = "header=" + BASIC.value() + " pair=" + PAIR + " password=hunter2-very-secret"
        + " encoded=" + URLEncoder.encode(PAIR, StandardCharsets.UTF_8) + " end";
    String cleaned = clean(BASIC, h, body);
    assertFalse(cleaned.contains("hunter2"), cleaned);
    assertFalse(cleaned.contains(BASIC.value().substring(6)), cleaned);
    assertTrue(cleaned.startsWith("header=[removed-by-countersign]"), cleaned);
    assertTrue(cleaned.endsWith(" end"), cleaned);
    assertEquals("[removed-by-countersign]", h.get("x-echo"));
    assertEquals("text/plain", h.get("content-type"));
    assertEquals("credential-in-headers, credential-in-body", h.get("x-countersign-scrubbed"));
  }

  @Test
  void anAnswerWithoutTheSecretIsLeftAsItIsButLosesItsCookies() {
    Route.InjectedCredential bearer = new Route.InjectedCredential("Authorization", "Bearer tok_0123456789");
    HttpHeaders h = new DefaultHttpHeaders().add("Set-Cookie", "s=1").add("Set-Cookie2", "t=2");
    ByteBuf in = Unpooled.copiedBuffer("{\"ok\":true}", StandardCharsets.UTF_8);
    assertSame(in, CredentialScrubber.of(bearer).clean(h, in), "no copy when nothing is found");
    in.release();
    assertNull(h.get("set-cookie"));
    assertNull(h.get("set-cookie2"));
    assertEquals("set-cookie", h.get("x-countersign-scrubbed"));
    HttpHeaders quiet = new DefaultHttpHeaders().add("Content-Type", "application/json");
    assertEquals("{}", clean(bearer, quiet, "{}"));
    assertNull(quiet.get("x-countersign-scrubbed"));
  }

  @Test
  void aRouteThatPassesCookiesOnKeepsThemAndStillLosesTheSecret() {
    Route.InjectedCredential c = new Route.InjectedCredential("Authorization", "Bearer tok_0123456789", true);
    HttpHeaders h = new DefaultHttpHeaders().add("Set-Cookie", "s=1");
    assertEquals("[removed-by-countersign]", clean(c, h, "tok_0123456789"));
    assertEquals("s=1", h.get("set-cookie"));
    assertEquals("credential-in-body", h.get("x-countersign-scrubbed"));
  }

  @Test
  void findLocatesANeedleAtTheEdgesAndRepeatedly() {
    ByteBuf b = Unpooled.copiedBuffer("abcabcab", StandardCharsets.US_ASCII);
    byte[] n = "cab".getBytes(StandardCharsets.US_ASCII);
    assertEquals(2, CredentialScrubber.find(b, 0, 8, n));
    assertEquals(5, CredentialScrubber.find(b, 3, 8, n));
    assertEquals(-1, CredentialScrubber.find(b, 6, 8, n));
    b.release();
    Route.InjectedCredential c = new Route.InjectedCredential("X-Api-Key", "k-12345678");
    assertEquals("[removed-by-countersign][removed-by-countersign]",
        clean(c, new DefaultHttpHeaders(), "k-12345678k-12345678"));
    assertTrue(CredentialScrubber.forms("abc").isEmpty(), "forms under 8 characters are not searched");
  }

  /** Cleans {@code body} given in pieces cut at {@code cuts}, as a streamed answer arrives. */
  private static String cleanInPieces(Route.InjectedCredential c, String body, int... cuts) {
    CredentialScrubber.BodyScan scan = CredentialScrubber.of(c).bodyScan();
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder();
    int from = 0;
    for (int cut : cuts) {
      ByteBuf part = scan.clean(Unpooled.wrappedBuffer(bytes, from, cut - from));
      out.append(part.toString(StandardCharsets.UTF_8));
      part.release();
      from = cut;
    }
    ByteBuf part = scan.clean(Unpooled.wrappedBuffer(bytes, from, bytes.length - from));
    out.append(part.toString(StandardCharsets.UTF_8));
    part.release();
    ByteBuf tail = scan.finish();
    out.append(tail.toString(StandardCharsets.UTF_8));
    tail.release();
    return out.toString();
  }

  @Test
  void aSecretSplitAtAnyPointOfAStreamIsRemovedAsInAWholeBody() {
    String body = "a=" + BASIC.value() + "&b=" + PAIR + "&c=hunter2-very-secret&d="
        + URLEncoder.encode(PAIR, StandardCharsets.UTF_8) + " end";
    String whole = clean(BASIC, new DefaultHttpHeaders(), body);
    assertFalse(whole.contains("hunter2"), whole);
    for (int cut = 0; cut <= body.length(); cut++) {
      assertEquals(whole, cleanInPieces(BASIC, body, cut), "cut at " + cut);
      for (int second = cut; second <= body.length(); second += 7) {
        assertEquals(whole, cleanInPieces(BASIC, body, cut, second), "cut at " + cut + ", " + second);
      }
    }
  }

  @Test
  void bytesThatOnlyBeginASecretAreGivenOutWhenTheStreamEnds() {
    CredentialScrubber.BodyScan scan = CredentialScrubber.of(BASIC).bodyScan();
    ByteBuf held = scan.clean(Unpooled.copiedBuffer("text then hunter2-very", StandardCharsets.UTF_8));
    assertEquals("text then ", held.toString(StandardCharsets.UTF_8), "a possible secret waits");
    held.release();
    ByteBuf tail = scan.finish();
    assertEquals("hunter2-very", tail.toString(StandardCharsets.UTF_8));
    tail.release();
    assertFalse(scan.replaced());
  }

  @Test
  void theSpellingsAParserReadsBackAsTheSecretAreRemovedToo() {
    Route.InjectedCredential token = new Route.InjectedCredential("Authorization",
        "Bearer fz+S3cret/route=7f3a", false);
    byte[] raw = "fz+S3cret/route=7f3a".getBytes(StandardCharsets.UTF_8);
    StringBuilder everyByte = new StringBuilder();
    for (byte b : raw) {
      everyByte.append(String.format("%%%02x", b));
    }
    String body = String.join(" | ", "{\"t\":\"fz+S3cret\\/route=7f3a\"}",
        Base64.getEncoder().withoutPadding().encodeToString(raw),
        Base64.getUrlEncoder().encodeToString(raw),
        Base64.getUrlEncoder().withoutPadding().encodeToString(raw),
        everyByte.toString(), everyByte.toString().toUpperCase(java.util.Locale.ROOT).replace("%", "%"));
    String cleaned = clean(token, new DefaultHttpHeaders(), body);
    assertEquals(String.join(" | ", "{\"t\":\"[removed-by-countersign]\"}",
        "[removed-by-countersign]", "[removed-by-countersign]", "[removed-by-countersign]",
        "[removed-by-countersign]", "[removed-by-countersign]"), cleaned);
  }
}
