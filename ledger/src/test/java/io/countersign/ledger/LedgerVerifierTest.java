package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each tamper kind is found by verify, at the index where it shows. */
class LedgerVerifierTest {
  @TempDir Path tmp;

  private Path writeLedger(Path dir, int n, LedgerOptions options) throws Exception {
    try (ChronicleLedger ledger = ChronicleLedger.open(dir, options)) {
      for (int i = 0; i < n; i++) {
        ledger.append(Events.decided("x-" + i, i)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
    return dir;
  }

  private static List<String> storedLines(Path dir) {
    List<String> lines = new ArrayList<>();
    try (LedgerReader r = LedgerReader.open(dir)) {
      r.forEachRaw((index, text, error) -> lines.add(text));
    }
    return lines;
  }

  private static List<Long> indexes(Path dir) {
    List<Long> out = new ArrayList<>();
    try (LedgerReader r = LedgerReader.open(dir)) {
      r.forEachRaw((index, text, error) -> out.add(index));
    }
    return out;
  }

  /** Writes {@code lines} as a new journal, as a forger with write access to the files would. */
  private static Path forge(Path dir, List<String> lines) {
    try (SingleChronicleQueue q = JournalDirectory.openForAppend(dir, RollPeriod.DAILY);
        ExcerptAppender a = q.createAppender()) {
      for (String line : lines) {
        try (DocumentContext dc = a.writingDocument()) {
          dc.wire().getValueOut().text(line);
        }
      }
    }
    return dir;
  }

  @Test
  void anUntouchedLedgerVerifiesAndItsHeadIsItsLastEvent() throws Exception {
    Path dir = writeLedger(tmp.resolve("l"), 10, LedgerOptions.defaults());
    LedgerVerifier.Report report = LedgerVerifier.verify(dir, null, null);
    assertTrue(report.intact(), String.valueOf(report.firstBreak()));
    assertEquals(10, report.documents());
    ChainHead head = LedgerVerifier.head(dir);
    assertEquals(9, head.seq());
    assertEquals(indexes(dir).get(9), head.index());
    assertEquals(head, report.head());
  }

  @Test
  void theChainContinuesAcrossARestart() throws Exception {
    Path dir = writeLedger(tmp.resolve("l"), 3, LedgerOptions.defaults());
    writeLedger(dir, 3, LedgerOptions.defaults());
    LedgerVerifier.Report report = LedgerVerifier.verify(dir, null, null);
    assertTrue(report.intact(), String.valueOf(report.firstBreak()));
    assertEquals(5, report.head().seq());
    List<String> lines = storedLines(dir);
    String fourth = lines.get(3);
    String thirdSeal = lines.get(2).substring(lines.get(2).length() - 66, lines.get(2).length() - 2);
    assertTrue(fourth.contains("\"seq\":3,\"prev\":\"" + thirdSeal + "\""), fourth);
  }

  @Test
  void bytesEditedInTheStoredFileAreFoundAtTheEditedEvent() throws Exception {
    Path dir = writeLedger(tmp.resolve("l"), 8, LedgerOptions.defaults());
    Path cq4;
    try (Stream<Path> files = Files.list(dir)) {
      cq4 = files.filter(f -> f.toString().endsWith(".cq4")).findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(cq4);
    byte[] needle = "/crm/v3/deals/5\"".getBytes(StandardCharsets.UTF_8);
    int at = indexOf(bytes, needle);
    assertTrue(at > 0, "the event is in the file as text");
    bytes[at + 14] = '6'; // deals/5 -> deals/6, same length
    Files.write(cq4, bytes);
    LedgerVerifier.Report report = LedgerVerifier.verify(dir, null, null);
    assertEquals(LedgerVerifier.Kind.EDITED, report.firstBreak().kind());
    assertEquals(indexes(dir).get(5), report.firstBreak().index());
  }

  @Test
  void anEventReplacedWithARecomputedHashIsFoundAtTheReplacedEvent() throws Exception {
    List<String> lines = storedLines(writeLedger(tmp.resolve("l"), 6, LedgerOptions.defaults()));
    String original = lines.get(2);
    HashChain.Sealed sealed = HashChain.split(original);
    String edited = sealed.canonical().replace("\"amount\":1202", "\"amount\":1");
    String reseal = new HashChain(null).digest(edited);
    lines.set(2, edited.substring(0, edited.length() - 1) + ",\"hash\":\"" + reseal + "\"}");
    Path forged = forge(tmp.resolve("f"), lines);
    LedgerVerifier.Report report = LedgerVerifier.verify(forged, null, null);
    assertEquals(LedgerVerifier.Kind.EDITED, report.firstBreak().kind());
    assertEquals(indexes(forged).get(2), report.firstBreak().index());
  }

  @Test
  void aDeletedEventIsFoundWhereTheGapIs() throws Exception {
    List<String> lines = storedLines(writeLedger(tmp.resolve("l"), 6, LedgerOptions.defaults()));
    lines.remove(3);
    Path forged = forge(tmp.resolve("f"), lines);
    LedgerVerifier.Report report = LedgerVerifier.verify(forged, null, null);
    assertEquals(LedgerVerifier.Kind.DELETED, report.firstBreak().kind());
    assertEquals(indexes(forged).get(3), report.firstBreak().index());
  }

  @Test
  void deletingTheFirstEventsIsFoundAtTheNewFirstEvent() throws Exception {
    List<String> lines = storedLines(writeLedger(tmp.resolve("l"), 6, LedgerOptions.defaults()));
    Path forged = forge(tmp.resolve("f"), lines.subList(2, 6));
    LedgerVerifier.Report report = LedgerVerifier.verify(forged, null, null);
    assertEquals(LedgerVerifier.Kind.DELETED, report.firstBreak().kind());
    assertEquals(indexes(forged).get(0), report.firstBreak().index());
  }

  @Test
  void swappedEventsAreFoundAsReorderedAtTheFirstOutOfPlace() throws Exception {
    List<String> lines = storedLines(writeLedger(tmp.resolve("l"), 6, LedgerOptions.defaults()));
    String four = lines.get(4);
    lines.set(4, lines.get(3));
    lines.set(3, four);
    Path forged = forge(tmp.resolve("f"), lines);
    LedgerVerifier.Report report = LedgerVerifier.verify(forged, null, null);
    assertEquals(LedgerVerifier.Kind.REORDERED, report.firstBreak().kind());
    assertEquals(indexes(forged).get(3), report.firstBreak().index());
  }

  @Test
  void eventsCutOffTheEndAreFoundAgainstAnAnchoredHead() throws Exception {
    Path dir = writeLedger(tmp.resolve("l"), 6, LedgerOptions.defaults());
    String anchor = LedgerVerifier.head(dir).seal();
    List<String> lines = storedLines(dir);
    Path forged = forge(tmp.resolve("f"), lines.subList(0, 4));
    assertTrue(LedgerVerifier.verify(forged, null, null).intact(), "without an anchor a cut end looks whole");
    LedgerVerifier.Report report = LedgerVerifier.verify(forged, null, anchor);
    assertEquals(LedgerVerifier.Kind.TRUNCATED, report.firstBreak().kind());
    assertEquals(indexes(forged).get(3), report.firstBreak().index());
    assertTrue(LedgerVerifier.verify(dir, null, anchor).intact());
  }

  @Test
  void anUnreadableDocumentIsFoundAtItsIndex() throws Exception {
    List<String> lines = storedLines(writeLedger(tmp.resolve("l"), 4, LedgerOptions.defaults()));
    lines.add(2, "{\"v\":1,\"type\":\"exchange.decid");
    Path forged = forge(tmp.resolve("f"), lines);
    LedgerVerifier.Report report = LedgerVerifier.verify(forged, null, null);
    assertEquals(LedgerVerifier.Kind.UNREADABLE, report.firstBreak().kind());
    assertEquals(indexes(forged).get(2), report.firstBreak().index());
  }

  @Test
  void anHmacChainVerifiesOnlyWithItsKey() throws Exception {
    Path key = tmp.resolve("key");
    Files.writeString(key, "s3cret-key\n");
    Path other = tmp.resolve("other");
    Files.writeString(other, "another-key");
    Path dir = writeLedger(tmp.resolve("l"), 5, LedgerOptions.defaults().withHmacKeyFile(key));
    assertTrue(storedLines(dir).get(0).contains(",\"hmac\":\""));
    assertTrue(LedgerVerifier.verify(dir, "s3cret-key".getBytes(StandardCharsets.UTF_8), null).intact());
    LedgerVerifier.Report wrong = LedgerVerifier.verify(dir, Files.readAllBytes(other), null);
    assertEquals(LedgerVerifier.Kind.EDITED, wrong.firstBreak().kind());
    assertEquals(indexes(dir).get(0), wrong.firstBreak().index());
    assertThrows(IllegalStateException.class, () -> LedgerVerifier.verify(dir, null, null));
  }

  @Test
  void anEmptyLedgerHasNoHead() throws Exception {
    Path dir = writeLedger(tmp.resolve("l"), 0, LedgerOptions.defaults());
    assertNull(LedgerVerifier.head(dir));
    assertNotNull(LedgerVerifier.verify(dir, null, null));
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
