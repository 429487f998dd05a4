package io.countersign.proxy;

import io.countersign.ledger.LedgerTail;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code countersign ledger ...}: read the ledger. */
@Command(name = "ledger", mixinStandardHelpOptions = true, description = "Read the ledger.", subcommands = {LedgerCommand.Tail.class})
final class LedgerCommand {

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
}
