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

  /** RFC 3986 unreserved characters: the only ones whose escapes may be decoded (6.2.2.2). */
  static final boolean[] UNRESERVED = literalSet("");

  /**
   * Characters kept literally in query and form names and values: pchar plus '/' and '?', minus
   * the separators '&', '=', the '+' that form decoding reads as a space (see {@link
   * QueryCanonicalizer}) and the ';' that older parsers (Python before 3.9.2, Rack) also split on.
   */
  static final boolean[] QUERY_LITERAL = literalSet("!$'()*,:@/?");

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

  /**
   * The RFC 3986 normalization of a path segment already checked by {@link #decode}: escapes of
   * unreserved characters are decoded ({@code %7E} to {@code ~}), every other escape stays an
   * escape in upper case ({@code %3b} to {@code %3B}), literal pchars stay literal and any other
   * literal character is escaped. So a reserved character keeps the spelling the agent chose:
   * {@code ;} and {@code %3B} mean different things to a servlet container, {@code +} and {@code
   * %2B} to a router that reads '+' as a space.
   */
  static String normalizePathSegment(String raw) {
    StringBuilder out = null;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int v = (hexValue(raw.charAt(i + 1)) << 4) | hexValue(raw.charAt(i + 2));
        if (out == null) {
          out = new StringBuilder(raw.length());
          out.append(raw, 0, i);
        }
        if (v < 128 && UNRESERVED[v]) {
          out.append((char) v);
        } else {
          out.append('%').append(HEX[v >> 4]).append(HEX[v & 0xf]);
        }
        i += 2;
      } else if (c < 128 && PATH_LITERAL[c]) {
        if (out != null) {
          out.append(c);
        }
      } else {
        if (out == null) {
          out = new StringBuilder(raw.length() + 8);
          out.append(raw, 0, i);
        }
        out.append('%').append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
      }
    }
    return out == null ? raw : out.toString();
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
