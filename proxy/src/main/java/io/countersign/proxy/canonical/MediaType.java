package io.countersign.proxy.canonical;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A {@code Content-Type} value read strictly (RFC 9110 8.3.1): {@code type/subtype} tokens, then
 * {@code ; name=value} parameters, each value a token or a quoted-string. What parsers read
 * differently is refused: a parameter named twice ({@code charset=utf-8; charset=latin1}), a
 * backslash escape in a quoted value (unescaped by some parsers, kept by others), a list of types.
 *
 * @param type lower-case type, e.g. {@code application}
 * @param subtype lower-case subtype, e.g. {@code json}
 * @param parameters lower-case names to values as sent (quotes removed), in order
 */
record MediaType(String type, String subtype, Map<String, String> parameters) {

  /** The media type without parameters, e.g. {@code application/json}. */
  String essence() {
    return type + "/" + subtype;
  }

  /** A parameter's value, or null. */
  String parameter(String name) {
    return parameters.get(name);
  }

  /** Whether a charset label names UTF-8 ({@code utf-8}, or the common {@code utf8}), any case. */
  static boolean isUtf8(String charset) {
    return charset.equalsIgnoreCase("utf-8") || charset.equalsIgnoreCase("utf8");
  }

  /** Whether the type is JSON: {@code application/json} or any {@code +json} structured syntax. */
  boolean isJson() {
    return (type.equals("application") && subtype.equals("json")) || subtype.endsWith("+json");
  }

  /**
   * Parses a header value.
   *
   * @throws RequestRejectedException 400 {@code bad_content_type} saying what is wrong
   */
  static MediaType parse(String value) throws RequestRejectedException {
    String v = value.strip();
    int i = token(v, 0);
    if (i == 0 || i >= v.length() || v.charAt(i) != '/') {
      throw bad(value, "it does not start with type/subtype");
    }
    int j = token(v, i + 1);
    if (j == i + 1) {
      throw bad(value, "it has no subtype");
    }
    String type = v.substring(0, i).toLowerCase(Locale.ROOT);
    String subtype = v.substring(i + 1, j).toLowerCase(Locale.ROOT);
    Map<String, String> params = new LinkedHashMap<>();
    int at = skipSpace(v, j);
    while (at < v.length()) {
      if (v.charAt(at) != ';') {
        throw bad(value, "'" + v.charAt(at) + "' stands where ';' or the end was expected (one"
            + " media type per Content-Type)");
      }
      at = skipSpace(v, at + 1);
      if (at == v.length()) {
        break; // a trailing ';' carries nothing
      }
      int nameEnd = token(v, at);
      if (nameEnd == at || nameEnd >= v.length() || v.charAt(nameEnd) != '=') {
        throw bad(value, "a parameter is not name=value");
      }
      String name = v.substring(at, nameEnd).toLowerCase(Locale.ROOT);
      String paramValue;
      int valueStart = nameEnd + 1;
      if (valueStart < v.length() && v.charAt(valueStart) == '"') {
        int close = v.indexOf('"', valueStart + 1);
        if (close < 0) {
          throw bad(value, "a quoted parameter value is not closed");
        }
        paramValue = v.substring(valueStart + 1, close);
        if (paramValue.indexOf('\\') >= 0) {
          throw bad(value, "a quoted parameter value holds a backslash, which parsers unescape"
              + " differently");
        }
        for (int k = 0; k < paramValue.length(); k++) {
          char c = paramValue.charAt(k);
          if (c < 0x20 || c > 0x7e) {
            throw bad(value, "a quoted parameter value holds a control or non-ASCII character");
          }
        }
        at = close + 1;
      } else {
        int valueEnd = token(v, valueStart);
        if (valueEnd == valueStart) {
          throw bad(value, "parameter " + name + " has no value");
        }
        paramValue = v.substring(valueStart, valueEnd);
        at = valueEnd;
      }
      if (params.put(name, paramValue) != null) {
        throw bad(value, "parameter " + name + " is given twice");
      }
      at = skipSpace(v, at);
    }
    return new MediaType(type, subtype, Collections.unmodifiableMap(params));
  }

  /** The end of the RFC 9110 token starting at {@code from}. */
  private static int token(String s, int from) {
    int i = from;
    while (i < s.length() && isTokenChar(s.charAt(i))) {
      i++;
    }
    return i;
  }

  static boolean isTokenChar(char c) {
    if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  private static int skipSpace(String s, int from) {
    int i = from;
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static RequestRejectedException bad(String value, String why) {
    return new RequestRejectedException(
        400, "bad_content_type", "Content-Type '" + value + "' cannot be read: " + why);
  }
}
