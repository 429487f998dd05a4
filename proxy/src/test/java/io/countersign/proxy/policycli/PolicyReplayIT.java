package io.countersign.proxy.policycli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.ChronicleLedger;
import io.countersign.ledger.EventType;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.LedgerEventCodec;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.proxy.exchange.PolicyInputs;
import io.countersign.ledger.LedgerOptions;
import io.countersign.policy.Decision;
import io.countersign.policy.WasmEngine;
import io.countersign.proxy.support.PolicyVariant;
import io.countersign.proxy.support.ProxyFixture;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code countersign policy replay} over a real Chronicle ledger of 3000 exchanges recorded under
 * the project's policy (discount limit 15), against a candidate that lowers the limit to 10.
 */
class PolicyReplayIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EXCHANGES = 3000;
  private static final Instant T0 = Instant.parse("2026-11-25T09:00:00Z");

  @TempDir static Path tmp;
  static Path ledger;
  static Path candidate;
  static Set<String> discountsInTenToFifteen = new TreeSet<>();
  static int bodiesNotRecorded;

  @BeforeAll
  static void recordALedgerUnderTheCurrentPolicy() throws Exception {
    ledger = tmp.resolve("ledger");
    candidate = PolicyVariant.of(Files.createDirectories(tmp.resolve("candidate")),
        c -> ((ObjectNode) c.get("limits")).put("crm.deal_discount_pct", 10));
    try (WasmEngine current = WasmEngine.fromDirectory(
            ProxyFixture.opaBinary(), ProxyFixture.regoDir(), Files.createDirectories(tmp.resolve("build")));
        ChronicleLedger journal = ChronicleLedger.open(ledger, LedgerOptions.defaults())) {
      List<CompletableFuture<Long>> writes = new ArrayList<>();
      for (int i = 0; i < EXCHANGES; i++) {
        String id = String.format("ex-%05d", i);
        ObjectNode body = exchange(i);
        body.putObject("decision");
        // The recorded decision is the one the current policy makes on what the ledger keeps.
        Decision d = current.evaluate(PolicyInputs.recorded(id, i, T0,
                (ExchangeDecided) typed(EventType.EXCHANGE_DECIDED, id, T0, body).body()).input())
            .toCompletableFuture().join();
        ObjectNode decision = body.putObject("decision");
        decision.put("risk", d.risk().wireName());
        decision.put("action", d.action().wireName());
        d.reasons().forEach(decision.putArray("reasons")::add);
        decision.put("rule", d.rule());
        decision.put("revision", d.revision());
        decision.put("engine", "wasm");
        decision.set("obligations", d.obligations());
        Instant at = T0.plusMillis(i * 7L);
        writes.add(journal.append(typed(EventType.EXCHANGE_DECIDED, id, at, body)).toCompletableFuture());
        if (i % 10 == 0) {
          ObjectNode outcome = JSON.createObjectNode().put("outcome", "forwarded").put("status", 200);
          writes.add(journal.append(typed(EventType.EXCHANGE_COMPLETED, id, at.plusMillis(3), outcome))
              .toCompletableFuture());
        }
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
    }
  }

  /** An event from its JSON body, read as the ledger reads what it stored. */
  private static LedgerEvent typed(EventType type, String id, Instant at, ObjectNode body) {
    ObjectNode line = JSON.createObjectNode().put("v", 1).put("type", type.wireName())
        .put("exchange_id", id).put("time", at.toString());
    line.set("body", body);
    return LedgerEventCodec.fromJson(line.toString());
  }

  // The shape ExchangeRecords.decided writes; a mix of reads, discounts, refunds and deletes.
  private static ObjectNode exchange(int i) {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode req = JSON.createObjectNode();
    ObjectNode caller = JSON.createObjectNode().put("agent", "sales-assistant");
    String route = "crm";
    String method;
    String target;
    ObjectNode payload = null;
    long size = 0;
    switch (i % 6) {
      case 0 -> {
        method = "GET";
        target = "/v3/deals/" + i + "?limit=10&q=a%20b";
      }
      case 1, 2 -> {
        method = "PATCH";
        target = "/v3/deals/" + i;
        BigDecimal pct = BigDecimal.valueOf(i % 41).multiply(BigDecimal.valueOf(5, 1)); // 0 .. 20 by 0.5
        payload = JSON.createObjectNode().put("discount_pct", pct);
        if (i % 6 == 2) {
          caller.put("workflow", "quote-prep").put("tool", "update_deal").put("account", "acme");
        }
        if (pct.compareTo(BigDecimal.TEN) > 0 && pct.compareTo(BigDecimal.valueOf(15)) <= 0) {
          discountsInTenToFifteen.add(String.format("ex-%05d", i));
        }
      }
      case 3 -> {
        route = "billing";
        method = "POST";
        target = "/v1/refunds";
        payload = JSON.createObjectNode().put("amount", i % 500);
      }
      case 4 -> {
        method = "DELETE";
        target = "/v3/deals/" + i;
      }
      default -> {
        // A body the ledger kept only as a digest: replayed as null.
        method = "DELETE";
        target = "/v3/deals/" + i;
        size = 12;
        bodiesNotRecorded++;
      }
    }
    req.put("method", method);
    req.put("path", "/" + route + target.split("\\?")[0]);
    req.put("upstream", "http://127.0.0.1:9000");
    req.put("upstream_target", target);
    req.put("query", target.contains("?") ? target.substring(target.indexOf('?') + 1) : null);
    req.putObject("headers").put("content-type", "application/json");
    if (payload != null) {
      size = payload.toString().length();
      req.set("body", payload);
    }
    req.put("size", size);
    req.put("body_sha256", "00");
    body.put("route", route);
    body.set("request", req);
    body.set("caller", caller);
    body.put("received_at", T0.plusMillis(i * 7L).toString());
    return body;
  }

  private static Set<String> changedIds(String out) {
    return Arrays.stream(out.split("\n"))
        .filter(l -> l.startsWith("ex-"))
        .map(l -> l.split("\\s+")[0])
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void replayFindsExactlyTheDiscountsThatALowerLimitMoves() {
    long start = System.nanoTime();
    PolicyCli.Run r = PolicyCli.run("replay", "--ledger", ledger.toString(), "--policy", candidate.toString(),
        "--opa", ProxyFixture.opaBinary().toString());
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(1, r.code(), "the changes were not marked expected\n" + r);
    assertTrue(discountsInTenToFifteen.size() > 100, "the ledger has discounts in (10, 15]");
    assertEquals(discountsInTenToFifteen, changedIds(r.out()), r.toString());
    assertTrue(r.out().startsWith("replayed " + EXCHANGES + " exchanges from " + ledger), r.toString());
    assertTrue(r.out().contains(bodiesNotRecorded + " exchanges had a body not recorded"), r.toString());
    int n = discountsInTenToFifteen.size();
    assertTrue(r.out().contains(n + " changed (0 expected, " + n + " unexpected)"), r.toString());
    assertTrue(r.out().contains("allow low crm.deal_update  hold high crm.deal_discount_over_limit  NO"), r.toString());
    assertTrue(millis < 60_000, "replaying " + EXCHANGES + " exchanges took " + millis + " ms");
  }

  @Test
  void replayPassesWhenTheRuleMoveIsExpected() throws Exception {
    Path expect = tmp.resolve("expected.txt");
    Files.writeString(expect, "# limit 15 -> 10\ncrm.deal_update -> crm.deal_discount_over_limit\n");
    PolicyCli.Run r = PolicyCli.run("replay", "--ledger", ledger.toString(), "--policy", candidate.toString(),
        "--opa", ProxyFixture.opaBinary().toString(), "--expect", expect.toString());
    assertEquals(0, r.code(), r.toString());
    int n = discountsInTenToFifteen.size();
    assertTrue(r.out().contains(n + " changed (" + n + " expected, 0 unexpected)"), r.toString());
  }

  @Test
  void replayAgainstTheRecordingPolicyChangesNothingOnTheOpaEngine() {
    PolicyCli.Run r = PolicyCli.run("replay", "--ledger", ledger.toString(), "--policy",
        ProxyFixture.regoDir().toString(), "--engine", "opa", "--opa", ProxyFixture.opaBinary().toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("0 changed (0 expected, 0 unexpected)"), r.toString());
  }

  @Test
  void replayOfAMissingLedgerSaysSo() {
    PolicyCli.Run r = PolicyCli.run("replay", "--ledger", tmp.resolve("nothing").toString(), "--policy",
        candidate.toString(), "--opa", ProxyFixture.opaBinary().toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("no ledger at"), r.toString());
  }
}
