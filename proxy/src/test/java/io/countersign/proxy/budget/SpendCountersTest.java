package io.countersign.proxy.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.countersign.proxy.canonical.CallerIdentity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpendCountersTest {
  private static final CallerIdentity CALLER =
      new CallerIdentity("sales-assistant", "quote-prep", null, null, "acme", null, null, List.of());
  private static final Instant NOON = Instant.parse("2026-12-03T12:00:00Z");

  @Test
  void moneyIsCountedPerCurrencyBesideTheCosts() {
    SpendCounters s = new SpendCounters();
    assertFalse(s.snapshot(CALLER, NOON).containsKey("agent_usd_micros_today"), "no currency yet");
    s.add(CALLER, NOON, 1);
    s.addMoney(CALLER, NOON, "usd", 450_000);
    s.addMoney(CALLER, NOON.plusSeconds(60), "usd", 50_000);
    s.addMoney(CALLER, NOON, "eur", 7);
    Map<String, Long> seen = s.snapshot(CALLER, NOON.plusSeconds(120));
    assertEquals(1L, seen.get("agent_today"));
    assertEquals(500_000L, seen.get("agent_usd_micros_today"));
    assertEquals(500_000L, seen.get("workflow_usd_micros_today"));
    assertEquals(500_000L, seen.get("account_usd_micros_today"));
    assertEquals(7L, seen.get("account_eur_micros_today"));
  }

  @Test
  void yesterdaysMoneyIsSpent() {
    SpendCounters s = new SpendCounters();
    s.addMoney(CALLER, NOON, "usd", 450_000);
    s.addMoney(CALLER, NOON.plusSeconds(86_400), "usd", 1);
    assertEquals(1L, s.snapshot(CALLER, NOON.plusSeconds(86_400)).get("agent_usd_micros_today"));
  }
}
