package io.countersign.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.policy.CachingPolicyEngine;
import io.countersign.policy.SwappablePolicyEngine;
import io.countersign.proxy.policyload.LoadedPolicy;
import io.countersign.proxy.policyload.PolicyReloader;

/** The admin port's view of the policy in force, and its reload. */
public final class PolicyAdmin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final PolicyReloader reloader;
  private final SwappablePolicyEngine engine;

  /**
   * @param reloader reloads the policy
   * @param engine the engine in force
   */
  public PolicyAdmin(PolicyReloader reloader, SwappablePolicyEngine engine) {
    this.reloader = reloader;
    this.engine = engine;
  }

  ObjectNode status() {
    LoadedPolicy p = reloader.current();
    ObjectNode n = JSON.createObjectNode();
    n.put("engine", engine.name());
    n.put("revision", p.revision());
    n.put("loaded_at", p.loadedAt().toString());
    n.put("healthy", p.healthy());
    n.put("last_reload_error", reloader.lastError());
    if (engine.current() instanceof CachingPolicyEngine c) {
      n.putObject("cache").put("hits", c.hits()).put("misses", c.misses());
    }
    n.set("fail_closed", JSON.valueToTree(engine.failClosedCounts()));
    return n;
  }

  /** Blocking: call off the event loop. */
  PolicyReloader.Result reload() {
    return reloader.reload("api", false);
  }
}
