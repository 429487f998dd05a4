package io.countersign.ledger;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * What {@code countersign ledger tail --dir DIR [--follow] [--exchange ID]} does: print the journal
 * as JSON lines, one event per line, each with its {@code "index"} first ({@link
 * LedgerEventCodec#toJsonLine}). Free of any CLI library so the proxy's command line only parses
 * options and calls {@link #run}.
 *
 * <p>Exit codes: {@value #OK} when every document was printed or was of an unknown (newer) kind,
 * {@value #UNREADABLE_DOCUMENTS} when some documents could not be read, {@value #NO_LEDGER} when
 * there is no ledger at the directory. Skipped documents are reported on the error stream, one line
 * each, so the output stays pure JSON lines.
 *
 * <p>Threading: runs on the caller's thread, and with {@code follow} parks there until {@code stop}
 * says so.
 */
public final class LedgerTail {

  /** Exit code: success. */
  public static final int OK = 0;

  /** Exit code: some documents could not be read (they were reported and skipped). */
  public static final int UNREADABLE_DOCUMENTS = 1;

  /** Exit code: no ledger at the directory. */
  public static final int NO_LEDGER = 2;

  private LedgerTail() {}

  /**
   * As {@link #run(Path, boolean, String, PrintStream, PrintStream, BooleanSupplier)}, with errors
   * reported on {@code System.err}.
   */
  public static int run(
      Path dir, boolean follow, String exchangeFilter, PrintStream out, BooleanSupplier stop) {
    return run(dir, follow, exchangeFilter, out, System.err, stop);
  }

  /**
   * Prints the ledger in {@code dir}.
   *
   * @param follow after the existing events, keep printing new ones until {@code stop} is true
   * @param exchangeFilter print only this exchange's events; {@code null} for all
   * @param out where the JSON lines go (flushed after each line, so a pipe sees them at once)
   * @param err where errors and skipped documents are reported
   * @param stop checked while following; ignored otherwise
   * @return the exit code
   */
  public static int run(
      Path dir,
      boolean follow,
      String exchangeFilter,
      PrintStream out,
      PrintStream err,
      BooleanSupplier stop) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    Objects.requireNonNull(stop, "stop");
    LedgerReader reader;
    try {
      reader = LedgerReader.open(dir);
    } catch (NoLedgerException e) {
      err.println("countersign ledger tail: " + e.getMessage());
      return NO_LEDGER;
    }
    long[] unreadable = {0};
    Consumer<RecordedEvent> print =
        recorded -> {
          if (exchangeFilter == null || exchangeFilter.equals(recorded.event().exchangeId())) {
            out.println(LedgerEventCodec.toJsonLine(recorded));
            out.flush();
          }
        };
    Consumer<SkippedDocument> report =
        skipped -> {
          if (skipped.kind() == SkippedDocument.Kind.UNREADABLE) {
            unreadable[0]++;
          }
          err.println(
              "countersign ledger tail: skipped document at index "
                  + skipped.index()
                  + ": "
                  + skipped.reason());
        };
    try (reader) {
      if (follow) {
        reader.follow(LedgerReader.Start.BEGINNING, print, report, stop);
      } else {
        reader.forEach(print, report);
      }
    }
    if (unreadable[0] > 0) {
      err.println("countersign ledger tail: " + unreadable[0] + " unreadable documents skipped");
      return UNREADABLE_DOCUMENTS;
    }
    return OK;
  }
}
