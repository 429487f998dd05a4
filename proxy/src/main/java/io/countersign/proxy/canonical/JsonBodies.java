package io.countersign.proxy.canonical;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/**
 * JSON bodies, read strictly as I-JSON (RFC 7493) so that every parser reads them alike, and the
 * sniffing rule for bodies that are JSON under another name. Thread-safe.
 */
final class JsonBodies {
  /**
   * No repeated keys, and numbers parsed exactly so that a value that a double cannot hold
   * (15.0000000000000001, 1e400, 2^53 + 1) is refused rather than judged as a different number
   * than the upstream reads.
   */
  private static final ObjectMapper STRICT =
      new ObjectMapper(
              JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

  /** Any JSON at all, for sniffing: duplicates allowed, numbers as they come. */
  private static final ObjectMapper LENIENT = new ObjectMapper();

  private static final BigInteger MAX_SAFE_INTEGER = BigInteger.valueOf((1L << 53) - 1);

  private JsonBodies() {}

  /**
   * Parses a non-empty body declared as JSON.
   *
   * @param caseTwinsRefused whether an object holding two names equal under case folding is
   *     refused ({@link NameCollisions}), checked in the same walk as the I-JSON rules
   * @throws RequestRejectedException 400 {@code bad_json_body}, {@code bad_json_number} or
   *     {@code name_case_collision}
   */
  static JsonNode parse(ByteBuf body, boolean caseTwinsRefused) throws RequestRejectedException {
    requireUtf8Start(body);
    try (JsonParser parser = STRICT.getFactory().createParser((InputStream) new ByteBufInputStream(body.duplicate()))) {
      JsonNode node = STRICT.readTree(parser);
      if (node == null || node.isMissingNode()) {
        throw new RequestRejectedException(
            400, "bad_json_body", "the body says it is JSON but holds no JSON value");
      }
      requireInteroperable(node, caseTwinsRefused);
      if (parser.nextToken() != null) {
        throw new RequestRejectedException(
            400, "bad_json_body", "the JSON body has content after its first value");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new RequestRejectedException(
          400,
          "bad_json_body",
          "the body says it is JSON but is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new RequestRejectedException(400, "bad_json_body", "the body cannot be read");
    }
  }

  /**
   * Whether a body declared as something else is a JSON object or array: an upstream that parses
   * bodies as JSON whatever their Content-Type (many do) would act on fields the policy was never
   * shown as fields. Only an object or array is taken as JSON, and only when the whole body parses.
   */
  static boolean looksLikeJson(ByteBuf body) {
    int i = body.readerIndex();
    int end = body.writerIndex();
    if (end - i >= 3 && body.getByte(i) == (byte) 0xEF && body.getByte(i + 1) == (byte) 0xBB
        && body.getByte(i + 2) == (byte) 0xBF) {
      i += 3; // a byte-order mark, which lenient parsers skip
    }
    while (i < end) {
      byte b = body.getByte(i);
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        break;
      }
      i++;
    }
    if (i == end || (body.getByte(i) != '{' && body.getByte(i) != '[')) {
      return false;
    }
    try (JsonParser parser = LENIENT.getFactory().createParser(
        (InputStream) new ByteBufInputStream(body.slice(i, end - i)))) {
      JsonNode node = LENIENT.readTree(parser);
      return node != null && node.isContainerNode() && parser.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * JSON text is UTF-8 (RFC 8259 8.1). Jackson would also accept a byte-order mark and detect
   * UTF-16 or UTF-32 from NUL bytes; other parsers refuse both, so the proxy does too.
   */
  private static void requireUtf8Start(ByteBuf body) throws RequestRejectedException {
    int i = body.readerIndex();
    int n = body.readableBytes();
    if (n >= 3 && body.getByte(i) == (byte) 0xEF && body.getByte(i + 1) == (byte) 0xBB
        && body.getByte(i + 2) == (byte) 0xBF) {
      throw new RequestRejectedException(400, "bad_json_body",
          "the JSON body starts with a byte-order mark, which parsers treat differently; send"
              + " UTF-8 without one (RFC 8259 8.1)");
    }
    if (body.getByte(i) == 0 || (n > 1 && body.getByte(i + 1) == 0)) {
      throw new RequestRejectedException(400, "bad_json_body",
          "the JSON body is not UTF-8 (it looks like UTF-16 or UTF-32); send UTF-8");
    }
    // Jackson decodes a UTF-16 byte-order mark and overlong UTF-8 sequences (C0 AE as '.');
    // Go's encoding/json and others refuse or replace them: the bytes must be strict UTF-8
    if (body.forEachByte(i, n, b -> b >= 0) >= 0 && !strictUtf8(body, i, n)) {
      throw new RequestRejectedException(400, "bad_json_body",
          "the JSON body is not valid UTF-8 (a byte-order mark, an overlong or broken sequence);"
              + " send UTF-8 (RFC 8259 8.1)");
    }
  }

  private static boolean strictUtf8(ByteBuf body, int from, int length) {
    try {
      java.nio.charset.StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(body.nioBuffer(from, length));
      return true;
    } catch (java.nio.charset.CharacterCodingException e) {
      return false;
    }
  }

  /**
   * I-JSON's other rules, checked on the parsed tree: numbers every parser reads alike, and no
   * string or member name holding a lone surrogate (\ud800), which parsers replace, keep or refuse.
   */
  private static void requireInteroperable(JsonNode node, boolean caseTwinsRefused)
      throws RequestRejectedException {
    if (node.isObject()) {
      if (caseTwinsRefused && node.size() > 1) {
        NameCollisions.requireDistinct(node.fieldNames(), "the JSON body");
      }
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        requireWholeCharacters(e.getKey());
        requireInteroperable(e.getValue(), caseTwinsRefused);
      }
      return;
    }
    if (node.isArray()) {
      for (JsonNode child : node) {
        requireInteroperable(child, caseTwinsRefused);
      }
      return;
    }
    if (node.isTextual()) {
      requireWholeCharacters(node.textValue());
      return;
    }
    if (!node.isNumber()) {
      return;
    }
    boolean exact;
    if (node.isBigInteger() || node.isIntegralNumber()) {
      exact = node.bigIntegerValue().abs().compareTo(MAX_SAFE_INTEGER) <= 0;
    } else {
      BigDecimal d = node.decimalValue();
      double asDouble = d.doubleValue();
      exact = Double.isFinite(asDouble) && new BigDecimal(Double.toString(asDouble)).compareTo(d) == 0;
    }
    if (!exact) {
      throw new RequestRejectedException(
          400,
          "bad_json_number",
          "the JSON body holds the number " + node.asText() + ", which parsers read differently;"
              + " send integers within +/-(2^53-1) and decimals a double holds exactly (RFC 7493)");
    }
  }

  private static void requireWholeCharacters(String s) throws RequestRejectedException {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new RequestRejectedException(400, "bad_json_body",
            "the JSON body holds a lone surrogate (\\u" + Integer.toHexString(c) + "), which"
                + " parsers replace, keep or refuse differently (RFC 7493 2.1)");
      }
    }
  }
}
