package io.countersign.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's byte path must store exactly what the string path stored before it: the same
 * document bytes as Chronicle's {@code text(String)}, and the same sealed line as sealing the text.
 */
class WireTextTest {
  @TempDir Path dir;

  @Test
  void bytesWrittenFromTheBufferAreTheDocumentChronicleWritesForTheSameText() {
    List<String> texts = List.of(
        "short",
        "x".repeat(31),
        "x".repeat(32),
        "{\"v\":1,\"body\":{\"name\":\"Zoë – 東京 – \uD83D\uDE00\",\"n\":" + "9".repeat(200) + "}}",
        "{\"pad\":\"" + "é".repeat(9000) + "\"}");
    for (String text : texts) {
      byte[] viaText = document(dir.resolve("text-" + text.length()), text, false);
      byte[] viaBytes = document(dir.resolve("bytes-" + text.length()), text, true);
      assertArrayEquals(viaText, viaBytes, "document for a text of " + text.length() + " chars");
    }
  }

  @Test
  void theSealedLineIsTheSealOfItsCanonicalTextAndTheVerifierAgrees() {
    HashChain chain = new HashChain(null);
    byte[] unsealed = "{\"v\":1,\"type\":\"t\",\"body\":{\"who\":\"Zoë \uD83D\uDE00\"}}"
        .getBytes(StandardCharsets.UTF_8);
    LineBuffer line = new LineBuffer(8);
    byte[] prev = HashChain.GENESIS.getBytes(StandardCharsets.US_ASCII);
    byte[] seal = chain.seal(unsealed, 1234567890123L, prev, line);
    String stored = new String(line.toByteArray(), StandardCharsets.UTF_8);
    assertTrue(stored.startsWith("{\"v\":1,\"type\":\"t\",\"body\":{\"who\":\"Zoë \uD83D\uDE00\"}"
        + ",\"seq\":1234567890123,\"prev\":\"" + HashChain.GENESIS + "\",\"hash\":\""), stored);
    HashChain.Sealed split = HashChain.split(stored);
    assertEquals(new String(seal, StandardCharsets.US_ASCII), split.seal());
    assertEquals(chain.digest(split.canonical()), split.seal());
    byte[] keyedSeal = new HashChain("k".getBytes(StandardCharsets.UTF_8)).seal(unsealed, 0, prev, line);
    HashChain.Sealed keyed = HashChain.split(new String(line.toByteArray(), StandardCharsets.UTF_8));
    assertEquals(HashChain.HMAC_FIELD, keyed.field());
    assertEquals(new String(keyedSeal, StandardCharsets.US_ASCII), keyed.seal());
    assertEquals(new HashChain("k".getBytes(StandardCharsets.UTF_8)).digest(keyed.canonical()),
        keyed.seal());
  }

  @Test
  void eventsWithAndWithoutCharactersBeyondTheBmpReadBackAndVerify() throws Exception {
    Path ledgerDir = dir.resolve("ledger");
    List<LedgerEvent> written = new java.util.ArrayList<>();
    try (ChronicleLedger ledger = ChronicleLedger.open(ledgerDir, LedgerOptions.defaults())) {
      for (int i = 0; i < 6; i++) {
        com.fasterxml.jackson.databind.node.ObjectNode body = Events.body(i);
        if (i % 3 == 1) {
          body.put("emoji", "deal \uD83D\uDE80 " + i);
        }
        LedgerEvent e = Events.decided("x-" + i, i, java.util.Map.of(), body, null, null, "low",
            null, null);
        written.add(e);
        ledger.append(e).toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
    assertEquals(written, Events.readAll(ledgerDir).stream().map(RecordedEvent::event).toList());
    LedgerVerifier.Report report = LedgerVerifier.verify(ledgerDir, null, null);
    assertTrue(report.intact(), String.valueOf(report.firstBreak()));
  }

  @Test
  void decimalsAreWrittenAsJsonWritesThem() {
    LineBuffer b = new LineBuffer(1);
    for (long v : new long[] {0, 7, 10, 99, 100, 4_294_967_296L, Long.MAX_VALUE}) {
      b.clear();
      b.appendDecimal(v);
      assertEquals(Long.toString(v), new String(b.toByteArray(), StandardCharsets.US_ASCII));
    }
  }

  private static byte[] document(Path queueDir, String text, boolean viaBytes) {
    try (SingleChronicleQueue q = JournalDirectory.openForAppend(queueDir, RollPeriod.DAILY);
        ExcerptAppender appender = q.createAppender()) {
      try (DocumentContext dc = appender.writingDocument()) {
        if (viaBytes) {
          LineBuffer line = new LineBuffer(16);
          byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
          line.append(utf8, 0, utf8.length);
          ChronicleLedger.writeText(dc.wire(), line);
        } else {
          dc.wire().getValueOut().text(text);
        }
      }
      try (ExcerptTailer tailer = q.createTailer(); DocumentContext dc = tailer.readingDocument()) {
        assertTrue(dc.isPresent());
        byte[] raw = dc.wire().bytes().toByteArray();
        assertEquals(text, dc.wire().getValueIn().text());
        return raw;
      }
    }
  }
}
