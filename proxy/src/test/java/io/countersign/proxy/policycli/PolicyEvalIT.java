package io.countersign.proxy.policycli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.proxy.support.ProxyFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code countersign policy eval} with the project's rego/ and examples/evals, on both engines. */
class PolicyEvalIT {
  static final Path REGO = ProxyFixture.regoDir().toAbsolutePath();
  static final Path EVALS = REGO.getParent().resolve("examples/evals");

  static String opa() {
    return ProxyFixture.opaBinary().toString();
  }

  @ParameterizedTest
  @ValueSource(strings = {"wasm", "opa"})
  void everyExampleEvalPassesAgainstTheProjectPolicy(String engine) throws Exception {
    String[] files;
    try (Stream<Path> s = Files.list(EVALS)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().map(Path::toString).toArray(String[]::new);
    }
    assertEquals(5, files.length, "one eval file per workflow of the brief");
    String[] args = Stream.concat(
        Stream.of("eval", "--policy", REGO.toString(), "--engine", engine, "--opa", opa(), "--cases"),
        Stream.of(files)).toArray(String[]::new);
    PolicyCli.Run r = PolicyCli.run(args);
    assertEquals(0, r.code(), r.toString());
    assertEquals(5, r.out().split(" 0 failed \\(engine " + engine + ", policy sha256:", -1).length - 1, r.toString());
    assertTrue(r.out().contains("19 cases, 19 passed, 0 failed"), "quote-prep.yaml\n" + r);
    assertTrue(!r.out().contains("FAIL"), r.toString());
  }

  @Test
  void aWrongExpectationFailsTheRunAndIsShownWithTheReasons(@TempDir Path tmp) throws Exception {
    Path cases = tmp.resolve("cases.yaml");
    Files.writeString(cases, """
        defaults:
          caller: {agent: sales-assistant}
        cases:
          - note: the limit is 15, not 20
            request: PATCH crm /v3/deals/42
            body: {discount_pct: 18}
            want: {action: allow, rule: crm.deal_update}
          - note: reads are fine
            request: GET crm /v3/deals/42
            want: {action: allow}
        """);
    PolicyCli.Run r = PolicyCli.run("eval", "--policy", REGO.toString(), "--opa", opa(), "--cases", cases.toString());
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().contains("FAIL    the limit is 15, not 20"), r.toString());
    assertTrue(r.out().contains("hold high crm.deal_discount_over_limit"), r.toString());
    assertTrue(r.out().contains("reason: discount above the 15% limit needs sales-manager approval"), r.toString());
    assertTrue(r.out().contains("2 cases, 1 passed, 1 failed"), r.toString());
  }

  @Test
  void aMalformedCaseFileIsRefusedBeforeAnyPolicyRuns(@TempDir Path tmp) throws Exception {
    Path cases = tmp.resolve("bad.yaml");
    Files.writeString(cases, "cases:\n  - note: typo\n    request: GET crm /v3\n    wnat: {action: allow}\n");
    PolicyCli.Run r = PolicyCli.run("eval", "--policy", REGO.toString(), "--opa", opa(), "--cases", cases.toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("bad.yaml: case 1 (typo): unknown key 'wnat'"), r.toString());
  }

  @Test
  void aPolicyThatDoesNotCompileIsRefusedWithOpasError(@TempDir Path tmp) throws Exception {
    Path rego = tmp.resolve("rego");
    Files.createDirectories(rego);
    Files.writeString(rego.resolve("broken.rego"), "package countersign\n\ndecision := {\n");
    PolicyCli.Run r = PolicyCli.run("eval", "--policy", rego.toString(), "--opa", opa(),
        "--cases", EVALS.resolve("quote-prep.yaml").toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("cannot load policy") && r.err().contains("broken.rego"), r.toString());
  }
}
