package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.countersign.proxy.config.RequestRules;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * {@code multipart/form-data} bodies (RFC 7578), read so that one reading is possible: the bytes
 * are forwarded as received and every part boundary, part header and name is checked, so any
 * other parser finds the same parts. Refused: a boundary parameter missing, quoted oddly or not
 * made of RFC 2046 boundary characters; a preamble, an epilogue or transport padding; the
 * boundary string anywhere but at a delimiter (a lenient parser might split there, a strict one
 * not); a part header other than Content-Disposition and Content-Type (Content-Transfer-Encoding
 * is decoded by some parsers), repeated, folded, or with a bare CR or LF; a disposition other than
 * {@code form-data} with one {@code name} and at most one {@code filename} ({@code filename*} is
 * preferred by some parsers and ignored by others); nested multipart. Thread-safe.
 */
final class MultipartBodies {
  private static final int MAX_HEADER_BYTES = 8192;
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private MultipartBodies() {}

  /**
   * The parsed body.
   *
   * @param fields the fields, for {@code body_nested}
   * @param view the policy's {@code body}: {@code {"fields": ..., "files": [...]}}
   * @param stripped the body without the stripped override parts, or null when none was stripped
   */
  record Parsed(FormFields fields, ObjectNode view, byte[] stripped) {}

  static Parsed parse(MediaType type, ByteBuf buf, RequestRules rules, List<String> strippedNames)
      throws RequestRejectedException {
    String boundary = boundary(type);
    byte[] body = ByteBufUtil.getBytes(buf);
    byte[] dash = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
    List<Integer> at = occurrences(body, dash);
    if (at.isEmpty() || at.get(0) != 0) {
      throw bad("the body must start with --" + boundary + " (no preamble)");
    }
    FormFields fields = new FormFields("multipart");
    ObjectNode view = NODES.objectNode();
    ObjectNode textFields = view.putObject("fields");
    var files = view.putArray("files");
    List<int[]> removed = new ArrayList<>();
    for (int k = 0; k < at.size(); k++) {
      int p = at.get(k);
      if (p != 0 && (body[p - 2] != '\r' || body[p - 1] != '\n')) {
        throw bad("the boundary string appears inside a part, not after a CRLF; parsers split"
            + " such bodies differently");
      }
      int after = p + dash.length;
      if (after + 1 < body.length && body[after] == '-' && body[after + 1] == '-') {
        if (k != at.size() - 1) {
          throw bad("the boundary string appears after the closing delimiter");
        }
        int rest = after + 2;
        if (!(rest == body.length
            || (rest + 2 == body.length && body[rest] == '\r' && body[rest + 1] == '\n'))) {
          throw bad("bytes follow the closing delimiter (an epilogue), which parsers treat"
              + " differently");
        }
        break;
      }
      if (after + 1 >= body.length || body[after] != '\r' || body[after + 1] != '\n') {
        throw bad("a delimiter is not followed by CRLF (transport padding, or a longer boundary"
            + " that starts with this one)");
      }
      if (k == at.size() - 1) {
        throw bad("the body is not closed with --" + boundary + "--");
      }
      if (k + 1 > FormFields.MAX_FIELDS) {
        throw new RequestRejectedException(400, "body_too_many_fields", "the multipart body has"
            + " more than " + FormFields.MAX_FIELDS + " parts");
      }
      int start = after + 2;
      int end = at.get(k + 1) - 2;
      boolean strip = part(body, start, end, rules, fields, textFields, files, strippedNames);
      if (strip) {
        removed.add(new int[] {p, at.get(k + 1)});
      }
    }
    return new Parsed(fields, view, removed.isEmpty() ? null : without(body, removed));
  }

  /** Reads one part; returns true when it is an override parameter to strip. */
  private static boolean part(byte[] body, int start, int end, RequestRules rules,
      FormFields fields, ObjectNode textFields, com.fasterxml.jackson.databind.node.ArrayNode files,
      List<String> strippedNames) throws RequestRejectedException {
    int headersEnd = indexOf(body, new byte[] {'\r', '\n', '\r', '\n'}, start, end);
    if (headersEnd < 0 || headersEnd == start) {
      throw bad("a part has no headers (each needs Content-Disposition: form-data; name=...)");
    }
    if (headersEnd - start > MAX_HEADER_BYTES) {
      throw bad("a part's headers are longer than " + MAX_HEADER_BYTES + " bytes");
    }
    String headers = utf8(body, start, headersEnd, "a part's headers");
    String disposition = null;
    String contentType = null;
    for (String line : headers.split("\r\n", -1)) {
      if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
        throw bad("a part header holds a bare CR or LF");
      }
      if (line.isEmpty() || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        throw bad("a part header is empty or folded onto the next line");
      }
      int colon = line.indexOf(':');
      String name = colon <= 0 ? "" : line.substring(0, colon);
      for (int i = 0; i < name.length(); i++) {
        if (!MediaType.isTokenChar(name.charAt(i))) {
          name = "";
          break;
        }
      }
      if (name.isEmpty()) {
        throw bad("a part header is not name: value");
      }
      String value = line.substring(colon + 1).strip();
      switch (name.toLowerCase(Locale.ROOT)) {
        case "content-disposition" -> {
          if (disposition != null) {
            throw bad("a part has Content-Disposition twice");
          }
          disposition = value;
        }
        case "content-type" -> {
          if (contentType != null) {
            throw bad("a part has Content-Type twice");
          }
          contentType = value;
        }
        default -> throw bad("a part has the header " + name + "; only Content-Disposition and"
            + " Content-Type are read alike by every parser (RFC 7578 4.7 deprecates"
            + " Content-Transfer-Encoding)");
      }
    }
    if (disposition == null) {
      throw bad("a part has no Content-Disposition");
    }
    String[] nameAndFile = disposition(disposition);
    String name = nameAndFile[0];
    String filename = nameAndFile[1];
    MediaType partType = contentType == null ? null : MediaType.parse(contentType);
    if (partType != null && partType.type().equals("multipart")) {
      throw bad("a part is itself multipart (" + partType.essence() + "), which RFC 7578"
          + " deprecates and parsers read differently");
    }
    Overrides.Family family = Overrides.parameter(name);
    if (family != null) {
      if (rules.overrides() == RequestRules.Overrides.REFUSE) {
        throw Overrides.refusedParameter("multipart", name, family);
      }
      strippedNames.add("multipart:" + name);
      return true;
    }
    int contentStart = headersEnd + 4;
    // A part without a filename is a field to Go's mime/multipart, PHP, Rails and most frameworks,
    // whatever its Content-Type says: the policy reads it as a field too (found by the fuzzer).
    boolean text = filename == null;
    if (text) {
      String charset = partType == null ? null : partType.parameter("charset");
      if (charset != null && !MediaType.isUtf8(charset)) {
        throw new RequestRejectedException(415, "charset_unsupported", "the multipart field "
            + name + " declares charset " + charset + "; only UTF-8 is read");
      }
      String value = utf8(body, contentStart, end, "the multipart field " + name);
      if (value.indexOf('\u0000') >= 0) {
        throw bad("the field " + name + " holds a NUL character");
      }
      if (name.equals("_charset_") && !MediaType.isUtf8(value)) {
        throw new RequestRejectedException(415, "charset_unsupported", "the multipart _charset_"
            + " field says " + value + "; only UTF-8 is read");
      }
      fields.add(name, TextNode.valueOf(value));
      JsonNode list = textFields.get(name);
      (list == null ? textFields.putArray(name)
          : (com.fasterxml.jackson.databind.node.ArrayNode) list).add(value);
    } else {
      ObjectNode file = NODES.objectNode();
      file.put("name", name);
      file.put("filename", filename);
      file.put("type", partType == null ? null : partType.essence());
      file.put("size", end - contentStart);
      file.put("sha256", sha256(body, contentStart, end));
      fields.add(name, file);
      files.add(file);
    }
    return false;
  }

  /** The {@code name} and {@code filename} (or null) of a form-data disposition. */
  private static String[] disposition(String value) throws RequestRejectedException {
    int semi = value.indexOf(';');
    String type = (semi < 0 ? value : value.substring(0, semi)).strip();
    if (!type.equalsIgnoreCase("form-data")) {
      throw bad("a part's disposition is '" + type + "', not form-data");
    }
    String name = null;
    String filename = null;
    int i = semi < 0 ? value.length() : semi;
    while (i < value.length()) {
      // here value[i] == ';'
      int j = i + 1;
      while (j < value.length() && (value.charAt(j) == ' ' || value.charAt(j) == '\t')) {
        j++;
      }
      int eq = value.indexOf('=', j);
      if (eq < 0) {
        throw bad("a Content-Disposition parameter is not name=value");
      }
      String param = value.substring(j, eq).strip().toLowerCase(Locale.ROOT);
      String v;
      int next;
      if (eq + 1 < value.length() && value.charAt(eq + 1) == '"') {
        int close = value.indexOf('"', eq + 2);
        if (close < 0) {
          throw bad("a quoted Content-Disposition value is not closed");
        }
        v = value.substring(eq + 2, close);
        if (v.indexOf('\\') >= 0) {
          throw bad("a quoted Content-Disposition value holds a backslash, which parsers"
              + " unescape differently (RFC 7578 4.2)");
        }
        next = close + 1;
        while (next < value.length() && (value.charAt(next) == ' ' || value.charAt(next) == '\t')) {
          next++;
        }
      } else {
        int end = value.indexOf(';', eq + 1);
        end = end < 0 ? value.length() : end;
        v = value.substring(eq + 1, end).strip();
        for (int k = 0; k < v.length(); k++) {
          if (!MediaType.isTokenChar(v.charAt(k))) {
            throw bad("an unquoted Content-Disposition value holds '" + v.charAt(k) + "'");
          }
        }
        next = end;
      }
      if (next < value.length() && value.charAt(next) != ';') {
        throw bad("text follows a Content-Disposition value");
      }
      for (int k = 0; k < v.length(); k++) {
        if (v.charAt(k) < 0x20 || v.charAt(k) == 0x7f) {
          throw bad("a Content-Disposition value holds a control character");
        }
      }
      switch (param) {
        case "name" -> {
          if (name != null) {
            throw bad("a part names its field twice");
          }
          name = v;
        }
        case "filename" -> {
          if (filename != null) {
            throw bad("a part gives its filename twice");
          }
          filename = v;
        }
        case "filename*" -> throw bad("a part has filename*, which some parsers prefer to"
            + " filename and others ignore (RFC 7578 4.2); send filename only");
        default -> throw bad("a part has the disposition parameter " + param + "; only name and"
            + " filename are read");
      }
      i = next;
    }
    if (name == null || name.isEmpty()) {
      throw bad("a part has no field name");
    }
    return new String[] {name, filename};
  }

  /** The boundary parameter, checked against RFC 2046 5.1.1. */
  private static String boundary(MediaType type) throws RequestRejectedException {
    String b = type.parameter("boundary");
    if (b == null) {
      throw bad("Content-Type multipart/form-data has no boundary parameter");
    }
    if (b.isEmpty() || b.length() > 70 || b.endsWith(" ")) {
      throw bad("the boundary must be 1 to 70 characters and not end with a space");
    }
    for (int i = 0; i < b.length(); i++) {
      char c = b.charAt(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || "'()+_,-./:=? ".indexOf(c) >= 0;
      if (!ok) {
        throw bad("the boundary holds '" + c + "', which RFC 2046 does not allow");
      }
    }
    String charset = type.parameter("charset");
    if (charset != null && !MediaType.isUtf8(charset)) {
      throw new RequestRejectedException(415, "charset_unsupported",
          "the multipart body declares charset " + charset + "; only UTF-8 is read");
    }
    return b;
  }

  private static List<Integer> occurrences(byte[] body, byte[] needle) {
    List<Integer> out = new ArrayList<>();
    int from = 0;
    while (true) {
      int i = indexOf(body, needle, from, body.length);
      if (i < 0) {
        return out;
      }
      out.add(i);
      from = i + needle.length;
    }
  }

  private static int indexOf(byte[] hay, byte[] needle, int from, int to) {
    byte first = needle[0];
    for (int i = from; i <= to - needle.length; i++) {
      if (hay[i] != first) {
        continue;
      }
      int k = 1;
      while (k < needle.length && hay[i + k] == needle[k]) {
        k++;
      }
      if (k == needle.length) {
        return i;
      }
    }
    return -1;
  }

  private static String utf8(byte[] b, int from, int to, String what)
      throws RequestRejectedException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b, from, to - from))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RequestRejectedException(400, "bad_encoding", what + " is not UTF-8");
    }
  }

  private static String sha256(byte[] b, int from, int to) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(b, from, to - from);
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  private static byte[] without(byte[] body, List<int[]> ranges) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(body.length);
    int from = 0;
    for (int[] r : ranges) {
      out.write(body, from, r[0] - from);
      from = r[1];
    }
    out.write(body, from, body.length - from);
    return out.toByteArray();
  }

  private static RequestRejectedException bad(String why) {
    return new RequestRejectedException(400, "bad_multipart_body",
        "the multipart body cannot be read one way only: " + why);
  }
}
