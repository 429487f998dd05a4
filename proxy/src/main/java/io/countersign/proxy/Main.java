package io.countersign.proxy;

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
    subcommands = {Main.Run.class, LedgerCommand.class, PolicyCommand.class})
public final class Main {

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  /** {@code countersign run --config FILE}. */
  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Start the sidecar with a YAML config file.")
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

}
