package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.node.TextNode;
import io.countersign.proxy.config.RequestRules;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code application/x-www-form-urlencoded} bodies (as Stripe, Twilio and Slack take them), read
 * like the query: split on {@code &} only, each name and value {@code +}-as-space then strictly
 * percent-decoded as UTF-8, and re-encoded by the query's one rule ({@code %20} for a space,
 * {@code %2B} for a plus, {@code %3B} for a semicolon). The re-encoded body is what is forwarded
 * and hashed, so every form parser reads the forwarded bytes as the policy did; when the agent
 * already sent the canonical form (the common case) its own bytes go on unchanged.
 */
final class FormBodies {
  private FormBodies() {}

  /**
   * The parsed form and its canonical bytes.
   *
   * @param fields the fields
   * @param canonical the canonical encoding, or null when it equals the body as received
   */
  record Parsed(FormFields fields, String canonical) {}

  /**
   * Parses a non-empty form body.
   *
   * @param stripped collects the override parameters removed (route strips overrides)
   * @throws RequestRejectedException 400 on anything two form parsers could read differently
   */
  static Parsed parse(ByteBuf body, RequestRules rules, List<String> stripped)
      throws RequestRejectedException {
    String text = ascii(body);
    FormFields fields = new FormFields("form");
    StringBuilder canonical = new StringBuilder(text.length());
    for (String pair : text.split("&", -1)) {
      if (pair.isEmpty()) {
        continue; // "a=1&&b=2": empty pairs carry nothing and are dropped, as in the query
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq), "a form field name", false);
      String value = eq < 0 ? null : decode(pair.substring(eq + 1), "a form field value", true);
      Overrides.Family family = Overrides.parameter(name);
      if (family != null) {
        if (rules.overrides() == RequestRules.Overrides.REFUSE) {
          throw Overrides.refusedParameter("form", name, family);
        }
        stripped.add("form:" + name);
        continue;
      }
      if (name.equals("_charset_") && value != null && !MediaType.isUtf8(value)) {
        throw new RequestRejectedException(415, "charset_unsupported", "the form's _charset_"
            + " field says " + value + ", which some frameworks decode the other fields by;"
            + " only UTF-8 is read");
      }
      fields.add(name, TextNode.valueOf(value == null ? "" : value));
      if (canonical.length() > 0) {
        canonical.append('&');
      }
      canonical.append(PercentCodec.encode(name, PercentCodec.QUERY_LITERAL));
      if (value != null) {
        canonical.append('=').append(PercentCodec.encode(value, PercentCodec.QUERY_LITERAL));
      }
    }
    String c = canonical.toString();
    return new Parsed(fields, c.equals(text) ? null : c);
  }

  /** The body as text; a form body is ASCII (anything else is percent-encoded). */
  private static String ascii(ByteBuf body) throws RequestRejectedException {
    int end = body.writerIndex();
    for (int i = body.readerIndex(); i < end; i++) {
      byte b = body.getByte(i);
      if (b < 0x21 || b > 0x7e) {
        throw new RequestRejectedException(400, "bad_character", "the form body holds a byte"
            + " that must be percent-encoded (raw spaces, line breaks and UTF-8 are not form"
            + " encoding)");
      }
    }
    return body.toString(StandardCharsets.US_ASCII);
  }

  private static String decode(String raw, String what, boolean value)
      throws RequestRejectedException {
    String s = PercentCodec.decode(raw.replace("+", "%20"), what);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean lineOrTab = c == '\t' || c == '\n' || c == '\r';
      if ((c < 0x20 && !(value && lineOrTab)) || c == 0x7f) {
        throw new RequestRejectedException(
            400, "form_control_character", what + " holds a control character");
      }
    }
    return s;
  }
}
