package io.countersign.policy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The four risk classes a policy maps every request to. */
public enum RiskClass {
  /** Reads nothing it may not read and changes nothing. */
  READ_ONLY("read_only"),
  /** Prepares a change (a draft, a note) that a human still has to act on. */
  DRAFT("draft"),
  /** Executes a change that is small and easy to undo. */
  LOW("low"),
  /** Irreversible, financial, legal or customer-facing: needs a human approval. */
  HIGH("high");

  private final String wireName;

  RiskClass(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in Rego decisions, the ledger and metrics. */
  @JsonValue
  public String wireName() {
    return wireName;
  }

  /**
   * Parses a wire name.
   *
   * @throws IllegalArgumentException naming the accepted values when {@code name} is not one
   */
  @JsonCreator
  public static RiskClass fromWire(String name) {
    for (RiskClass r : values()) {
      if (r.wireName.equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown risk class '" + name + "' (expected read_only, draft, low or high)");
  }
}
