package io.countersign.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeCompleted;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.RequestRecord;
import io.countersign.ledger.event.ResponseRecord;
import java.util.function.BooleanSupplier;

/** Test events and helpers shared by the ledger tests. */
final class Events {
  static final Instant T0 = Instant.parse("2026-11-25T10:00:00.123Z");

  private Events() {}

  static LedgerEvent decided(String exchangeId, int n) {
    return decided(exchangeId, n, Map.of(), body(n), null, null, "low", null, null);
  }

  /** A decided event with every member a test may vary. */
  static LedgerEvent decided(String exchangeId, int n, Map<String, String> headers, ObjectNode body,
      String account, JsonNode obligations, String risk, String rule, String revision) {
    RequestRecord request = new RequestRecord("POST", "/crm/v3/deals/" + n, "https://crm.example",
        "/v3/deals/" + n, null, headers, null, 42, "ab".repeat(32), body);
    Caller caller = new Caller("sales-assistant", null, "r-" + n, null, account, null, null, null);
    DecisionRecord decision = new DecisionRecord(risk, "allow", List.of(), rule, revision, "wasm",
        null, obligations);
    return LedgerEvent.of(exchangeId, T0.plusMillis(n),
        new ExchangeDecided("crm", request, caller, decision, null, 120, T0.toString()));
  }

  static ObjectNode body(int n) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("amount", 1200 + n).put("note", "ünïcødé \"quoted\"\nline");
    return body;
  }

  static LedgerEvent completed(String exchangeId, int status) {
    return completed(exchangeId, status, "forwarded", Map.of(), null);
  }

  /** A completed event with every member a test may vary. */
  static LedgerEvent completed(String exchangeId, int status, String outcome,
      Map<String, String> headers, JsonNode body) {
    ResponseRecord response = new ResponseRecord(status, headers, 2, "cd".repeat(32), body);
    return LedgerEvent.of(exchangeId, T0.plusSeconds(1),
        new ExchangeCompleted(outcome, status, response, 40L, 42, null));
  }

  static List<RecordedEvent> readAll(Path dir) {
    List<RecordedEvent> all = new ArrayList<>();
    try (LedgerReader reader = LedgerReader.open(dir)) {
      reader.forEach(all::add);
    }
    return all;
  }

  /** Waits for a condition without sleeping a fixed time; fails after the deadline. */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }
}
