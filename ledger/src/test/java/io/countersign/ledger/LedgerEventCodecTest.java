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
            + "\"body\":{\"outcome\":\"forwarded\",\"status\":201,\"response\":{\"status\":201,"
            + "\"headers\":{},\"size\":2,\"body_sha256\":\"" + "cd".repeat(32) + "\"},"
            + "\"upstream_latency_us\":40,\"total_latency_us\":42}}",
        json);
  }

  @Test
  void aBodyIsReadBackAsTheRecordOfItsKindAndUnknownMembersAreIgnored() {
    LedgerEvent e = LedgerEventCodec.fromJson("{\"v\":1,\"type\":\"approval.expired\","
        + "\"exchange_id\":\"x-3\",\"time\":\"2026-11-25T10:00:00Z\",\"body\":{\"approval_id\":\"a-1\","
        + "\"digest\":\"sha256:00\",\"reason\":\"late\",\"added_by_a_later_version\":{\"x\":1}}}");
    assertEquals(new io.countersign.ledger.event.ApprovalExpired("a-1", "sha256:00", "late"), e.body());
  }

  @Test
  void aBodyThatDoesNotFitItsKindIsRefusedWithTheReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        LedgerEventCodec.fromJson("{\"v\":1,\"type\":\"exchange.completed\",\"exchange_id\":\"x\","
            + "\"time\":\"2026-11-25T10:00:00Z\",\"body\":{\"status\":\"not a number\"}}"));
    assertTrue(e.getMessage().startsWith("the body is not an exchange.completed body"), e.getMessage());
  }

  @Test
  void anEventsTypeIsTheKindOfItsBody() {
    assertThrows(IllegalArgumentException.class, () -> new LedgerEvent(1, EventType.EXCHANGE_FAILED,
        "x", Events.T0, Events.completed("x", 200).body()));
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
