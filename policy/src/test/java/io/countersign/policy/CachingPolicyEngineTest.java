package io.countersign.policy;

import static io.countersign.policy.TestPolicies.input;
import static io.countersign.policy.TestPolicies.json;
import static io.countersign.policy.TestPolicies.opaBinary;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decision cache in front of a real OPA: only what the policy marks cacheable is reused. */
class CachingPolicyEngineTest {

  @Test
  void onlyDecisionsMarkedCacheableAreReusedAndHoldsNever(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("policy.rego"), String.join("\n",
        "package countersign",
        "",
        "default decision := {\"risk\": \"high\", \"action\": \"hold\", \"reasons\": [\"needs a human\"],",
        "  \"approval\": {\"group\": \"g\"}, \"cacheable\": true}",
        "",
        "decision := {\"risk\": \"read_only\", \"action\": \"allow\", \"cacheable\": true} if input.request.method == \"GET\"",
        "",
        "decision := {\"risk\": \"low\", \"action\": \"allow\"} if input.request.method == \"PATCH\"",
        ""));
    try (ManagedOpa opa = ManagedOpa.start(opaBinary(), dir);
        CachingPolicyEngine cached = new CachingPolicyEngine(new OpaServerEngine(opa.url(), "r1"), 100,
            Duration.ofMinutes(1))) {
      for (String method : new String[] {"GET", "GET", "GET", "PATCH", "PATCH", "POST", "POST"}) {
        Decision d = cached.evaluate(input(method, "crm", "sales-assistant", json("{\"a\": 1}")))
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(method.equals("POST") ? PolicyAction.HOLD : PolicyAction.ALLOW, d.action());
      }
      assertEquals(2, cached.hits(), "the 2nd and 3rd GET; PATCH is not cacheable, holds never are");
      assertEquals(5, cached.misses());
    }
  }
}
