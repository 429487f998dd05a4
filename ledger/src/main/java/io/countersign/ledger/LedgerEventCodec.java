package io.countersign.ledger;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.event.EventBody;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;

/**
 * The one place that turns a {@link LedgerEvent} into its wire form and back. The wire form is one
 * line of JSON with the envelope fields in a fixed order, then the payload under {@code body}:
 *
 * <pre>
 * {"v":1,"type":"exchange.decided","exchange_id":"x-1","time":"2026-11-25T10:00:00.123Z","body":{...}}
 * </pre>
 *
 * <p>Readers print the same form with the journal index in front ({@link #toJsonLine}). {@code
 * docs/ledger.md} documents the format; changing it means a new {@link LedgerEvent#SCHEMA_VERSION}.
 *
 * <p>Thread-safe: it holds only a configured, immutable Jackson mapper.
 */
public final class LedgerEventCodec {

  /** Envelope field: the schema version. */
  public static final String FIELD_VERSION = "v";

  /** Envelope field: the event kind's wire name. */
  public static final String FIELD_TYPE = "type";

  /** Envelope field: the exchange id. */
  public static final String FIELD_EXCHANGE_ID = "exchange_id";

  /** Envelope field: the event time, ISO-8601 in UTC. */
  public static final String FIELD_TIME = "time";

  /** Envelope field: the payload object. */
  public static final String FIELD_BODY = "body";

  /** Added by readers, first on the line: the journal index. */
  public static final String FIELD_INDEX = "index";

  // Duplicate keys are rejected: a ledger line that means two things must not be read as one.
  // Bodies are records: members in snake_case, absent when null; members a reader does not know
  // are ignored (a later version may add some).
  private static final ObjectMapper MAPPER =
      new ObjectMapper(
              JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private LedgerEventCodec() {}

  /** Envelope field, after the body: the JSON paths (in the body) whose values were redacted. */
  public static final String FIELD_REDACTED = "redacted";

  /** Chain field: the event's position in the hash chain, from 0. */
  public static final String FIELD_SEQ = "seq";

  /** Chain field: the seal of the previous event. */
  public static final String FIELD_PREV = "prev";

  /** The event's wire form: one line of JSON, no trailing newline. */
  public static String toJson(LedgerEvent event) {
    return write(null, event, null, List.of());
  }

  /**
   * The wire form in UTF-8 with the paths that were redacted, before it is sealed into the chain:
   * the bytes of {@link #toJson(LedgerEvent)}'s text (plus {@code redacted}), written straight to
   * bytes because that is what the journal stores.
   */
  static byte[] toUtf8(LedgerEvent event, List<String> redacted) {
    LineBuffer out = new LineBuffer(1024);
    toUtf8(event, null, redacted, out);
    return out.toByteArray();
  }

  /**
   * As {@link #toUtf8(LedgerEvent, List)}, into {@code out} (cleared first), with no copy. When
   * {@code redactedBody} is given it is written instead of the event's body (the body with secrets
   * replaced, {@link Redactor}).
   */
  static void toUtf8(LedgerEvent event, ObjectNode redactedBody, List<String> redacted, LineBuffer out) {
    out.clear();
    try (JsonGenerator g = MAPPER.getFactory().createGenerator(out.asOutputStream(), JsonEncoding.UTF8)) {
      write(g, null, event, redactedBody, redacted);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode ledger event " + event.exchangeId(), e);
    }
  }

  /**
   * A body, or a part of one (a {@code DecisionRecord} ...), as a JSON tree in its wire form: for
   * redaction, and for views built on the journaled form.
   */
  public static ObjectNode tree(Object bodyOrPart) {
    return MAPPER.valueToTree(bodyOrPart);
  }

  /**
   * The printed form: the stored line (chain members included) with {@code "index"} as its first
   * field, in decimal; for an event never stored, its wire form with the index.
   */
  public static String toJsonLine(RecordedEvent recorded) {
    String stored = recorded.stored();
    if (stored != null && stored.length() > 2 && stored.charAt(0) == '{') {
      return "{\"" + FIELD_INDEX + "\":" + recorded.index() + "," + stored.substring(1);
    }
    return write(recorded.index(), recorded.event(), null, List.of());
  }

  /**
   * Parses a wire form (or a printed form: a leading {@code "index"} and any other field the
   * envelope does not know are ignored, so later envelopes may add fields).
   *
   * @throws UnknownEventTypeException when the envelope is valid but its type is not one this code
   *     knows (readers skip those)
   * @throws IllegalArgumentException when the text is not a version-1 ledger event, with the reason
   */
  public static LedgerEvent fromJson(String json) {
    return fromTree(tree(json));
  }

  /**
   * Parses JSON text into a tree, duplicate keys rejected.
   *
   * @throws IllegalArgumentException when it is not one JSON object
   */
  static JsonNode tree(String json) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    return root;
  }

  /** As {@link #fromJson}, from a parsed tree. */
  static LedgerEvent fromTree(JsonNode root) {
    JsonNode v = root.get(FIELD_VERSION);
    if (v == null || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("missing or non-integer \"v\"");
    }
    if (!v.canConvertToInt() || v.asInt() != LedgerEvent.SCHEMA_VERSION) {
      throw new IllegalArgumentException(
          "unsupported envelope version "
              + v.asText()
              + " (this reader knows "
              + LedgerEvent.SCHEMA_VERSION
              + ")");
    }
    String typeName = requiredText(root, FIELD_TYPE);
    String exchangeId = requiredText(root, FIELD_EXCHANGE_ID);
    String timeText = requiredText(root, FIELD_TIME);
    JsonNode body = root.get(FIELD_BODY);
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("missing or non-object \"body\"");
    }
    Instant time;
    try {
      time = Instant.parse(timeText);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("\"time\" is not an ISO-8601 instant: " + timeText, e);
    }
    EventType type;
    try {
      type = EventType.fromWire(typeName);
    } catch (IllegalArgumentException e) {
      throw new UnknownEventTypeException(typeName);
    }
    EventBody typed;
    try {
      typed = MAPPER.treeToValue(body, type.bodyType());
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "the body is not an " + typeName + " body: " + rootMessage(e), e);
    }
    return new LedgerEvent(v.asInt(), type, exchangeId, time, typed);
  }

  private static String rootMessage(Exception e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(e.getMessage());
  }

  private static String requiredText(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw new IllegalArgumentException("missing or non-string \"" + field + "\"");
    }
    return n.textValue();
  }

  private static String write(Long index, LedgerEvent event, ObjectNode redactedBody, List<String> redacted) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
      write(g, index, event, redactedBody, redacted);
    } catch (IOException e) {
      // A StringWriter does not fail; a body Jackson cannot write is a programming error.
      throw new UncheckedIOException("cannot encode ledger event " + event.exchangeId(), e);
    }
    return out.toString();
  }

  private static void write(JsonGenerator g, Long index, LedgerEvent event, ObjectNode redactedBody,
      List<String> redacted) throws IOException {
    g.writeStartObject();
    if (index != null) {
      g.writeNumberField(FIELD_INDEX, index);
    }
    g.writeNumberField(FIELD_VERSION, event.version());
    g.writeStringField(FIELD_TYPE, event.type().wireName());
    g.writeStringField(FIELD_EXCHANGE_ID, event.exchangeId());
    g.writeStringField(FIELD_TIME, InstantText.format(event.time()));
    g.writeFieldName(FIELD_BODY);
    if (redactedBody != null) {
      MAPPER.writeTree(g, redactedBody);
    } else {
      MAPPER.writeValue(g, event.body());
    }
    if (!redacted.isEmpty()) {
      g.writeArrayFieldStart(FIELD_REDACTED);
      for (String path : redacted) {
        g.writeString(path);
      }
      g.writeEndArray();
    }
    g.writeEndObject();
  }

  /** Reading a document whose envelope names an event kind this code does not know. */
  public static final class UnknownEventTypeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String typeName;

    UnknownEventTypeException(String typeName) {
      super("unknown ledger event type '" + typeName + "'");
      this.typeName = typeName;
    }

    /** The unknown wire name. */
    public String typeName() {
      return typeName;
    }
  }
}
