package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.countersign.proxy.config.RequestRules;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The body rule: every kind a business API takes is parsed into the one form the policy reads,
 * and what the proxy cannot read is refused or, where the route allows it, explicitly opaque.
 * Thread-safe; holds no state.
 *
 * <ul>
 *   <li>zero bytes: {@link BodyKind#NONE}, whatever the Content-Type;
 *   <li>JSON ({@code application/json}, {@code +json}): strict I-JSON ({@link JsonBodies});
 *   <li>{@code application/x-www-form-urlencoded}: {@link FormBodies}, re-encoded canonically;
 *   <li>{@code multipart/form-data}: {@link MultipartBodies}, forwarded as received;
 *   <li>{@code text/*}: UTF-8 text;
 *   <li>anything else, or no Content-Type: 415, or {@link BodyKind#OPAQUE} on a route with {@code
 *       opaque_bodies: true}.
 * </ul>
 *
 * A {@code charset} other than UTF-8 is refused (415) for every kind. A body declared as anything
 * but JSON (or multipart) that is a whole JSON object or array is refused (415 {@code
 * body_type_mismatch}): many upstreams parse JSON whatever the Content-Type says.
 */
final class BodyCanonicalizer {
  private BodyCanonicalizer() {}

  /**
   * A parsed body.
   *
   * @param body the parsed form
   * @param replacement bytes to forward instead of the received ones (a form re-encoded, or a
   *     multipart body without a stripped part), or null to forward the received bytes
   */
  record Result(CanonicalBody body, byte[] replacement) {}

  private static final Result NONE = new Result(CanonicalBody.NONE, null);

  static Result canonicalize(String contentType, ByteBuf body, RequestRules rules,
      List<String> stripped) throws RequestRejectedException {
    if (body.readableBytes() == 0) {
      return NONE;
    }
    if (contentType == null) {
      requireNotJson(body, "declares no Content-Type");
      if (!rules.opaqueBodies()) {
        throw new RequestRejectedException(415, "body_type_missing", "the body has no"
            + " Content-Type, so the policy cannot read it; declare its type (application/json,"
            + " application/x-www-form-urlencoded, multipart/form-data, text/plain)");
      }
      return new Result(new CanonicalBody(BodyKind.OPAQUE, null, null, null), null);
    }
    MediaType type = MediaType.parse(contentType);
    String charset = type.parameter("charset");
    if (charset != null && !MediaType.isUtf8(charset)) {
      throw new RequestRejectedException(415, "charset_unsupported", "the body declares charset "
          + charset + "; the proxy reads bodies as UTF-8 only, so re-encode it as UTF-8");
    }
    String essence = type.essence();
    if (type.isJson()) {
      return new Result(new CanonicalBody(BodyKind.JSON,
          JsonBodies.parse(body, !rules.caseSensitiveNames()), null, essence), null);
    }
    if (essence.equals("multipart/form-data")) {
      MultipartBodies.Parsed m = MultipartBodies.parse(type, body, rules, stripped);
      if (!rules.caseSensitiveNames()) {
        NameCollisions.requireDistinct(m.fields().verbatim().fieldNames(), "the multipart body");
      }
      return new Result(
          new CanonicalBody(BodyKind.MULTIPART, m.view(), m.fields().nested(), essence),
          m.stripped());
    }
    requireNotJson(body, "is declared as " + essence);
    if (essence.equals("application/x-www-form-urlencoded")) {
      FormBodies.Parsed f = FormBodies.parse(body, rules, stripped);
      if (!rules.caseSensitiveNames()) {
        NameCollisions.requireDistinct(f.fields().verbatim().fieldNames(), "the form body");
      }
      return new Result(
          new CanonicalBody(BodyKind.FORM, f.fields().verbatim(), f.fields().nested(), essence),
          f.canonical() == null ? null : f.canonical().getBytes(StandardCharsets.US_ASCII));
    }
    if (type.type().equals("text")) {
      return new Result(new CanonicalBody(BodyKind.TEXT, text(body), null, essence), null);
    }
    if (!rules.opaqueBodies()) {
      throw new RequestRejectedException(415, "body_type_unsupported", "the proxy cannot read "
          + essence + " bodies, so the policy could not judge this one; send JSON, a form,"
          + " multipart/form-data or text, or allow opaque bodies on this route");
    }
    return new Result(new CanonicalBody(BodyKind.OPAQUE, null, null, essence), null);
  }

  /** A replacement body as a buffer. */
  static ByteBuf buffer(byte[] bytes) {
    return Unpooled.wrappedBuffer(bytes);
  }

  private static void requireNotJson(ByteBuf body, String declared)
      throws RequestRejectedException {
    if (JsonBodies.looksLikeJson(body)) {
      throw new RequestRejectedException(415, "body_type_mismatch", "the body is JSON but "
          + declared + "; an upstream that parses JSON whatever the type says would act on"
          + " fields the policy never saw, so send it as Content-Type: application/json");
    }
  }

  private static JsonNode text(ByteBuf body) throws RequestRejectedException {
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(body.nioBuffer())
          .toString();
    } catch (CharacterCodingException e) {
      throw new RequestRejectedException(400, "bad_encoding", "the text body is not UTF-8");
    }
    if (s.indexOf('\u0000') >= 0) {
      throw new RequestRejectedException(400, "bad_text_body", "the text body holds a NUL"
          + " character, where C-based parsers stop reading");
    }
    return TextNode.valueOf(s);
  }
}
