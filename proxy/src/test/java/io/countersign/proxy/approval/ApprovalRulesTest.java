package io.countersign.proxy.approval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.countersign.ledger.event.ApprovalApproved;
import io.countersign.ledger.event.ApprovalDenied;
import io.countersign.ledger.event.ApprovalExecuting;
import io.countersign.ledger.event.ApprovalExpired;
import io.countersign.ledger.event.ApprovalOpened;
import io.countersign.ledger.event.ApprovalRefused;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.QueryCanonicalizer;
import io.countersign.proxy.config.ConfigException;
import io.countersign.proxy.route.Route;
import io.countersign.proxy.support.ManualTime;
import io.countersign.proxy.support.MemoryLedger;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The approval rules against an in-memory ledger and fake time: group, digest, self-approval,
 * quorum, single use, expiry, escalation, late votes, fail closed. No sleeps; each test runs in
 * milliseconds.
 */
class ApprovalRulesTest {
  private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
  private static final Approver MARIA = new Approver("maria@example.com", Set.of("sales-managers"));
  private static final Approver BOB = new Approver("bob@example.com", Set.of("sales-managers", "finance"));
  private static final Approver FRANK = new Approver("frank@example.com", Set.of("finance"));
  private static final Approver ANA = new Approver("ana@example.com", Set.of("sales-managers"));
  private static final DecisionRecord HOLD = new DecisionRecord("high", "hold",
      List.of("discount above the limit"), "crm.deal_discount_over_limit", "rev-1", "wasm", null,
      JsonNodeFactory.instance.objectNode());

  private final ManualTime time = new ManualTime(T0);
  private final MemoryLedger ledger = new MemoryLedger();
  private final List<String> notified = new ArrayList<>();
  private final ApprovalStore store = new ApprovalStore(ledger, time.clock(), time,
      new HoldBounds(2, 2, 100, 60), List.of((a, group) -> notified.add(group + "@" + time.now())),
      List.of("owner@example.com"));
  private final List<CanonicalRequest> requests = new ArrayList<>();

  @AfterEach
  void releaseBodies() {
    requests.stream().filter(r -> r.body().refCnt() > 0).forEach(CanonicalRequest::release);
  }

  private CanonicalRequest request(String onBehalfOf) {
    return request(onBehalfOf, "quote-prep", "{\"discount_pct\":30}");
  }

  private CanonicalRequest request(String onBehalfOf, String workflow, String body) {
    Route crm = new Route("crm", "/crm", Route.UpstreamTarget.parse("http://127.0.0.1:9"), null);
    CanonicalRequest r = new CanonicalRequest("PATCH", crm, "/crm/v3/deals/42", "/v3/deals/42",
        new QueryCanonicalizer.CanonicalQuery(null, Map.of()), List.of(Map.entry("content-type",
            "application/json")), Unpooled.copiedBuffer(body, StandardCharsets.UTF_8),
        null, "digest-of-body", new CallerIdentity("sales-assistant", workflow, "r-1", onBehalfOf,
            "acme", null, null, null), false);
    requests.add(r);
    return r;
  }

  private static ApprovalTerms terms(int quorum, String escalateTo, Duration escalateAfter) {
    return new ApprovalTerms("sales-managers", quorum, Duration.ofMinutes(30), "deny", escalateTo,
        escalateAfter);
  }

  private PendingApproval open(ApprovalTerms terms, String onBehalfOf) {
    return join(store.open("x-1", HoldMode.ASYNC, terms, request(onBehalfOf), HOLD));
  }

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  /** The refusal's code of a vote that must fail. */
  private static String refused(CompletionStage<?> s) {
    CompletionException e = assertThrows(CompletionException.class, () -> join(s));
    return ((ApprovalRefusedException) e.getCause()).code();
  }

  @Test
  void anApprovalFromTheRightGroupNamingTheDigestResolvesTheHoldApproved() {
    PendingApproval a = open(terms(1, null, null), "ana@example.com");
    assertEquals(List.of("sales-managers@" + T0), notified);
    assertEquals(ApprovalStatus.PENDING, a.status());
    join(store.approve(a.id(), MARIA, "strategic customer", a.digest()));
    assertEquals(ApprovalStatus.APPROVED, a.status());
    PendingApproval.Resolution r = a.resolution().join();
    assertEquals(List.of("maria@example.com"), r.by());
    assertEquals(1, ledger.bodies(ApprovalOpened.class).size());
    ApprovalApproved vote = ledger.bodies(ApprovalApproved.class).get(0);
    assertTrue(vote.resolved());
    assertEquals("strategic customer", vote.reason());
    assertEquals(0, store.openCount(HoldMode.ASYNC));
  }

  @Test
  void someoneOutsideTheGroupIsRefusedFirstAndTheRefusalIsJournaled() {
    PendingApproval a = open(terms(1, null, null), null);
    assertEquals("wrong_group", refused(store.approve(a.id(), FRANK, "not mine", "wrong digest too")));
    ApprovalRefused r = ledger.bodies(ApprovalRefused.class).get(0);
    assertEquals("frank@example.com", r.approver());
    assertEquals("wrong_group", r.error());
    assertEquals(ApprovalStatus.PENDING, a.status());
  }

  @Test
  void aVoteMustNameTheDigestOfTheHeldRequest() {
    PendingApproval a = open(terms(1, null, null), null);
    assertEquals("digest_mismatch", refused(store.approve(a.id(), MARIA, "ok", "sha256:" + "0".repeat(64))));
    assertEquals(ApprovalStatus.PENDING, a.status());
  }

  @Test
  void theRequesterCanNeverApproveItsOwnCallInAnyCase() {
    PendingApproval a = open(terms(1, null, null), "Ana@Example.com");
    assertEquals("self_approval", refused(store.approve(a.id(), ANA, "mine", a.digest())));
    Approver agent = new Approver("sales-assistant", Set.of("sales-managers"));
    assertEquals("self_approval", refused(store.approve(a.id(), agent, "me", a.digest())));
    assertEquals(ApprovalStatus.PENDING, a.status());
  }

  @Test
  void aQuorumOfTwoNeedsTwoDistinctApprovers() {
    PendingApproval a = open(terms(2, null, null), null);
    join(store.approve(a.id(), MARIA, "ok", a.digest()));
    assertEquals(ApprovalStatus.PENDING, a.status());
    assertEquals("already_voted", refused(store.approve(a.id(), MARIA, "ok again", a.digest())));
    assertFalse(a.resolution().isDone());
    join(store.approve(a.id(), BOB, "second pair of eyes", a.digest()));
    assertEquals(ApprovalStatus.APPROVED, a.status());
    assertEquals(List.of("maria@example.com", "bob@example.com"), a.resolution().join().by());
  }

  @Test
  void aDenyResolvesAtOnceAndALaterVoteIsRefusedAsNotPending() {
    PendingApproval a = open(terms(2, null, null), null);
    join(store.deny(a.id(), BOB, "margin too thin", a.digest()));
    assertEquals(ApprovalStatus.DENIED, a.status());
    assertEquals("bob@example.com", a.denial().approver());
    assertEquals("not_pending", refused(store.approve(a.id(), MARIA, "late", a.digest())));
    ApprovalDenied d = ledger.bodies(ApprovalDenied.class).get(0);
    assertEquals("margin too thin", d.reason());
  }

  @Test
  void aHoldExpiresAtItsTimeoutNotBeforeAndALateVoteIsRefused() {
    PendingApproval a = open(terms(1, null, null), null);
    time.advance(Duration.ofMinutes(30).minusMillis(1));
    assertEquals(ApprovalStatus.PENDING, a.status());
    time.advance(Duration.ofMillis(1));
    assertEquals(ApprovalStatus.EXPIRED, a.status());
    assertEquals(ApprovalStatus.EXPIRED, a.resolution().join().status());
    assertEquals(1, ledger.bodies(ApprovalExpired.class).size());
    assertEquals("not_pending", refused(store.approve(a.id(), MARIA, "too late", a.digest())));
    assertEquals(0, store.openCount(HoldMode.ASYNC));
  }

  @Test
  void escalationNotifiesTheSecondGroupOnceAtItsTimeAndNotAfterTheHoldResolved() {
    PendingApproval a = open(terms(1, "sales-directors", Duration.ofMinutes(10)), null);
    time.advance(Duration.ofMinutes(10));
    assertEquals(List.of("sales-managers@" + T0, "sales-directors@" + T0.plus(Duration.ofMinutes(10))),
        notified);
    time.advance(Duration.ofMinutes(5));
    assertEquals(2, notified.size(), "escalated once");

    PendingApproval b = open(terms(1, "sales-directors", Duration.ofMinutes(10)), null);
    join(store.approve(b.id(), MARIA, "ok", b.digest()));
    time.advance(Duration.ofMinutes(20));
    assertEquals(3, notified.size(), "a resolved hold escalates to no one");
    assertEquals(ApprovalStatus.EXPIRED, a.status());
  }

  @Test
  void aVoteTheLedgerCannotRecordDeniesTheHoldFailingClosed() {
    PendingApproval a = open(terms(1, null, null), null);
    ledger.refuse(true);
    assertEquals("ledger_unavailable", refused(store.approve(a.id(), MARIA, "ok", a.digest())));
    assertEquals(ApprovalStatus.DENIED, a.status());
    assertEquals(ApprovalStatus.DENIED, a.resolution().join().status());
    assertEquals(0, store.openCount(HoldMode.ASYNC));
  }

  @Test
  void holdsBeyondTheBoundAreRefusedWith429() {
    open(terms(1, null, null), null);
    open(terms(1, null, null), null);
    ApprovalRefusedException e = assertThrows(ApprovalRefusedException.class,
        () -> store.open("x-3", HoldMode.ASYNC, terms(1, null, null), request(null), HOLD));
    assertEquals(429, e.status());
    assertEquals("too_many_pending", e.code());
  }

  @Test
  void anApprovedHoldExecutesOnceAndAnEndedHoldIsForgottenAfterItsRetention() {
    PendingApproval a = open(terms(1, null, null), null);
    join(store.approve(a.id(), MARIA, "ok", a.digest()));
    join(store.executing(a));
    assertEquals(ApprovalStatus.EXECUTING, a.status());
    assertThrows(IllegalStateException.class, () -> store.executing(a), "at most once");
    assertEquals(List.of("maria@example.com"), ledger.bodies(ApprovalExecuting.class).get(0).approvedBy());
    store.completed(a, new TicketResult(200, List.of(), new byte[0], null));
    assertEquals(ApprovalStatus.COMPLETED, a.status());
    time.advance(ApprovalStore.TICKET_RETENTION.minusSeconds(1));
    assertTrue(store.get(a.id()).isPresent(), "its ticket is still served");
    time.advance(Duration.ofSeconds(1));
    assertTrue(store.get(a.id()).isEmpty());
  }

  @Test
  void anExecutionTheLedgerCannotRecordEndsTheHoldDeniedAndForwardsNothing() {
    PendingApproval a = open(terms(1, null, null), null);
    join(store.approve(a.id(), MARIA, "ok", a.digest()));
    ledger.refuse(true);
    assertThrows(CompletionException.class, () -> join(store.executing(a)));
    assertEquals(ApprovalStatus.DENIED, a.status());
  }

  @Test
  void aJournaledHoldKeepsItsBodyInTheLedgerNotInMemory() {
    CanonicalRequest r = request(null);
    PendingApproval a = join(store.open("x-1", HoldMode.ASYNC, terms(1, null, null), r, HOLD));
    assertEquals(0, r.body().refCnt(), "the body the exchange handed over is released");
    assertEquals(0, a.request().size(), "the hold keeps the request without its bytes");
    assertEquals(19, a.size());
    assertEquals(0, a.openedIndex(), "where approval.opened is, for the body");
    assertEquals(19, store.heldBytes());
  }

  @Test
  void heldBytesAreBoundedInTotalAndPerWorkflowAndGivenBackWhenAHoldEnds() {
    String forty = "{\"note\":\"" + "x".repeat(29) + "\"}"; // 40 bytes
    PendingApproval a = join(store.open("x-1", HoldMode.ASYNC, terms(1, null, null),
        request(null, "quote-prep", forty), HOLD));
    ApprovalRefusedException perWorkflow = assertThrows(ApprovalRefusedException.class, () ->
        store.open("x-2", HoldMode.ASYNC, terms(1, null, null), request(null, "quote-prep", forty), HOLD));
    assertEquals("workflow_held_bytes_full", perWorkflow.code());
    assertEquals(429, perWorkflow.status());
    join(store.open("x-3", HoldMode.SYNC, terms(1, null, null), request(null, "renewals", forty), HOLD));
    ApprovalRefusedException total = assertThrows(ApprovalRefusedException.class, () ->
        store.open("x-4", HoldMode.SYNC, terms(1, null, null), request(null, "other", forty), HOLD));
    assertEquals("held_bytes_full", total.code());
    assertEquals(80, store.heldBytes());
    join(store.deny(a.id(), MARIA, "no", a.digest()));
    assertEquals(40, store.heldBytes(), "an ended hold gives its bytes back");
    join(store.open("x-5", HoldMode.SYNC, terms(1, null, null), request(null, "quote-prep", forty), HOLD));
  }

  @Test
  void someoneTheAgentActsForCanNeverApproveEvenWhenTheRequestDoesNotNameThem() {
    PendingApproval a = open(terms(1, null, null), null);
    Approver owner = new Approver("Owner@Example.com", Set.of("sales-managers"));
    assertEquals("self_approval", refused(store.approve(a.id(), owner, "mine", a.digest())));
    assertEquals(ApprovalStatus.PENDING, a.status());
  }

  @Test
  void aRequesterWritingTheirNameInLookAlikeFormsIsStillTheRequester() {
    // fullwidth letters, a zero-width space, a soft hyphen and a no-break space read as "ana@example.com"
    PendingApproval a = open(terms(1, null, null), "ana@example.com");
    for (String lookAlike : List.of("\uFF41\uFF4E\uFF41@example.com", "a\u200Bna@example.com",
        "an\u00ADa@Example.com", "ana@example.com\u00A0", "ANA@EXAMPLE.COM")) {
      Approver disguised = new Approver(lookAlike, Set.of("sales-managers"));
      assertEquals("self_approval", refused(store.approve(a.id(), disguised, "mine", a.digest())), lookAlike);
    }
    assertEquals(ApprovalStatus.PENDING, a.status());
  }

  @Test
  void aSecondVoteUnderALookAlikeNameIsNotASecondApprover() {
    PendingApproval a = open(terms(2, null, null), null);
    join(store.approve(a.id(), MARIA, "ok", a.digest()));
    Approver again = new Approver("\uFF2D\uFF41ria@example.com\u200D", Set.of("sales-managers"));
    assertEquals("already_voted", refused(store.approve(a.id(), again, "ok again", a.digest())));
    assertEquals(ApprovalStatus.PENDING, a.status());
  }

  @Test
  void namesArePlainTextKeysAndOtherScriptsStayDistinct() {
    assertEquals("strasse", IdentityNames.key("Stra\u00DFe"));
    assertEquals("kelvin", IdentityNames.key("\u212Aelvin"));
    assertTrue(IdentityNames.same("\uFB01le@x", "file@X"));
    assertFalse(IdentityNames.same("\u0430na@example.com", "ana@example.com"), "Cyrillic a is not Latin a");
    assertFalse(IdentityNames.same(null, "ana"));
  }

  @Test
  void theApproversFileRefusesTwoEntriesThatReadAsOneName(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("approvers.yaml");
    String token = "a".repeat(64);
    Files.writeString(file, "approvers:\n"
        + "  - name: maria@example.com\n    groups: [sales-managers]\n    token_sha256: " + token + "\n"
        + "  - name: \"\uFF2Daria@example.com\"\n    groups: [finance]\n    token_sha256: " + token.replace('a', 'b') + "\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ApproverDirectory.load(file));
    assertTrue(e.getMessage().contains("approvers[1].name repeats"), e.getMessage());
    assertTrue(e.getMessage().contains("approvers.yaml:"), e.getMessage());
  }
}
