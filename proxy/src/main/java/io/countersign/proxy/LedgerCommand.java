package io.countersign.proxy;

import io.countersign.ledger.ChainHead;
import io.countersign.ledger.LedgerEventCodec;
import io.countersign.ledger.LedgerExport;
import io.countersign.ledger.LedgerQuery;
import io.countersign.ledger.LedgerTail;
import io.countersign.ledger.LedgerVerifier;
import io.countersign.ledger.NoLedgerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code countersign ledger ...}: read, verify, search and export the ledger. */
@Command(
    name = "ledger",
    mixinStandardHelpOptions = true,
    description = "Read, verify, search and export the ledger.",
    subcommands = {
      LedgerCommand.Tail.class,
      LedgerCommand.Verify.class,
      LedgerCommand.Head.class,
      LedgerCommand.Search.class,
      LedgerCommand.Export.class
    })
final class LedgerCommand {

  /** Exit code: success (verify: the chain holds). */
  static final int OK = 0;
  /** Exit code: verify found a break. */
  static final int BROKEN = 1;
  /** Exit code: no ledger at the directory. */
  static final int NO_LEDGER = 2;
  /** Exit code: bad arguments or a key problem. */
  static final int USAGE = 3;

  /** {@code countersign ledger tail --dir DIR [--follow] [--exchange ID]}. */
  @Command(name = "tail", mixinStandardHelpOptions = true, description = "Print ledger events as JSON lines.")
  static final class Tail implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the ledger directory")
    Path dir;

    @Option(names = {"-f", "--follow"}, description = "keep printing new events until interrupted")
    boolean follow;

    @Option(names = "--exchange", description = "only this exchange's events")
    String exchange;

    @Override
    public Integer call() {
      return LedgerTail.run(dir, follow, exchange, System.out, () -> Thread.currentThread().isInterrupted());
    }
  }

  /** {@code countersign ledger verify --dir DIR [--hmac-key-file F] [--anchor HASH]}. */
  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = "Check the hash chain; report the first break (index and kind) and exit 1.")
  static final class Verify implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the ledger directory")
    Path dir;

    @Option(names = "--hmac-key-file", description = "the chain's HMAC key, when it has one")
    Path keyFile;

    @Option(names = "--anchor", description = "a head hash published earlier (ledger head) that must still be in the chain")
    String anchor;

    @Override
    public Integer call() {
      byte[] key = null;
      try {
        if (keyFile != null) {
          key = readKey(keyFile);
        }
        LedgerVerifier.Report r = LedgerVerifier.verify(dir, key, anchor);
        StringBuilder json = new StringBuilder("{\"intact\":").append(r.intact())
            .append(",\"documents\":").append(r.documents())
            .append(",\"unchained\":").append(r.unchained());
        if (r.head() != null) {
          json.append(",\"head\":").append(r.head().toJsonLine());
        }
        if (!r.intact()) {
          json.append(",\"break\":{\"index\":").append(r.firstBreak().index())
              .append(",\"kind\":\"").append(r.firstBreak().kind().name().toLowerCase(java.util.Locale.ROOT))
              .append("\",\"detail\":").append(quote(r.firstBreak().detail())).append('}');
        }
        System.out.println(json.append('}'));
        if (!r.intact()) {
          System.err.println("countersign ledger verify: chain broken at index "
              + r.firstBreak().index() + " (" + r.firstBreak().kind().name().toLowerCase(java.util.Locale.ROOT)
              + "): " + r.firstBreak().detail());
          return BROKEN;
        }
        return OK;
      } catch (NoLedgerException e) {
        System.err.println("countersign ledger verify: " + e.getMessage());
        return NO_LEDGER;
      } catch (IllegalStateException | IOException e) {
        System.err.println("countersign ledger verify: " + e.getMessage());
        return USAGE;
      }
    }
  }

  /** {@code countersign ledger head --dir DIR}. */
  @Command(name = "head", mixinStandardHelpOptions = true,
      description = "Print the newest event's index, seq and hash, for external anchoring.")
  static final class Head implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the ledger directory")
    Path dir;

    @Override
    public Integer call() {
      try {
        ChainHead head = LedgerVerifier.head(dir);
        if (head == null) {
          System.err.println("countersign ledger head: the ledger holds no sealed event yet");
          return BROKEN;
        }
        System.out.println(head.toJsonLine());
        return OK;
      } catch (NoLedgerException e) {
        System.err.println("countersign ledger head: " + e.getMessage());
        return NO_LEDGER;
      }
    }
  }

  /** {@code countersign ledger search --dir DIR [filters] [--limit N] [--after INDEX]}. */
  @Command(name = "search", mixinStandardHelpOptions = true,
      description = "Print matching events as JSON lines; with --limit, the cursor for the next page goes to stderr.")
  static final class Search implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the ledger directory") Path dir;
    @Option(names = "--agent") String agent;
    @Option(names = {"--user", "--on-behalf-of"}, description = "caller.on_behalf_of") String user;
    @Option(names = "--account") String account;
    @Option(names = "--workflow") String workflow;
    @Option(names = "--run") String run;
    @Option(names = "--route") String route;
    @Option(names = "--risk", description = "read_only, draft, low, high") String risk;
    @Option(names = "--action", description = "allow, deny, hold") String action;
    @Option(names = "--outcome", description = "forwarded, denied, hold_refused, failed ...") String outcome;
    @Option(names = "--type", description = "an event type, e.g. exchange.decided") String type;
    @Option(names = "--since", description = "ISO-8601 instant, inclusive") String since;
    @Option(names = "--until", description = "ISO-8601 instant, exclusive") String until;
    @Option(names = "--after", description = "the cursor: only events after this journal index", defaultValue = "-1") long after;
    @Option(names = "--limit", description = "at most this many events (0: all)", defaultValue = "0") int limit;

    @Override
    public Integer call() {
      LedgerQuery.Filter filter;
      try {
        filter = new LedgerQuery.Filter(agent, user, account, workflow, run, route, risk, action,
            outcome, type, instant(since, "--since"), instant(until, "--until"), after, limit);
      } catch (IllegalArgumentException e) {
        System.err.println("countersign ledger search: " + e.getMessage());
        return USAGE;
      }
      try {
        LedgerQuery.Page page = LedgerQuery.run(dir, filter,
            e -> System.out.println(LedgerEventCodec.toJsonLine(e)));
        System.out.flush();
        if (page.next() >= 0) {
          System.err.println("countersign ledger search: more results; next page: --after " + page.next());
        }
        return OK;
      } catch (NoLedgerException e) {
        System.err.println("countersign ledger search: " + e.getMessage());
        return NO_LEDGER;
      }
    }
  }

  /** {@code countersign ledger export --dir DIR [--format jsonl|opa] [--checkpoint F] [--follow]}. */
  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Export events as JSON lines or OPA decision-log events, resumable with a checkpoint file.")
  static final class Export implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the ledger directory") Path dir;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl or opa") String format;
    @Option(names = "--checkpoint", description = "a file holding the last exported index; read at start, replaced after each line") Path checkpoint;
    @Option(names = {"-f", "--follow"}, description = "keep exporting new events until interrupted") boolean follow;

    @Override
    public Integer call() {
      try {
        LedgerExport.run(dir, LedgerExport.Format.parse(format), checkpoint, follow, System.out,
            () -> Thread.currentThread().isInterrupted());
        return OK;
      } catch (NoLedgerException e) {
        System.err.println("countersign ledger export: " + e.getMessage());
        return NO_LEDGER;
      } catch (IllegalArgumentException e) {
        System.err.println("countersign ledger export: " + e.getMessage());
        return USAGE;
      } catch (java.io.UncheckedIOException e) {
        System.err.println("countersign ledger export: " + e.getCause().getMessage());
        return BROKEN;
      }
    }
  }

  private static Instant instant(String s, String option) {
    if (s == null) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(option + " must be an ISO-8601 instant like 2026-11-25T00:00:00Z, not " + s);
    }
  }

  private static byte[] readKey(Path file) throws IOException {
    byte[] key = Files.readAllBytes(file);
    int n = key.length;
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r')) {
      n--;
    }
    if (n == 0) {
      throw new IOException("the HMAC key file " + file + " is empty");
    }
    return java.util.Arrays.copyOf(key, n);
  }

  private static String quote(String s) {
    return new com.fasterxml.jackson.databind.node.TextNode(s).toString();
  }
}
