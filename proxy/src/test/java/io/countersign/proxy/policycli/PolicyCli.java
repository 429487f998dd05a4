package io.countersign.proxy.policycli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code countersign policy ...} in process and keeps what it printed. */
final class PolicyCli {
  /** What a run printed and its exit code. */
  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  private PolicyCli() {}

  static Run run(String... args) {
    CommandLine cli;
    try {
      // The command is package-private beside Main; picocli instantiates it reflectively.
      cli = new CommandLine(Class.forName("io.countersign.proxy.PolicyCommand"));
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }
}
