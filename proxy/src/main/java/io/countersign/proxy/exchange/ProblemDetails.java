package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * RFC 9457 {@code application/problem+json}: {@code type} (a URN per error code, an identifier
 * rather than a link), {@code title} (fixed per code), {@code status}, {@code detail} (the
 * message with rule, reasons and ids), and the proxy's own fields as extension members:
 * {@code error}, {@code message}, {@code exchange_id} and, for policy outcomes, the decision's
 * fields, exactly as clients of the earlier plain JSON shape read them.
 */
final class ProblemDetails implements ErrorDialect {
  /** The media type of RFC 9457, section 3. */
  static final String MEDIA_TYPE = "application/problem+json";

  /** The {@code type} URI of error {@code code}. */
  static String typeOf(String code) {
    return "urn:countersign:error:" + code;
  }

  /** The {@code title} of error {@code code}: the code as words, the same for every occurrence. */
  static String titleOf(String code) {
    String words = code.replace('_', ' ');
    return words.isEmpty() ? words : Character.toUpperCase(words.charAt(0)) + words.substring(1);
  }

  @Override
  public Answer write(Refusal r) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("type", typeOf(r.code()));
    body.put("title", titleOf(r.code()));
    body.put("status", r.status());
    body.put("detail", r.explained());
    body.put("error", r.code());
    body.put("message", r.message());
    r.details(body);
    return Answers.json(r.status(), body, MEDIA_TYPE, r.exchangeId());
  }
}
