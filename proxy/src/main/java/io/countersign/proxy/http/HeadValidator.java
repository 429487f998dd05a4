package io.countersign.proxy.http;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Checks a request's head byte by byte, as the bytes were received, before Netty's lenient reading
 * of them matters: what the proxy accepts must be read the same way by every parser behind it
 * (found by the differential fuzzer against Go's net/http, {@code fuzz/}). Refused:
 *
 * <ul>
 *   <li>a request line that is not exactly {@code METHOD SP target SP HTTP/1.x} (upper-case
 *       method, one space each, no control character, space or byte above 0x7E in the target,
 *       nothing before the method);
 *   <li>a header line whose name is not a token, whose value holds a control character (a bare CR
 *       included) or a byte above 0x7E (obs-text, which parsers decode differently), or that starts
 *       with white space (obs-fold);
 *   <li>more than one Content-Length or Transfer-Encoding, a Transfer-Encoding other than exactly
 *       {@code chunked} or in HTTP/1.0, both Content-Length and Transfer-Encoding;
 * </ul>
 *
 * Host (missing, repeated, not a host[:port]) is checked at canonicalization, with codes of its
 * own; a version other than 1.x passes here, to be answered 505.
 *
 * Incremental: it is fed the bytes the decoder consumed, in order, across reads. Not thread-safe:
 * one per connection, on its event loop.
 */
final class HeadValidator {
  /** Why a head is refused; {@code ambiguous} when its framing could be read two ways. */
  record Refusal(String message, boolean ambiguous) {}

  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'A'; c <= 'Z'; c++) {
      TCHAR[c] = true;
      TCHAR[c + 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private byte[] line = new byte[256];
  private int length;
  private boolean inHead = true;
  private boolean requestLine = true;
  private boolean http10;
  private int contentLengths;
  private int transferEncodings;

  /** Feeds bytes {@code from} to {@code to} of {@code in}; the refusal, or null while all is well. */
  Refusal feed(ByteBuf in, int from, int to) {
    for (int i = from; i < to; i++) {
      byte b = in.getByte(i);
      if (!inHead) {
        return null; // the rest is body: the decoder frames it, and starts a new head after it
      }
      if (b != '\n') {
        if (length == line.length) {
          line = Arrays.copyOf(line, length * 2); // bounded by the decoder's own line limits
        }
        line[length++] = b;
        continue;
      }
      int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
      Refusal r = requestLine ? requestLine(end) : headerLine(end);
      length = 0;
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  /** The decoder finished a request: the next bytes are the next request's head. */
  void nextRequest() {
    inHead = true;
    requestLine = true;
    http10 = false;
    contentLengths = 0;
    transferEncodings = 0;
    length = 0;
  }

  private Refusal requestLine(int end) {
    requestLine = false;
    int sp1 = -1;
    int sp2 = -1;
    for (int i = 0; i < end; i++) {
      byte b = line[i];
      if (b == ' ') {
        if (sp1 < 0) {
          sp1 = i;
        } else if (sp2 < 0) {
          sp2 = i;
        } else {
          return refuse("the request line has more than two spaces; send METHOD SP target SP HTTP/1.1");
        }
      } else if (b < 0x21 || b > 0x7e) {
        return refuse("the request line holds a control character, a space other than the two"
            + " separators, or a byte above 0x7E");
      }
    }
    if (sp1 <= 0 || sp2 <= sp1 + 1 || sp2 == end - 1) {
      return refuse("the request line is not METHOD SP target SP HTTP/1.1");
    }
    for (int i = 0; i < sp1; i++) {
      if (line[i] < 'A' || line[i] > 'Z') {
        return refuse("the method is not upper-case letters");
      }
    }
    if (!version(sp2 + 1, end)) {
      return refuse("the request line does not end with an HTTP version such as HTTP/1.1");
    }
    http10 = line[end - 3] == '1' && line[end - 1] == '0';
    return null;
  }

  /** HTTP/d.d: the proxy answers versions other than 1.x with 505, after the head. */
  private boolean version(int from, int end) {
    byte[] v = {'H', 'T', 'T', 'P', '/'};
    if (end - from != v.length + 3) {
      return false;
    }
    for (int i = 0; i < v.length; i++) {
      if (line[from + i] != v[i]) {
        return false;
      }
    }
    return isDigit(line[end - 3]) && line[end - 2] == '.' && isDigit(line[end - 1]);
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  private Refusal headerLine(int end) {
    if (end == 0) {
      inHead = false; // the empty line: the head is complete
      return null;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      return new Refusal("a header line is folded onto the next line (obs-fold), which RFC 9112"
          + " forbids", true);
    }
    int colon = -1;
    for (int i = 0; i < end; i++) {
      if (line[i] == ':') {
        colon = i;
        break;
      }
      if (line[i] < 0 || !TCHAR[line[i]]) {
        return refuse("a header name holds a character that is not a token character");
      }
    }
    if (colon <= 0) {
      return refuse("a header line has no name or no colon");
    }
    int from = colon + 1;
    int to = end;
    while (from < to && (line[from] == ' ' || line[from] == '\t')) {
      from++;
    }
    while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t')) {
      to--;
    }
    for (int i = from; i < to; i++) {
      byte b = line[i];
      if ((b < 0x20 && b != '\t') || b == 0x7f || b < 0) {
        return refuse("the value of " + name(colon) + " holds a control character or a byte above"
            + " 0x7E, which parsers read differently; send visible ASCII");
      }
    }
    return framing(colon, from, to);
  }

  private Refusal framing(int nameLength, int from, int to) {
    if (is(nameLength, "content-length")) {
      if (++contentLengths > 1 || transferEncodings > 0) {
        return new Refusal("the request has more than one Content-Length, or one with"
            + " Transfer-Encoding", true);
      }
    } else if (is(nameLength, "transfer-encoding")) {
      if (++transferEncodings > 1 || contentLengths > 0 || http10) {
        return new Refusal("Transfer-Encoding is repeated, combined with Content-Length, or sent in"
            + " HTTP/1.0", true);
      }
      if (to - from != 7 || !equalsIgnoreCase(from, "chunked")) {
        return new Refusal("the only Transfer-Encoding served is chunked, alone", true);
      }
    }
    return null;
  }

  private boolean is(int nameLength, String lowerName) {
    return nameLength == lowerName.length() && equalsIgnoreCase(0, lowerName);
  }

  private boolean equalsIgnoreCase(int from, String lower) {
    for (int i = 0; i < lower.length(); i++) {
      int b = line[from + i];
      if (b >= 'A' && b <= 'Z') {
        b += 32;
      }
      if (b != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private String name(int colon) {
    return new String(line, 0, colon, java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static Refusal refuse(String message) {
    return new Refusal(message, false);
  }
}
