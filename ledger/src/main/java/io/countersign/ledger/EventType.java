package io.countersign.ledger;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The kinds of ledger event. New kinds are added, never renamed: readers skip unknown kinds. */
public enum EventType {
  /**
   * Intent: the canonical request, the caller and the decision, appended before anything leaves.
   */
  EXCHANGE_DECIDED("exchange.decided"),
  /** Outcome: what was forwarded and what came back (or the deny that was answered). */
  EXCHANGE_COMPLETED("exchange.completed"),
  /** Outcome: the request was forwarded but no usable response came (upstream down, timeout). */
  EXCHANGE_FAILED("exchange.failed"),
  /** The request was refused before any policy saw it (bad input, unknown route), and why. */
  EXCHANGE_REJECTED("exchange.rejected");

  private final String wireName;

  EventType(String wireName) {
    this.wireName = wireName;
  }

  /** The name written to the journal. */
  @JsonValue
  public String wireName() {
    return wireName;
  }

  /**
   * Parses a wire name.
   *
   * @throws IllegalArgumentException when {@code name} is not a known kind
   */
  @JsonCreator
  public static EventType fromWire(String name) {
    for (EventType t : values()) {
      if (t.wireName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown ledger event type '" + name + "'");
  }
}
