package io.countersign.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.countersign.ledger.LedgerReader;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.proxy.exchange.PolicyInputs;
import io.countersign.ledger.NoLedgerException;
import io.countersign.policy.ManagedOpa;
import io.countersign.policy.OpaServerEngine;
import io.countersign.policy.PolicyEngine;
import io.countersign.policy.PolicyRevision;
import io.countersign.policy.WasmEngine;
import io.countersign.policy.eval.EvalCase;
import io.countersign.policy.eval.EvalCases;
import io.countersign.policy.eval.EvalReport;
import io.countersign.policy.eval.EvalRun;
import io.countersign.policy.eval.RecordedExchange;
import io.countersign.policy.eval.Replay;
import io.countersign.policy.eval.ReplayExpectations;
import io.countersign.policy.eval.ReplayReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code countersign policy ...}: check a policy before it is rolled out. {@code eval} runs edge
 * cases with expected decisions; {@code replay} re-judges a ledger's recorded exchanges and reports
 * what would change. Both judge with the real engines the proxy uses.
 *
 * <p>Exit codes: {@code 0} everything as expected; {@code 1} a case failed or a change was not
 * expected; {@code 2} the command could not run (bad file, no ledger, a policy that does not build),
 * with the reason on stderr.
 */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description = "Check a policy before rollout: eval edge cases, replay a ledger.",
    subcommands = {PolicyCommand.Eval.class, PolicyCommand.ReplayLedger.class})
final class PolicyCommand {
  static final int OK = 0;
  static final int MISMATCH = 1;
  static final int CANNOT_RUN = 2;

  /** Which engine judges: the in-process wasm build or an OPA server (a managed child process). */
  enum EngineKind {
    wasm,
    opa
  }

  /** The policy under test and the engine that runs it. */
  static final class PolicyOptions {
    @Option(names = "--policy", required = true, description = "the policy directory (e.g. rego/)")
    Path policy;

    @Option(names = "--engine", defaultValue = "wasm", description = "wasm or opa (default: ${DEFAULT-VALUE})")
    EngineKind engine;

    @Option(names = "--opa", defaultValue = ".tools/bin/opa", description = "the opa binary (default: ${DEFAULT-VALUE})")
    Path opa;

    /** Starts the engine; the caller closes it. */
    PolicyUnderTest start() throws IOException {
      if (!Files.isDirectory(policy)) {
        throw new IllegalArgumentException("policy directory " + policy + " does not exist");
      }
      if (engine == EngineKind.wasm) {
        Path work = Files.createTempDirectory("countersign-policy-");
        return new PolicyUnderTest(WasmEngine.fromDirectory(opa, policy, work), null, work);
      }
      ManagedOpa server = ManagedOpa.start(opa, policy);
      // Offline: a slow answer is waited for rather than failed closed, and 8 calls run at once.
      PolicyEngine e = new OpaServerEngine(
          server.url(), PolicyRevision.ofDirectory(policy), Duration.ofSeconds(10), 8, 256);
      return new PolicyUnderTest(e, server, null);
    }
  }

  /** An engine and what it runs on, released together. */
  record PolicyUnderTest(PolicyEngine engine, ManagedOpa server, Path workDir) implements AutoCloseable {
    @Override
    public void close() {
      engine.close();
      if (server != null) {
        server.close();
      }
      if (workDir != null) {
        try (Stream<Path> paths = Files.walk(workDir)) {
          paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
          // a leftover temp dir is harmless
        }
      }
    }
  }

  /** {@code countersign policy eval --policy DIR --cases FILE... [--engine wasm|opa] [--opa BIN]}. */
  @Command(name = "eval", mixinStandardHelpOptions = true,
      description = "Run edge cases with expected decisions against a policy; exit 1 on any mismatch.")
  static final class Eval implements Callable<Integer> {
    @Mixin PolicyOptions options;

    @Option(names = "--cases", required = true, arity = "1..*",
        description = "YAML or JSON files of cases (see docs/policy-guide.md)")
    List<Path> cases;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      List<List<EvalCase>> files = new ArrayList<>();
      try {
        YAMLMapper yaml = new YAMLMapper();
        for (Path file : cases) {
          JsonNode doc = yaml.readTree(Files.readString(file, StandardCharsets.UTF_8));
          files.add(EvalCases.read(file.toString(), doc));
        }
      } catch (IOException | IllegalArgumentException e) {
        err.println("countersign policy eval: " + e.getMessage());
        return CANNOT_RUN;
      }
      long failed = 0;
      try (PolicyUnderTest p = options.start()) {
        for (int i = 0; i < files.size(); i++) {
          out.println("== " + cases.get(i));
          EvalReport report = EvalRun.run(p.engine(), files.get(i));
          report.print(out);
          out.println();
          failed += report.failed();
        }
      } catch (IOException | RuntimeException e) {
        err.println("countersign policy eval: cannot load policy " + options.policy + ": " + e.getMessage());
        return CANNOT_RUN;
      }
      out.flush();
      return failed == 0 ? OK : MISMATCH;
    }
  }

  /** {@code countersign policy replay --ledger DIR --policy DIR [--expect FILE]}. */
  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = "Re-judge a ledger's recorded exchanges with a candidate policy and report what"
          + " would change; exit 1 on changes not listed in --expect.")
  static final class ReplayLedger implements Callable<Integer> {
    @Mixin PolicyOptions options;

    @Option(names = "--ledger", required = true, description = "the ledger directory")
    Path ledger;

    @Option(names = "--expect", description = "expected changes: exchange ids and 'RULE -> RULE' lines")
    Path expect;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      ReplayExpectations expected = ReplayExpectations.none();
      List<RecordedExchange> exchanges = new ArrayList<>();
      long[] unreadable = new long[1];
      try {
        if (expect != null) {
          expected = ReplayExpectations.parse(expect.toString(), Files.readString(expect, StandardCharsets.UTF_8));
        }
        try (LedgerReader reader = LedgerReader.open(ledger)) {
          reader.forEach(recorded -> {
            ExchangeDecided decided = recorded.event().bodyAs(ExchangeDecided.class);
            if (decided == null) {
              return;
            }
            try {
              exchanges.add(PolicyInputs.recorded(recorded.event().exchangeId(), recorded.index(),
                  recorded.event().time(), decided));
            } catch (IllegalArgumentException e) {
              unreadable[0]++;
              err.println("skipped exchange.decided at index " + recorded.index() + ": " + e.getMessage());
            }
          }, skipped -> err.println("skipped document at index " + skipped.index() + ": " + skipped.reason()));
        }
      } catch (NoLedgerException | IOException | IllegalArgumentException e) {
        err.println("countersign policy replay: " + e.getMessage());
        return CANNOT_RUN;
      }
      ReplayReport report;
      try (PolicyUnderTest p = options.start()) {
        report = Replay.run(p.engine(), exchanges, expected);
      } catch (IOException | RuntimeException e) {
        err.println("countersign policy replay: cannot load policy " + options.policy + ": " + e.getMessage());
        return CANNOT_RUN;
      }
      report.print(out, ledger.toString());
      if (unreadable[0] > 0) {
        out.println(unreadable[0] + " exchange.decided events could not be replayed (see stderr)");
      }
      out.flush();
      return report.unexpectedChanges().isEmpty() ? OK : MISMATCH;
    }
  }
}
