package io.countersign.ledger;

import io.countersign.ledger.event.EventBody;
import java.time.Instant;
import java.util.Objects;

/**
 * One journal entry: a typed envelope around a typed body (one record per kind, in {@code
 * io.countersign.ledger.event}). Its JSON form, one line per event, is documented in {@code
 * docs/ledger.md}.
 *
 * @param version the schema version of the envelope ({@link #SCHEMA_VERSION} when written)
 * @param type the kind of event; always the kind of {@code body}
 * @param exchangeId the exchange this event belongs to
 * @param time when the event happened (from the proxy's clock)
 * @param body the payload
 */
public record LedgerEvent(int version, EventType type, String exchangeId, Instant time, EventBody body) {

  /** The envelope version this code writes. */
  public static final int SCHEMA_VERSION = 1;

  /** Validates the envelope: every member present, and the type is the body's. */
  public LedgerEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(exchangeId, "exchangeId");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(body, "body");
    if (type.bodyType() != body.getClass()) {
      throw new IllegalArgumentException(
          "a " + type.wireName() + " event cannot carry a " + body.getClass().getSimpleName());
    }
  }

  /** A new event at the current schema version; its type is the body's. */
  public static LedgerEvent of(String exchangeId, Instant time, EventBody body) {
    return new LedgerEvent(SCHEMA_VERSION, EventType.of(body), exchangeId, time, body);
  }

  /** The body as {@code type}, or null when it is another kind. */
  public <T extends EventBody> T bodyAs(Class<T> kind) {
    return kind.isInstance(body) ? kind.cast(body) : null;
  }
}
