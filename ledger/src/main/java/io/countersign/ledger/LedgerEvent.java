package io.countersign.ledger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Objects;

/**
 * One journal entry. The envelope is typed; the body is the event's JSON payload (for example the
 * canonical request and decision of an {@link EventType#EXCHANGE_DECIDED}). Its JSON form, one line
 * per event, is documented in {@code docs/ledger.md}.
 *
 * @param version the schema version of the envelope ({@link #SCHEMA_VERSION} when written)
 * @param type the kind of event
 * @param exchangeId the exchange this event belongs to
 * @param time when the event happened (from the proxy's clock)
 * @param body the payload
 */
public record LedgerEvent(
    int version, EventType type, String exchangeId, Instant time, ObjectNode body) {

  /** The envelope version this code writes. */
  public static final int SCHEMA_VERSION = 1;

  /** Validates the envelope. */
  public LedgerEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(exchangeId, "exchangeId");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(body, "body");
  }

  /** A new event at the current schema version. */
  public static LedgerEvent of(EventType type, String exchangeId, Instant time, ObjectNode body) {
    return new LedgerEvent(SCHEMA_VERSION, type, exchangeId, time, body);
  }
}
