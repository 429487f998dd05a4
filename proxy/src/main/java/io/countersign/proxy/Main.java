package io.countersign.proxy;

import io.countersign.ledger.LedgerTail;
import io.countersign.proxy.config.ConfigException;
import io.countersign.proxy.config.ConfigLoader;
import io.countersign.proxy.config.ProxyConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code countersign} command: {@code run} the sidecar, or read its {@code ledger}. */
@Command(
    name = "countersign",
    mixinStandardHelpOptions = true,
    version = "countersign 0.1.0",
    description = "A policy-enforcing HTTP sidecar proxy for AI agents.",
    subcommands = {Main.Run.class, Main.LedgerCommand.class})
public final class Main {

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  /** {@code countersign run --config FILE}. */
  @Command(name = "run", description = "Start the sidecar with a YAML config file.")
  static final class Run implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "the YAML config file")
    Path config;

    @Override
    public Integer call() throws InterruptedException {
      ProxyConfig cfg;
      try {
        cfg = ConfigLoader.load(config);
      } catch (ConfigException e) {
        System.err.println("countersign: invalid configuration: " + e.getMessage());
        return 2;
      }
      CountersignServer server;
      try {
        server = CountersignServer.start(cfg, System.getenv(), Clock.systemUTC());
      } catch (ConfigException e) {
        System.err.println("countersign: invalid configuration: " + e.getMessage());
        return 2;
      } catch (RuntimeException e) {
        System.err.println("countersign: cannot start: " + e.getMessage());
        return 1;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        server.close();
        stopped.countDown();
      }, "countersign-shutdown"));
      System.err.println("countersign: agent port listening on " + server.agentAddress());
      stopped.await();
      return 0;
    }
  }

  /** {@code countersign ledger ...}. */
  @Command(name = "ledger", description = "Read the ledger.", subcommands = {Tail.class})
  static final class LedgerCommand {}

  /** {@code countersign ledger tail --dir DIR [--follow] [--exchange ID]}. */
  @Command(name = "tail", description = "Print ledger events as JSON lines.")
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
