package io.countersign.ledger;

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
    if (e.type() != EventType.EXCHANGE_DECIDED) {
      return null;
    }
    JsonNode body = e.body();
    ObjectNode o = JSON.createObjectNode();
    o.put("decision_id", e.exchangeId());
    o.put("path", "countersign/decision");
    ObjectNode input = o.putObject("input");
    input.set("request", body.path("request").deepCopy());
    input.set("caller", body.path("caller").deepCopy());
    ObjectNode result = o.putObject("result");
    JsonNode d = body.path("decision");
    result.set("risk", d.path("risk").deepCopy());
    result.set("action", d.path("action").deepCopy());
    result.set("reasons", d.path("reasons").deepCopy());
    result.set("rule", d.path("rule").deepCopy());
    if (d.has("obligations")) {
      result.set("obligations", d.path("obligations").deepCopy());
    }
    o.put("timestamp", e.time().toString());
    ObjectNode labels = o.putObject("labels");
    labels.put("app", "countersign");
    labels.put("agent", body.path("caller").path("agent").asText(""));
    labels.put("engine", d.path("engine").asText(""));
    labels.put("index", Long.toString(recorded.index()));
    ObjectNode bundles = o.putObject("bundles");
    bundles.putObject("countersign").put("revision", d.path("revision").asText(""));
    if (body.has("policy_latency_us")) {
      o.putObject("metrics")
          .put("timer_rego_query_eval_ns", body.path("policy_latency_us").asLong() * 1000);
    }
    if (recorded.stored() != null) {
      try {
        JsonNode redacted = LedgerEventCodec.tree(recorded.stored()).get("redacted");
        if (redacted != null && redacted.isArray()) {
          var erased = o.putArray("erased");
          redacted.forEach(p -> erased.add("/" + p.asText().replace('.', '/')));
        }
      } catch (IllegalArgumentException ignored) {
        // the stored line was parsed once already; cannot happen
      }
    }
    return o.toString();
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
