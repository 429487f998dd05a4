package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.RequestRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.queue.impl.table.AbstractTSQueueLock;
import net.openhft.chronicle.threads.Pauser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening after a crash, a second writer, secrets, and a full disk. */
class LedgerRecoveryTest {
  @TempDir Path dir;

  private static long append(Ledger ledger, LedgerEvent e) throws Exception {
    return ledger.append(e).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aWriteLockLeftByAnEarlierProcessWithOurPidDoesNotStallTheNextOpen() throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      append(ledger, Events.decided("x-1", 1));
    }
    // What a process killed mid-append leaves behind: the lock word set to its PID, which the
    // restarted process (same PID in a container) shares.
    try (SingleChronicleQueue q = JournalDirectory.openForAppend(dir, RollPeriod.DAILY)) {
      TableStoreWriteLock lock = new TableStoreWriteLock(q.metaStore(), Pauser::balanced, 0L);
      lock.lock();
      assertTrue(lock.isLockedByCurrentProcess(pid -> {}), "the lock is planted with our PID");
    }
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      // Without recovery, Chronicle waits its 15 s lock timeout here and then fails.
      append(ledger, Events.decided("x-2", 2));
    }
    try (SingleChronicleQueue q = JournalDirectory.openForAppend(dir, RollPeriod.DAILY)) {
      TableStoreWriteLock lock = new TableStoreWriteLock(q.metaStore(), Pauser::balanced, 0L);
      assertEquals(AbstractTSQueueLock.UNLOCKED, lock.lockedBy());
    }
    assertEquals(2, Events.readAll(dir).size());
    assertTrue(LedgerVerifier.verify(dir, null, null).intact());
  }

  @Test
  void aSecondWriterOnTheSameDirectoryIsRefusedWithAReason() throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      LedgerUnavailableException e =
          assertThrows(LedgerUnavailableException.class,
              () -> ChronicleLedger.open(dir, LedgerOptions.defaults()));
      assertTrue(e.getMessage().contains("already open for writing"), e.getMessage());
      append(ledger, Events.decided("x-1", 1));
    }
  }

  @Test
  void mcpArgumentsThePolicyNamesNeverReachTheDisk() throws Exception {
    ObjectNode arguments = JsonNodeFactory.instance.objectNode().put("card", "4111-MCP-7777")
        .put("amount", 250);
    ObjectNode message = JsonNodeFactory.instance.objectNode().put("jsonrpc", "2.0").put("id", 7)
        .put("method", "tools/call");
    message.putObject("params").put("name", "issue_refund").set("arguments", arguments.deepCopy());
    ObjectNode obligations = JsonNodeFactory.instance.objectNode();
    obligations.putArray("redact").add("mcp.arguments.card")
        .add("request.body.params.arguments.card");
    RequestRecord request = new RequestRecord("POST", "/mcp", "https://mcp.example", "/mcp", null,
        Map.of("content-type", "application/json"), null, 90, "ab".repeat(32), message);
    io.countersign.ledger.event.McpRecord mcp = new io.countersign.ledger.event.McpRecord(
        "tools/call", "issue_refund", arguments, JsonNodeFactory.instance.numberNode(7), "s-1",
        "2025-06-18", null, null, false, false, null);
    LedgerEvent decided = LedgerEvent.of("x-mcp", Events.T0, new ExchangeDecided("support-mcp",
        request, null, new DecisionRecord("low", "allow", List.of(), "support-mcp.refund_small",
            null, "wasm", null, obligations), null, 120, Events.T0.toString(), mcp));
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      append(ledger, decided);
    }
    assertFalse(allFileBytes(dir).contains("4111-MCP-7777"), "the card is not on disk");
    ExchangeDecided read = (ExchangeDecided) Events.readAll(dir).get(0).event().body();
    assertEquals("[redacted]", read.mcp().arguments().path("card").asText());
    assertEquals(250, read.mcp().arguments().path("amount").asInt(), "the rest is recorded");
    assertEquals("issue_refund", read.mcp().tool());
    assertEquals(7, read.mcp().requestId().asInt());
    assertEquals("s-1", read.mcp().sessionId());
  }

  @Test
  void secretHeadersAndPolicyNamedFieldsNeverReachTheDisk() throws Exception {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("authorization", "Bearer sk-live-AAAA1111");
    headers.put("x-api-key", "key-BBBB2222");
    headers.put("content-type", "application/json");
    ObjectNode requestBody = Events.body(9).put("card_number", "4111-CCCC-3333");
    ObjectNode obligations = JsonNodeFactory.instance.objectNode();
    obligations.putArray("redact").add("request.body.card_number").add("response.body.token");
    LedgerEvent decided = Events.decided("x-9", 9, headers, requestBody, null, obligations, "low",
        null, null);
    ObjectNode responseBody = JsonNodeFactory.instance.objectNode().put("token", "tok-EEEE5555")
        .put("ok", true);
    LedgerEvent completed = Events.completed("x-9", 200, "forwarded",
        Map.of("set-cookie", "session=DDDD4444"), responseBody);
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, LedgerOptions.defaults())) {
      append(ledger, decided);
      append(ledger, completed);
    }
    String onDisk = allFileBytes(dir);
    for (String secret :
        List.of("sk-live-AAAA1111", "key-BBBB2222", "4111-CCCC-3333", "DDDD4444", "EEEE5555")) {
      assertFalse(onDisk.contains(secret), secret + " is on disk");
    }
    assertTrue(onDisk.contains("application/json"), "the rest is recorded");
    List<RecordedEvent> read = Events.readAll(dir);
    assertEquals("[redacted]", ((ExchangeDecided) read.get(0).event().body()).request().headers()
        .get("authorization"));
    assertTrue(read.get(0).stored().contains(
        "\"redacted\":[\"request.headers.authorization\",\"request.headers.x-api-key\","
            + "\"request.body.card_number\"]"), read.get(0).stored());
    assertTrue(read.get(1).stored().contains(
        "\"redacted\":[\"response.headers.set-cookie\",\"response.body.token\"]"),
        read.get(1).stored());
    assertEquals("4111-CCCC-3333", requestBody.path("card_number").asText(),
        "the caller's event is not changed");
    assertTrue(LedgerVerifier.verify(dir, null, null).intact());
  }

  @Test
  void theRedactedHeaderListIsConfigurable() throws Exception {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("x-tenant-secret", "FFFF6666");
    headers.put("authorization", "kept-by-choice");
    LedgerEvent decided = Events.decided("x-1", 1, headers, Events.body(1), null, null, "low", null,
        null);
    try (ChronicleLedger ledger = ChronicleLedger.open(dir,
        LedgerOptions.defaults().withRedactHeaders(Set.of("X-Tenant-Secret")))) {
      append(ledger, decided);
    }
    String onDisk = allFileBytes(dir);
    assertFalse(onDisk.contains("FFFF6666"));
    assertTrue(onDisk.contains("kept-by-choice"));
  }

  @Test
  void belowTheFreeSpaceFloorAppendsFailClosedAndSayWhy() throws Exception {
    try (ChronicleLedger ledger =
        ChronicleLedger.open(dir, LedgerOptions.defaults().withMinFreeBytes(Long.MAX_VALUE))) {
      Exception e = assertThrows(Exception.class, () -> append(ledger, Events.decided("x", 1)));
      assertTrue(e.getCause() instanceof LedgerUnavailableException, e.toString());
      assertTrue(e.getCause().getMessage().startsWith("ledger disk full:"), e.getCause().getMessage());
      assertFalse(ledger.isWritable());
    }
    assertEquals(0, Events.readAll(dir).size());
  }

  private static String allFileBytes(Path dir) throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      files.filter(Files::isRegularFile).forEach(f -> {
        try {
          all.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return all.toString();
  }
}
