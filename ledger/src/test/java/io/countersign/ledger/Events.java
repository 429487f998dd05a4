package io.countersign.ledger;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Test events and helpers shared by the ledger tests. */
final class Events {
  static final Instant T0 = Instant.parse("2026-11-25T10:00:00.123Z");

  private Events() {}

  static LedgerEvent decided(String exchangeId, int n) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    ObjectNode request = body.putObject("request");
    request.put("method", "POST").put("route", "crm").put("path", "/crm/v3/deals/" + n);
    request.putObject("body").put("amount", 1200 + n).put("note", "ünïcødé \"quoted\"\nline");
    body.putObject("caller").put("agent", "sales-assistant").put("run", "r-" + n);
    body.putObject("decision").put("risk", "low").put("action", "allow");
    body.put("route", "crm");
    return LedgerEvent.of(EventType.EXCHANGE_DECIDED, exchangeId, T0.plusMillis(n), body);
  }

  static LedgerEvent completed(String exchangeId, int status) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.putObject("response").put("status", status);
    body.put("latency_ms", 42);
    return LedgerEvent.of(EventType.EXCHANGE_COMPLETED, exchangeId, T0.plusSeconds(1), body);
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
