package io.countersign.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.List;
import java.util.Objects;

/**
 * A policy's verdict on one request.
 *
 * @param risk the risk class
 * @param action allow, deny or hold
 * @param reasons human-readable reasons, never empty for deny and hold
 * @param rule the id of the rule that decided, or null
 * @param obligations the rest of the decision object as the policy returned it (approval, rollback,
 *     record, cost ...), or a JSON null
 * @param revision the policy revision that made the decision
 * @param failure null for a real decision; otherwise why the proxy failed closed ({@code
 *     policy_undefined}, {@code policy_error}, {@code policy_timeout}, {@code policy_invalid})
 */
public record Decision(
    RiskClass risk,
    PolicyAction action,
    List<String> reasons,
    String rule,
    JsonNode obligations,
    String revision,
    String failure) {

  /** Validates and copies the reasons. */
  public Decision {
    Objects.requireNonNull(risk, "risk");
    Objects.requireNonNull(action, "action");
    reasons = List.copyOf(reasons);
    obligations = obligations == null ? NullNode.getInstance() : obligations;
  }

  /**
   * A deny the proxy makes itself because it got no usable decision (fail closed).
   *
   * @param failure the failure kind, e.g. {@code policy_timeout}
   * @param detail what went wrong, for the agent and the ledger
   * @param revision the policy revision in force, or null when unknown
   */
  public static Decision failClosed(String failure, String detail, String revision) {
    return new Decision(
        RiskClass.HIGH,
        PolicyAction.DENY,
        List.of("policy unavailable, failing closed: " + detail),
        null,
        NullNode.getInstance(),
        revision,
        failure);
  }

  /**
   * What the exchange costs when it is forwarded ({@code obligations.cost}, 0 when absent): counted
   * into the spend the policy sees and into the metrics.
   */
  public double cost() {
    return obligations.path("cost").asDouble(0);
  }

  /** The obligation named {@code name} ({@code approval}, {@code rollback} ...), or a missing node. */
  public JsonNode obligation(String name) {
    return obligations.path(name);
  }

  /** True when this decision was made by the proxy failing closed, not by the policy. */
  public boolean isFailure() {
    return failure != null;
  }
}
