package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.ledger.EventType;
import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.LedgerVerifier;
import io.countersign.ledger.RecordedEvent;
import io.countersign.ledger.event.ApprovalOpened;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.policy.eval.RecordedExchange;
import io.countersign.proxy.config.ProxyConfig;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.exchange.PolicyInputs;
import io.countersign.proxy.support.AdminClient;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A ledger written by main before the event bodies became typed records (the fixture, see
 * {@code src/test/resources/fixtures/README.md}) still verifies, reads back as typed events,
 * replays, and restores its pending holds, which then execute exactly once.
 */
class LedgerCompatibilityIT {
  private static final String PENDING_CRM = "912e26a0-c20a-4863-940b-0b67e5b39c58";
  private static final String PENDING_BILLING = "ffb52ff6-7af1-4134-aa28-227c31d4d87b";

  @TempDir Path tmp;
  private Path ledger;

  @BeforeEach
  void unpackTheFixture() throws Exception {
    Path archive = Path.of(getClass().getResource("/fixtures/ledger-main-f4926e5.tar.gz").toURI());
    Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", tmp.toString())
        .inheritIO().start();
    assertTrue(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0, "tar could not unpack the fixture");
    ledger = tmp.resolve("ledger");
  }

  @Test
  void theOldLedgerVerifiesAndEveryEventReadsBackTyped() {
    LedgerVerifier.Report report = LedgerVerifier.verify(ledger, null, null);
    assertTrue(report.intact(), String.valueOf(report.firstBreak()));
    assertEquals(45, report.documents());
    List<RecordedEvent> events = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    try (LedgerReader reader = LedgerReader.open(ledger)) {
      reader.forEach(events::add, s -> skipped.add(s.index() + ": " + s.reason()));
    }
    assertEquals(List.of(), skipped);
    assertEquals(45, events.size());
    for (RecordedEvent e : events) {
      assertEquals(e.event().type().bodyType(), e.event().body().getClass());
    }
    ExchangeDecided first = events.get(0).event().bodyAs(ExchangeDecided.class);
    assertEquals("quote-prep", first.caller().workflow());
    assertEquals(List.of("doc-1", "doc-2"), first.caller().contextRefs());
    assertEquals("boundary.tool_not_allowed", first.decision().rule());
    ApprovalOpened pending = events.stream().map(e -> e.event().bodyAs(ApprovalOpened.class))
        .filter(o -> o != null && o.approvalId().equals(PENDING_CRM)).findFirst().orElseThrow();
    assertEquals("async", pending.mode());
    assertEquals("sales-managers", pending.terms().group());
    assertEquals(EventType.EXCHANGE_FAILED, events.get(44).event().type());
  }

  @Test
  void theOldLedgerReplaysAgainstTheSamePolicyWithoutAChange() {
    List<RecordedExchange> replayed = new ArrayList<>();
    try (LedgerReader reader = LedgerReader.open(ledger)) {
      reader.forEach(r -> {
        ExchangeDecided d = r.event().bodyAs(ExchangeDecided.class);
        if (d != null) {
          replayed.add(PolicyInputs.recorded(r.event().exchangeId(), r.index(), r.event().time(), d));
        }
      });
    }
    assertEquals(13, replayed.size());
    assertEquals(Map.of("b", List.of("2"), "a", List.of("1")), replayed.get(0).input().request().query());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new PolicyCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute("replay", "--ledger", ledger.toString(), "--policy",
        ProxyFixture.regoDir().toString(), "--opa", ProxyFixture.opaBinary().toString());
    assertEquals(0, code, out + "\n" + err);
    assertTrue(out.toString().startsWith("replayed 13 exchanges"), out.toString());
    assertTrue(out.toString().contains("0 changed (0 expected, 0 unexpected)"), out.toString());
  }

  @Test
  void theOldLedgersPendingHoldsAreRestoredAndRunExactlyOnceWhenApproved() throws Exception {
    Path approvers = ApprovalsIT.approversFile(tmp);
    try (LoopbackUpstream upstream = new LoopbackUpstream()) {
      ProxyConfig base = ProxyFixture.config(Engine.WASM, null, upstream.url(), ledger,
          ProxyFixture.upstreamSettings(Duration.ofSeconds(5)), ProxyFixture.limits());
      // the fixture's holds expire 30 minutes after it was written: run the proxy at that time
      Clock then = Clock.offset(Clock.systemUTC(),
          Duration.between(Instant.now(), Instant.parse("2026-12-02T19:06:00Z")));
      try (ProxyFixture p = ProxyFixture.start(ProxyFixture.withApprovals(base,
          ProxyFixture.approvals(approvers)), then)) {
        List<String> pending = p.server().approvals().pending(a -> true).stream()
            .map(a -> a.id()).sorted().toList();
        assertEquals(List.of(PENDING_CRM, PENDING_BILLING), pending);
        AdminClient admin = new AdminClient(p.server().adminAddress());
        String digest = admin.digest(PENDING_CRM, ApprovalsIT.MARIA);
        assertEquals("self_approval", ProxyFixture.json(admin.vote(PENDING_CRM, "approve",
            ApprovalsIT.ANA, "mine", digest).body()).path("error").asText(),
            "the restored hold still knows who asked");
        assertEquals(200, admin.vote(PENDING_CRM, "approve", ApprovalsIT.MARIA, "restored and fine",
            digest).statusCode());
        assertEquals(200, admin.vote(PENDING_BILLING, "deny", ApprovalsIT.FRANK, "no",
            admin.digest(PENDING_BILLING, ApprovalsIT.FRANK)).statusCode());
        p.awaitTicket(PENDING_CRM, 200);
        assertEquals(1, upstream.received().size());
        assertEquals("{\"discount_pct\": 35}", upstream.received().get(0).body());
        assertEquals("/v3/deals/45", upstream.received().get(0).target());
        assertEquals("Bearer " + ProxyFixture.CRM_TOKEN, upstream.received().get(0).headers().get("authorization"));
        String exchange = p.server().approvals().get(PENDING_CRM).orElseThrow().exchangeId();
        assertEquals(List.of("exchange.decided", "approval.opened", "approval.refused",
            "approval.approved", "approval.executing", "exchange.completed"),
            p.ledger(exchange).stream().map(e -> e.path("type").asText()).toList());
      }
      LedgerVerifier.Report report = LedgerVerifier.verify(ledger, null, null);
      assertTrue(report.intact(), "old and new events form one chain: " + report.firstBreak());
    }
  }
}
