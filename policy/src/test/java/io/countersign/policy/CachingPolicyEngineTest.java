package io.countersign.policy;

import static io.countersign.policy.TestPolicies.input;
import static io.countersign.policy.TestPolicies.json;
import static io.countersign.policy.TestPolicies.opaBinary;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decision cache in front of a real OPA: only what the policy marks cacheable is reused. */
class CachingPolicyEngineTest {

  private static final PolicyInput BASE = new PolicyInput(
      new PolicyInput.Request("PATCH", "crm", "/crm/v3/deals/42", "/v3/deals/42",
          Map.of("fields", List.of("amount", "stage")),
          new LinkedHashMap<>(Map.of("content-type", "application/json")),
          json("{\"discount_pct\": 10}"), "ab".repeat(32), 19),
      new PolicyInput.Caller("sales-assistant", "quote-prep", "r-1", "ana@example.com", "acme",
          "update_deal", "sha256:p", List.of("doc-1")),
      new PolicyInput.Context("2026-11-25T10:00:00Z", Map.of("workflow_today", 3L)));

  @Test
  void theKeyChangesWithEveryComponentOfTheRequestAndCallerAndNotWithContextOrTrace()
      throws Exception {
    String base = CachingPolicyEngine.key(BASE);
    int checked = 0;
    for (RecordComponent rc : PolicyInput.Request.class.getRecordComponents()) {
      PolicyInput changed = new PolicyInput(
          changed(BASE.request(), rc), BASE.caller(), BASE.context());
      assertNotEquals(base, CachingPolicyEngine.key(changed), "request." + rc.getName());
      checked++;
    }
    for (RecordComponent rc : PolicyInput.Caller.class.getRecordComponents()) {
      PolicyInput changed = new PolicyInput(
          BASE.request(), changed(BASE.caller(), rc), BASE.context());
      assertNotEquals(base, CachingPolicyEngine.key(changed), "caller." + rc.getName());
      checked++;
    }
    assertEquals(19, checked);

    PolicyInput otherContext = new PolicyInput(BASE.request(), BASE.caller(),
        new PolicyInput.Context("2026-11-26T00:00:00Z", Map.of("workflow_today", 900L)));
    assertEquals(base, CachingPolicyEngine.key(otherContext));
    Map<String, String> traced = new LinkedHashMap<>(BASE.request().headers());
    traced.put("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    traced.put("tracestate", "k=v");
    PolicyInput.Request r = BASE.request();
    assertEquals(base, CachingPolicyEngine.key(new PolicyInput(new PolicyInput.Request(r.method(),
        r.route(), r.path(), r.upstreamPath(), r.query(), traced, r.body(), r.bodySha256(),
        r.size()), BASE.caller(), BASE.context())));
    // values that would run together without length prefixes
    assertNotEquals(
        CachingPolicyEngine.key(new PolicyInput(new PolicyInput.Request("GET", "crm", "/a", "/ab",
            Map.of(), Map.of(), null, null, 0), BASE.caller(), BASE.context())),
        CachingPolicyEngine.key(new PolicyInput(new PolicyInput.Request("GET", "crm", "/aa", "/b",
            Map.of(), Map.of(), null, null, 0), BASE.caller(), BASE.context())));
  }

  @Test
  void theKeyChangesWithEveryComponentOfInputMcp() throws Exception {
    PolicyInput.Mcp mcp = new PolicyInput.Mcp("tools/call", "issue_refund",
        json("{\"amount\": 250}"), json("7"), "s-1", "2025-06-18", "crm://c/1", "letter", false,
        false, List.of(new PolicyInput.Message("ping", null, null, json("1"), null, null, false,
            false)));
    PolicyInput withMcp = new PolicyInput(BASE.request(), BASE.caller(), BASE.context(), mcp);
    String base = CachingPolicyEngine.key(withMcp);
    assertNotEquals(CachingPolicyEngine.key(BASE), base, "an input with mcp is another input");
    int checked = 0;
    for (RecordComponent rc : PolicyInput.Mcp.class.getRecordComponents()) {
      PolicyInput changed = new PolicyInput(BASE.request(), BASE.caller(), BASE.context(),
          changed(mcp, rc));
      assertNotEquals(base, CachingPolicyEngine.key(changed), "mcp." + rc.getName());
      checked++;
    }
    assertEquals(11, checked);
  }

  /** A copy of the record with one component given another value of its type. */
  private static <T extends Record> T changed(T record, RecordComponent target) throws Exception {
    RecordComponent[] components = record.getClass().getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent rc = components[i];
      types[i] = rc.getType();
      Object v = rc.getAccessor().invoke(record);
      if (rc.getName().equals(target.getName())) {
        v = other(rc.getType(), v);
      }
      values[i] = v;
    }
    @SuppressWarnings("unchecked")
    T copy = (T) record.getClass().getDeclaredConstructor(types).newInstance(values);
    return copy;
  }

  private static Object other(Class<?> type, Object current) {
    if (type == String.class) {
      return current + "x";
    } else if (type == long.class) {
      return (Long) current + 1;
    } else if (type == boolean.class) {
      return !(Boolean) current;
    } else if (type == Map.class) {
      Map<Object, Object> m = new LinkedHashMap<>((Map<?, ?>) current);
      Object sample = m.values().iterator().next();
      m.put("x-added", sample instanceof List ? List.of("v") : "v");
      return m;
    } else if (type == List.class) {
      // a list of batch messages loses one; a list of strings gets another one
      return current instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof PolicyInput.Message
          ? List.of() : List.of("doc-2");
    } else if (type == com.fasterxml.jackson.databind.JsonNode.class) {
      return json("{\"discount_pct\": 11}");
    }
    throw new AssertionError("no other value for " + type);
  }

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

  @Test
  void aCachedDecisionIsReusedUntilItsTtlAndJudgedAgainAfter(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("policy.rego"), String.join("\n",
        "package countersign",
        "",
        "default decision := {\"risk\": \"read_only\", \"action\": \"allow\", \"cacheable\": true}",
        ""));
    AtomicLong nanos = new AtomicLong();
    try (ManagedOpa opa = ManagedOpa.start(opaBinary(), dir);
        CachingPolicyEngine cached = new CachingPolicyEngine(new OpaServerEngine(opa.url(), "r1"), 100,
            Duration.ofMinutes(5), nanos::get)) {
      PolicyInput get = input("GET", "crm", "sales-assistant", null);
      cached.evaluate(get).toCompletableFuture().get(10, TimeUnit.SECONDS);
      nanos.addAndGet(Duration.ofMinutes(5).minusNanos(1).toNanos());
      cached.evaluate(get).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(1, cached.hits(), "still fresh one nanosecond before the TTL");
      nanos.addAndGet(1);
      cached.evaluate(get).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(1, cached.hits(), "expired at the TTL: judged again");
      assertEquals(2, cached.misses());
    }
  }
}
