package io.countersign.ledger;

import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeDecided;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Exports the ledger for a SIEM or log shipper ({@code countersign ledger export}): as the ledger's
 * own JSON lines, or as OPA decision-log events (one per {@code exchange.decided}), once or
 * following new events, resumable from a checkpoint file.
 *
 * <p><b>Checkpoint.</b> The file holds the journal index of the last event written out; it is
 * replaced atomically right after each line is flushed. A restart reads it and goes on after that
 * index, so nothing is skipped. A crash between the flush and the replace can repeat that one line;
 * every exported line carries its index ({@code index}, or {@code decision_id} and {@code
 * labels.index}), which makes it idempotent for a consumer.
 *
 * <p>Threading: runs on the caller's thread.
 */
public final class LedgerExport {

  /** Output formats. */
  public enum Format {
    /** The ledger's JSON lines, as {@code tail} prints them. */
    JSONL,
    /** OPA decision-log events. */
    OPA;

    /** Parses {@code jsonl} or {@code opa}. */
    public static Format parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown export format '" + s + "'; use jsonl or opa");
      }
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private LedgerExport() {}

  /**
   * Exports the ledger in {@code dir}.
   *
   * @param checkpoint the checkpoint file, or {@code null} to start at the beginning every time
   * @param follow keep exporting new events until {@code stop}
   * @return how many lines were written
   * @throws NoLedgerException when there is no ledger at {@code dir}
   */
  public static long run(
      Path dir,
      Format format,
      Path checkpoint,
      boolean follow,
      PrintStream out,
      BooleanSupplier stop) {
    Objects.requireNonNull(format, "format");
    long after = readCheckpoint(checkpoint);
    long[] lines = {0};
    boolean[] failed = {false};
    try (LedgerReader reader = LedgerReader.open(dir)) {
      reader.readAfter(
          after,
          follow,
          e -> {
            if (failed[0]) {
              return;
            }
            String line = format == Format.JSONL ? LedgerEventCodec.toJsonLine(e) : opa(e);
            if (line != null) {
              out.println(line);
              out.flush();
              if (out.checkError()) {
                failed[0] = true; // the consumer is gone: this line was not delivered
                return;
              }
              lines[0]++;
            }
            writeCheckpoint(checkpoint, e.index());
          },
          skipped -> {},
          () -> failed[0] || stop.getAsBoolean());
    }
    if (failed[0]) {
      throw new UncheckedIOException(
          new IOException("the output failed after " + lines[0] + " lines; the checkpoint holds "
              + "the last line delivered"));
    }
    return lines[0];
  }

  /** The OPA decision-log event of an intent, or {@code null} for other events. */
  static String opa(RecordedEvent recorded) {
    LedgerEvent e = recorded.event();
    ExchangeDecided decided = e.bodyAs(ExchangeDecided.class);
    if (decided == null) {
      return null;
    }
    ObjectNode o = JSON.createObjectNode();
    o.put("decision_id", e.exchangeId());
    o.put("path", "countersign/decision");
    // the journaled forms, as stored (redacted values included)
    ObjectNode body = stored(recorded);
    ObjectNode input = o.putObject("input");
    input.set("request", body.path("request").deepCopy());
    input.set("caller", body.path("caller").deepCopy());
    ObjectNode result = o.putObject("result");
    DecisionRecord d = decided.decision() != null ? decided.decision()
        : new DecisionRecord(null, null, null, null, null, null, null, null);
    result.put("risk", d.risk());
    result.put("action", d.action());
    d.reasons().forEach(result.putArray("reasons")::add);
    result.put("rule", d.rule());
    if (d.obligations() != null) {
      result.set("obligations", body.path("decision").path("obligations").deepCopy());
    }
    o.put("timestamp", e.time().toString());
    ObjectNode labels = o.putObject("labels");
    labels.put("app", "countersign");
    labels.put("agent", decided.caller() == null || decided.caller().agent() == null ? ""
        : decided.caller().agent());
    labels.put("engine", d.engine() == null ? "" : d.engine());
    labels.put("index", Long.toString(recorded.index()));
    ObjectNode bundles = o.putObject("bundles");
    bundles.putObject("countersign").put("revision", d.revision() == null ? "" : d.revision());
    o.putObject("metrics").put("timer_rego_query_eval_ns", decided.policyLatencyUs() * 1000);
    JsonNode redacted = storedRoot(recorded).get(LedgerEventCodec.FIELD_REDACTED);
    if (redacted != null && redacted.isArray()) {
      var erased = o.putArray("erased");
      redacted.forEach(p -> erased.add("/" + p.asText().replace('.', '/')));
    }
    return o.toString();
  }

  /** The stored line's envelope (redacted values as stored), or the event's own when not stored. */
  private static JsonNode storedRoot(RecordedEvent recorded) {
    if (recorded.stored() != null) {
      try {
        return LedgerEventCodec.tree(recorded.stored());
      } catch (IllegalArgumentException ignored) {
        // the stored line was parsed once already; cannot happen
      }
    }
    return LedgerEventCodec.tree(LedgerEventCodec.toJson(recorded.event()));
  }

  private static ObjectNode stored(RecordedEvent recorded) {
    JsonNode body = storedRoot(recorded).get(LedgerEventCodec.FIELD_BODY);
    return body instanceof ObjectNode n ? n : LedgerEventCodec.tree(recorded.event().body());
  }

  private static long readCheckpoint(Path checkpoint) {
    if (checkpoint == null || !Files.exists(checkpoint)) {
      return -1;
    }
    try {
      String s = Files.readString(checkpoint, StandardCharsets.US_ASCII).strip();
      return s.isEmpty() ? -1 : Long.parseLong(s);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + checkpoint, e);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "checkpoint " + checkpoint + " does not hold a journal index: " + e.getMessage(), e);
    }
  }

  private static void writeCheckpoint(Path checkpoint, long index) {
    if (checkpoint == null) {
      return;
    }
    Path tmp = checkpoint.resolveSibling(checkpoint.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, index + "\n", StandardCharsets.US_ASCII);
      try {
        Files.move(tmp, checkpoint, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, checkpoint, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + checkpoint, e);
    }
  }
}
