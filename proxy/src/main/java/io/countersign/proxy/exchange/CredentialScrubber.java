package io.countersign.proxy.exchange;

import io.countersign.proxy.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps a route's injected credential from coming back to the agent (issue 19). The proxy adds the
 * credential to every forwarded request, and the docs promise the agent never sees it; but an
 * upstream that echoes request headers (httpbin's {@code /anything}, framework error pages) would
 * hand it over, and a {@code Set-Cookie} is a session minted for it. So, on a route with a
 * credential, an answer loses its {@code Set-Cookie} and {@code Set-Cookie2} headers, and every
 * exact occurrence of the secret in the answer's headers and body is replaced by {@link #MARK}
 * before the answer reaches the agent, a ticket or the ledger (all three are built from the same
 * answer). What was done is said in the {@code X-Countersign-Scrubbed} header, which the ledger
 * records with the other answer headers.
 *
 * <p>The forms searched for: the whole header value, the credential after its scheme ({@code
 * Bearer}, {@code Basic}, {@code Token}...), for Basic the decoded {@code user:password} pair and
 * the password, and each of those percent-encoded (as a form encoder and a URI path segment write
 * it, and every byte in upper- and lower-case hex), base64-encoded (standard and URL alphabets, with and without
 * padding), and with JSON's escaped solidus ({@code \/}). Forms shorter than 8 characters are not
 * searched (they would match ordinary text). Thread-safe.
 */
final class CredentialScrubber {
  /** What replaces a secret. */
  static final String MARK = "[removed-by-countersign]";
  static final String SCRUBBED_HEADER = "x-countersign-scrubbed";
  private static final byte[] MARK_BYTES = MARK.getBytes(StandardCharsets.US_ASCII);
  private static final int MIN_SECRET = 8;
  private static final Map<Route.InjectedCredential, CredentialScrubber> BY_CREDENTIAL =
      new ConcurrentHashMap<>();

  private final List<String> secrets;
  private final List<byte[]> secretBytes;
  private final boolean dropCookies;
  private final boolean[] starts = new boolean[256]; // first bytes of the forms

  private CredentialScrubber(List<String> secrets, boolean dropCookies) {
    this.secrets = secrets;
    this.dropCookies = dropCookies;
    this.secretBytes = secrets.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
    secretBytes.forEach(b -> starts[b[0] & 0xff] = true);
  }

  /** The scrubber of a route's credential (built once per credential). */
  static CredentialScrubber of(Route.InjectedCredential credential) {
    return BY_CREDENTIAL.computeIfAbsent(credential, c -> new CredentialScrubber(forms(c.value()), !c.passSetCookie()));
  }

  /** The forms of a credential's value that are searched for, longest first. */
  static List<String> forms(String value) {
    Set<String> plain = new LinkedHashSet<>();
    plain.add(value);
    int space = value.indexOf(' ');
    if (space > 0) {
      String scheme = value.substring(0, space).toLowerCase(Locale.ROOT);
      String rest = value.substring(space + 1).strip();
      plain.add(rest);
      if (scheme.equals("basic")) {
        try {
          String pair = new String(Base64.getDecoder().decode(rest), StandardCharsets.UTF_8);
          plain.add(pair);
          int colon = pair.indexOf(':');
          if (colon >= 0) {
            plain.add(pair.substring(colon + 1));
          }
        } catch (IllegalArgumentException notBase64) {
          // not a base64 pair: the value itself is still searched for
        }
      }
    }
    Set<String> all = new LinkedHashSet<>();
    for (String p : plain) {
      if (p.length() < MIN_SECRET) {
        continue; // too short to tell from ordinary text: neither it nor its spellings are searched
      }
      byte[] bytes = p.getBytes(StandardCharsets.UTF_8);
      String form = URLEncoder.encode(p, StandardCharsets.UTF_8);
      all.add(p);
      all.add(form);
      all.add(form.replace("+", "%20"));
      all.add(pathSegment(bytes));
      all.add(everyBytePercentEncoded(bytes, "%%%02X"));
      all.add(everyBytePercentEncoded(bytes, "%%%02x"));
      all.add(Base64.getEncoder().encodeToString(bytes));
      all.add(Base64.getEncoder().withoutPadding().encodeToString(bytes));
      all.add(Base64.getUrlEncoder().encodeToString(bytes));
      all.add(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }
    for (String f : List.copyOf(all)) {
      if (f.indexOf('/') >= 0) {
        all.add(f.replace("/", "\\/")); // JSON may escape the solidus; a JSON parser reads it back
      }
    }
    List<String> out = new ArrayList<>();
    for (String s : all) {
      if (s.length() >= MIN_SECRET) {
        out.add(s);
      }
    }
    out.sort((a, b) -> b.length() - a.length()); // a longer form first: it may hold a shorter one
    return List.copyOf(out);
  }

  /** As a URI path segment spells it (RFC 3986 pchar): unreserved, sub-delims, : and @ kept. */
  private static String pathSegment(byte[] bytes) {
    StringBuilder out = new StringBuilder(bytes.length * 3);
    for (byte b : bytes) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~!$&'()*+,;=:@".indexOf(c) >= 0) {
        out.append((char) c);
      } else {
        out.append(String.format("%%%02X", c));
      }
    }
    return out.toString();
  }

  private static String everyBytePercentEncoded(byte[] bytes, String format) {
    StringBuilder out = new StringBuilder(bytes.length * 3);
    for (byte b : bytes) {
      out.append(String.format(format, b & 0xff));
    }
    return out.toString();
  }

  /**
   * Cleans the headers in place and returns the body to send: {@code body} itself when it holds
   * no secret, else a new buffer (the caller owns both).
   *
   * @param headers the answer's headers, changed in place
   * @param body the answer's body (not released here)
   */
  ByteBuf clean(HttpHeaders headers, ByteBuf body) {
    List<String> done = new ArrayList<>(2);
    if (dropCookies && (headers.contains("set-cookie") || headers.contains("set-cookie2"))) {
      headers.remove("set-cookie");
      headers.remove("set-cookie2");
      done.add("set-cookie");
    }
    Set<String> holding = null; // names of the headers with a secret in a value
    for (Map.Entry<String, String> e : headers) {
      if (holdsSecret(e.getValue())) {
        holding = holding == null ? new LinkedHashSet<>() : holding;
        holding.add(e.getKey());
      }
    }
    if (holding != null) {
      for (String name : holding) {
        headers.set(name, headers.getAll(name).stream().map(this::cleanText).toList());
      }
      done.add("credential-in-headers");
    }
    ByteBuf out = cleanBody(body);
    if (out != body) {
      done.add("credential-in-body");
    }
    if (!done.isEmpty()) {
      headers.set(SCRUBBED_HEADER, String.join(", ", done));
    }
    return out;
  }

  private boolean holdsSecret(String text) {
    for (String s : secrets) {
      if (text.contains(s)) {
        return true;
      }
    }
    return false;
  }

  /** {@code text} with every secret form replaced (an error message that quotes the upstream). */
  String cleanText(String text) {
    String out = text;
    for (String s : secrets) {
      if (out.contains(s)) {
        out = out.replace(s, MARK);
      }
    }
    return out;
  }

  private ByteBuf cleanBody(ByteBuf body) {
    for (byte[] secret : secretBytes) {
      if (find(body, body.readerIndex(), body.writerIndex(), secret) >= 0) {
        BodyScan scan = bodyScan();
        ByteBuf out = scan.clean(body.retainedDuplicate());
        return Unpooled.wrappedBuffer(out, scan.finish());
      }
    }
    return body; // the common case: nothing to replace, nothing copied
  }

  /** A scan of a body that arrives in pieces (a streamed answer): see {@link BodyScan}. */
  BodyScan bodyScan() {
    return new BodyScan();
  }

  /**
   * Replaces the secret forms in a body that may arrive in pieces, so a secret split across two
   * pieces is found too. At each position the longest form that matches is replaced; bytes that
   * could still begin a form are held back until the next piece shows whether they do (at most
   * the longest form's length less one), and given out by {@link #finish()}. Not thread-safe: one
   * per body.
   */
  final class BodyScan {
    private static final byte[] NONE = new byte[0];
    private byte[] carry = NONE;
    private boolean replaced;

    /**
     * The cleaned bytes of {@code piece} that can be given out now; takes ownership of piece. A
     * piece holding nothing to replace or hold back is given out as it is, uncopied.
     */
    ByteBuf clean(ByteBuf piece) {
      int n = piece.readableBytes();
      if (carry.length == 0 && piece.hasArray()) {
        return scan(piece.array(), piece.arrayOffset() + piece.readerIndex(), n, false, piece);
      }
      byte[] data = new byte[carry.length + n];
      System.arraycopy(carry, 0, data, 0, carry.length);
      piece.getBytes(piece.readerIndex(), data, carry.length, n);
      piece.release();
      return scan(data, 0, data.length, false, null);
    }

    /** The bytes held back, cleaned: the body ended. */
    ByteBuf finish() {
      byte[] data = carry;
      carry = NONE;
      return scan(data, 0, data.length, true, null);
    }

    /** Whether anything was replaced so far. */
    boolean replaced() {
      return replaced;
    }

    /**
     * Scans {@code data[from, from + n)}; {@code original}, when not null, is the buffer those
     * bytes are in (owned here), given out itself, or sliced, when nothing was replaced.
     */
    private ByteBuf scan(byte[] data, int from, int n, boolean last, ByteBuf original) {
      int to = from + n;
      ByteBuf out = null;
      int copied = from;
      int i = from;
      carry = NONE;
      while (i < to) {
        if (!starts[data[i] & 0xff]) {
          i++;
          continue;
        }
        int len = matchAt(data, i, to, last);
        if (len < 0) { // the piece ends inside what may be a secret: wait for the next one
          carry = Arrays.copyOfRange(data, i, to);
          break;
        }
        if (len == 0) {
          i++;
          continue;
        }
        out = out == null ? Unpooled.buffer(n) : out;
        out.writeBytes(data, copied, i - copied).writeBytes(MARK_BYTES);
        replaced = true;
        i += len;
        copied = i;
      }
      int end = Math.min(i, to);
      if (out == null && original != null) { // nothing replaced: the piece, or what is not held back
        if (end == to) {
          return original;
        }
        ByteBuf head = original.retainedSlice(original.readerIndex(), end - from);
        original.release();
        return head;
      }
      if (original != null) {
        original.release();
      }
      out = out == null ? Unpooled.buffer(end - copied) : out;
      return out.writeBytes(data, copied, end - copied);
    }

    /**
     * The length of the longest form at {@code at}, 0 when none is there, or -1 when a longer form
     * might be (the data ends within it at {@code to}) and more data may follow.
     */
    private int matchAt(byte[] data, int at, int to, boolean last) {
      boolean partial = false;
      for (byte[] secret : secretBytes) { // longest first
        int n = Math.min(secret.length, to - at);
        if (!Arrays.equals(data, at, at + n, secret, 0, n)) {
          continue;
        }
        if (n == secret.length) {
          return partial && !last ? -1 : secret.length;
        }
        partial = true;
      }
      return partial && !last ? -1 : 0;
    }
  }

  /** The absolute index of {@code needle} in {@code buf} between {@code from} and {@code to}, or -1. */
  static int find(ByteBuf buf, int from, int to, byte[] needle) {
    int last = to - needle.length;
    int i = from;
    while (i <= last) {
      i = buf.indexOf(i, last + 1, needle[0]);
      if (i < 0) {
        return -1;
      }
      int k = 1;
      while (k < needle.length && buf.getByte(i + k) == needle[k]) {
        k++;
      }
      if (k == needle.length) {
        return i;
      }
      i++;
    }
    return -1;
  }
}
