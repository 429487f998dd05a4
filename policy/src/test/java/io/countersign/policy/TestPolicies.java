package io.countersign.policy;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Shared fixtures: the real OPA binary, the test policy, inputs, and waiting on conditions. */
final class TestPolicies {
  private TestPolicies() {}

  /** The OPA binary the build installed; a test that needs it fails (never skips) without it. */
  static Path opaBinary() {
    String prop = System.getProperty("countersign.opa.binary");
    if (prop == null || prop.isBlank()) {
      fail("system property countersign.opa.binary is not set (the root pom's surefire argLine sets it)");
    }
    Path p = Path.of(prop);
    if (!Files.isExecutable(p)) {
      fail("OPA binary " + p + " (countersign.opa.binary) is missing or not executable; run"
          + " scripts/install-tools.sh");
    }
    return p;
  }

  /** The data-dependent test policy in src/test/resources/policy. */
  static Path policyDir() {
    try {
      return Path.of(TestPolicies.class.getResource("/policy").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static PolicyInput input(String method, String route, String agent, JsonNode body) {
    return input(method, route, agent, body, "/v3/deals/42");
  }

  static PolicyInput input(
      String method, String route, String agent, JsonNode body, String upstreamPath) {
    return new PolicyInput(
        new PolicyInput.Request(
            method,
            route,
            "/" + route + upstreamPath,
            upstreamPath,
            Map.of(),
            Map.of("content-type", "application/json"),
            body,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            body == null ? 0 : body.toString().length()),
        new PolicyInput.Caller(
            agent, "quote-prep", "r-81", "ana@example.com", "acme", "update_deal", null, List.of()),
        new PolicyInput.Context("2026-11-25T10:00:00Z", Map.of("workflow_today", 3L)));
  }

  static JsonNode json(String text) {
    try {
      return PolicyJson.mapper().readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode amount(Object amount) {
    return PolicyJson.mapper().valueToTree(Map.of("amount", amount));
  }

  /** A loopback port nobody listens on (bound, then released). */
  static int closedPort() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until the condition holds, polling every few ms, or fails naming what was awaited. */
  static void await(Duration deadline, String what, BooleanSupplier condition) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        fail("timed out after " + deadline.toMillis() + " ms waiting for: " + what);
      }
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    }
  }
}
