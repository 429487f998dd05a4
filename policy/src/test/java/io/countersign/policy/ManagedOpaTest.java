package io.countersign.policy;

import static io.countersign.policy.TestPolicies.await;
import static io.countersign.policy.TestPolicies.input;
import static io.countersign.policy.TestPolicies.opaBinary;
import static io.countersign.policy.TestPolicies.policyDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedOpaTest {
  @Test
  void startsHealthyAndServesADecisionFromThePolicyDirectory() throws Exception {
    try (ManagedOpa opa = ManagedOpa.start(opaBinary(), policyDir());
        OpaServerEngine engine = new OpaServerEngine(opa.url(), "rev")) {
      assertTrue(opa.isHealthy());
      assertTrue(opa.url().startsWith("http://127.0.0.1:"), opa.url());
      Decision d =
          engine.evaluate(input("GET", "crm", "sales", null)).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(PolicyAction.ALLOW, d.action(), d.toString());
      assertEquals("read_methods", d.rule());
    }
  }

  @Test
  void aKilledOpaIsRestartedOnTheSameUrlAndCloseLeavesNoProcess() throws Exception {
    ManagedOpa opa = ManagedOpa.start(opaBinary(), policyDir());
    long firstPid;
    long secondPid;
    try (OpaServerEngine engine = new OpaServerEngine(opa.url(), "rev")) {
      String url = opa.url();
      firstPid = opa.pid();
      ProcessHandle first = ProcessHandle.of(firstPid).orElseThrow();
      assertTrue(first.destroyForcibly());
      first.onExit().get(10, TimeUnit.SECONDS);

      await(Duration.ofSeconds(20), "OPA restarted and healthy",
          () -> opa.restarts() == 1 && opa.pid() != firstPid && opa.isHealthy());
      assertEquals(url, opa.url());
      assertEquals(1, opa.restarts());
      secondPid = opa.pid();

      Decision d =
          engine.evaluate(input("DELETE", "crm", "sales", null)).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals("method_not_allowed", d.rule(), d.toString());
    } finally {
      opa.close();
    }
    assertFalse(opa.isHealthy());
    assertFalse(ProcessHandle.of(secondPid).map(ProcessHandle::isAlive).orElse(false),
        "OPA (pid " + secondPid + ") still alive after close()");
    assertFalse(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false));
    assertEquals(1, opa.restarts(), "close() is not an unexpected exit");
  }

  @Test
  void aPolicyThatDoesNotCompileFailsStartWithOpasErrorAndTheBinaryNamed(@TempDir Path dir)
      throws Exception {
    Files.writeString(dir.resolve("broken.rego"), "package countersign\n\ndecision := {\n");
    IllegalStateException e =
        assertThrows(IllegalStateException.class,
            () -> ManagedOpa.start(opaBinary(), dir, Duration.ofSeconds(20)));
    assertTrue(e.getMessage().contains(opaBinary().toString()), e.getMessage());
    assertTrue(e.getMessage().contains("broken.rego"), e.getMessage());
  }

  @Test
  void aMissingBinaryIsAClearStartError(@TempDir Path dir) {
    Path missing = dir.resolve("no-such-opa");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> ManagedOpa.start(missing, policyDir()));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertNotEquals(-1, e.getMessage().indexOf("missing"), e.getMessage());
  }

  @Test
  void opasOwnApiServesOnlyTheDecisionQuerySoAnAgentCannotReplaceThePolicy() throws Exception {
    try (ManagedOpa opa = ManagedOpa.start(opaBinary(), policyDir())) {
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      java.net.http.HttpResponse<String> put = http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(opa.url() + "/v1/policies/evil"))
          .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(
              "package countersign\ndecision := {\"risk\": \"low\", \"action\": \"allow\"}"))
          .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(401, put.statusCode(), put.body());
      java.net.http.HttpResponse<String> read = http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(opa.url() + "/v1/data")).GET().build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(401, read.statusCode(), read.body());
      OpaServerEngine engine = new OpaServerEngine(opa.url(), "r1");
      try {
        assertFalse(engine.evaluate(input("GET", "crm", "sales-assistant", null)).toCompletableFuture()
            .get(10, TimeUnit.SECONDS).isFailure(), "the decision query is still served");
      } finally {
        engine.close();
      }
    }
  }
}
