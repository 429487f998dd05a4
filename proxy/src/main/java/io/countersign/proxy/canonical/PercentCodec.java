package io.countersign.proxy.canonical;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Percent-decoding and re-encoding by RFC 3986: the one place that defines which characters stand
 * literally in a canonical path or query. Decoding is strict: a malformed escape or bytes that are
 * not UTF-8 are errors, never guessed.
 */
final class PercentCodec {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /** Characters of RFC 3986 {@code pchar} (unreserved, sub-delims, ':' and '@'). */
  static final boolean[] PATH_LITERAL = literalSet("!$&'()*+,;=:@");

  /**
   * Characters kept literally in query names and values: pchar plus '/' and '?', minus the
   * separators '&', '=' and the '+' that form decoding reads as a space (see {@link
   * QueryCanonicalizer}).
   */
  static final boolean[] QUERY_LITERAL = literalSet("!$'()*,;:@/?");

  private PercentCodec() {}

  private static boolean[] literalSet(String extra) {
    boolean[] set = new boolean[128];
    for (char c = 'a'; c <= 'z'; c++) {
      set[c] = true;
    }
    for (char c = 'A'; c <= 'Z'; c++) {
      set[c] = true;
    }
    for (char c = '0'; c <= '9'; c++) {
      set[c] = true;
    }
    for (char c : "-._~".toCharArray()) {
      set[c] = true;
    }
    for (char c : extra.toCharArray()) {
      set[c] = true;
    }
    return set;
  }

  /**
   * Decodes {@code %XX} escapes to UTF-8 text.
   *
   * @param what names the part for error messages, e.g. "path segment"
   * @throws RequestRejectedException on a malformed escape, non-UTF-8 bytes or a raw non-ASCII byte
   */
  static String decode(String s, String what) throws RequestRejectedException {
    if (s.indexOf('%') < 0) {
      for (int i = 0; i < s.length(); i++) {
        if (s.charAt(i) > 0x7e || s.charAt(i) < 0x21) {
          throw new RequestRejectedException(
              400, "bad_character", what + " holds a character that must be percent-encoded");
        }
      }
      return s;
    }
    ByteBuffer bytes = ByteBuffer.allocate(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw malformed(what);
        }
        int hi = hexValue(s.charAt(i + 1));
        int lo = hexValue(s.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          throw malformed(what);
        }
        bytes.put((byte) ((hi << 4) | lo));
        i += 2;
      } else if (c > 0x7e || c < 0x21) {
        throw new RequestRejectedException(
            400, "bad_character", what + " holds a character that must be percent-encoded");
      } else {
        bytes.put((byte) c);
      }
    }
    bytes.flip();
    CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer chars = utf8.decode(bytes);
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new RequestRejectedException(
          400, "bad_encoding", what + " decodes to bytes that are not UTF-8");
    }
  }

  /** The value of an ASCII hex digit, or -1 (Character.digit would also take non-ASCII digits). */
  private static int hexValue(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private static RequestRejectedException malformed(String what) {
    return new RequestRejectedException(
        400, "bad_percent_encoding", what + " has a '%' not followed by two hex digits");
  }

  /** Encodes text: characters in {@code literal} stay, all else becomes upper-case {@code %XX}. */
  static String encode(String s, boolean[] literal) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 128 && literal[c]) {
        if (out != null) {
          out.append(c);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(s.length() + 16);
        out.append(s, 0, i);
      }
      int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
      for (byte b : s.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
        out.append('%').append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
      }
      i = end - 1;
    }
    return out == null ? s : out.toString();
  }
}
