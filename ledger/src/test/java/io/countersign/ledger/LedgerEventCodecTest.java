package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LedgerEventCodecTest {

  @Test
  void wireFormIsOneLineWithTheEnvelopeInAFixedOrderAndThePayloadUnderBody() {
    String json = LedgerEventCodec.toJson(Events.completed("x-1", 201));
    assertEquals(
        "{\"v\":1,\"type\":\"exchange.completed\",\"exchange_id\":\"x-1\","
            + "\"time\":\"2026-11-25T10:00:01.123Z\","
            + "\"body\":{\"response\":{\"status\":201},\"latency_ms\":42}}",
        json);
  }

  @Test
  void bodyWithNewlinesAndUnicodeStaysOnOneLineAndRoundTrips() {
    LedgerEvent event = Events.decided("x-2", 7);
    String json = LedgerEventCodec.toJson(event);
    assertFalse(json.contains("\n"), json);
    assertEquals(event, LedgerEventCodec.fromJson(json));
  }

  @Test
  void printedFormPutsTheIndexFirstAndParsesBackToTheSameEvent() {
    LedgerEvent event = Events.completed("x-3", 200);
    String line = LedgerEventCodec.toJsonLine(new RecordedEvent(86_406_850_000_123L, event));
    assertTrue(line.startsWith("{\"index\":86406850000123,\"v\":1,"), line);
    assertEquals(event, LedgerEventCodec.fromJson(line));
  }

  @Test
  void unknownTypeIsReportedAsSuchAndNamesTheType() {
    var e =
        assertThrows(
            LedgerEventCodec.UnknownEventTypeException.class,
            () ->
                LedgerEventCodec.fromJson(
                    "{\"v\":1,\"type\":\"approval.granted\",\"exchange_id\":\"x\","
                        + "\"time\":\"2026-11-25T10:00:00Z\",\"body\":{}}"));
    assertEquals("approval.granted", e.typeName());
  }

  @Test
  void malformedDocumentsAreRejectedWithAReason() {
    String[][] cases = {
      {"not json", "not JSON"},
      {"[1]", "not a JSON object"},
      {"{\"type\":\"exchange.failed\"}", "\"v\""},
      {
        "{\"v\":2,\"type\":\"exchange.failed\",\"exchange_id\":\"x\",\"time\":\"2026-11-25T10:00:00Z\","
            + "\"body\":{}}",
        "unsupported envelope version 2"
      },
      {
        "{\"v\":1,\"type\":\"exchange.failed\",\"exchange_id\":\"x\",\"time\":\"yesterday\","
            + "\"body\":{}}",
        "ISO-8601"
      },
      {
        "{\"v\":1,\"type\":\"exchange.failed\",\"exchange_id\":\"x\",\"time\":\"2026-11-25T10:00:00Z\","
            + "\"body\":[]}",
        "\"body\""
      },
      {
        "{\"v\":1,\"v\":1,\"type\":\"exchange.failed\",\"exchange_id\":\"x\","
            + "\"time\":\"2026-11-25T10:00:00Z\",\"body\":{}}",
        "Duplicate field"
      },
    };
    for (String[] c : cases) {
      var e =
          assertThrows(IllegalArgumentException.class, () -> LedgerEventCodec.fromJson(c[0]), c[0]);
      assertFalse(e instanceof LedgerEventCodec.UnknownEventTypeException, c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
  }
}
