package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;

/** Normalizing JSON members of event records. */
final class Json {
  private Json() {}

  /** {@code null} for a missing or JSON-null node, else the node. */
  static JsonNode orNull(JsonNode n) {
    return n == null || n.isNull() || n.isMissingNode() ? null : n;
  }
}
