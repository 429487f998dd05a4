package io.countersign.policy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What the proxy does with a request once the policy has judged it. */
public enum PolicyAction {
  /** Forward the canonical request upstream. */
  ALLOW,
  /** Refuse it with a 403 that says which rule and why. */
  DENY,
  /** Keep it until a human approves or denies it (or the hold times out). */
  HOLD;

  /** The lower-case name used in Rego decisions and the ledger. */
  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a wire name.
   *
   * @throws IllegalArgumentException naming the accepted values when {@code name} is not one
   */
  @JsonCreator
  public static PolicyAction fromWire(String name) {
    for (PolicyAction a : values()) {
      if (a.wireName().equals(name)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "unknown action '" + name + "' (expected allow, deny or hold)");
  }
}
