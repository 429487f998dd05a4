package io.countersign.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns the value of {@code data.countersign.decision} into a {@link Decision}, failing closed on
 * anything that is not a well-formed decision.
 *
 * <p>Both engines read their results here, so an OPA server and the in-process wasm engine judge
 * the same JSON the same way. An undefined result (absent or JSON null) becomes {@code
 * policy_undefined}, as OPA's own authorizer treats undefined as an error, never an allow; a
 * result of the wrong shape becomes {@code policy_invalid} with a detail naming exactly what was
 * wrong, so the policy author can fix it from the ledger entry alone.
 *
 * <p>Stateless and thread-safe.
 */
public final class DecisionReader {
  private static final Set<String> CORE_FIELDS = Set.of("risk", "action", "reasons", "rule");

  private DecisionReader() {}

  /**
   * Reads one decision.
   *
   * @param result the query result: the decision object, or null / a missing or null node when the
   *     query was undefined
   * @param revision the policy revision that produced the result, copied into the decision
   * @return the policy's decision, or a fail-closed deny ({@code policy_undefined}, {@code
   *     policy_invalid}); never null, never throws
   */
  public static Decision read(JsonNode result, String revision) {
    if (result == null || result.isMissingNode() || result.isNull()) {
      return Decision.failClosed(
          "policy_undefined", "data.countersign.decision is undefined for this input", revision);
    }
    if (!result.isObject()) {
      return invalid("decision is " + describe(result) + ", expected an object", revision);
    }
    JsonNode riskNode = result.get("risk");
    if (riskNode == null || !riskNode.isTextual()) {
      return invalid("decision.risk is " + describe(riskNode) + ", expected a string", revision);
    }
    RiskClass risk;
    try {
      risk = RiskClass.fromWire(riskNode.textValue());
    } catch (IllegalArgumentException e) {
      return invalid("decision.risk: " + e.getMessage(), revision);
    }
    JsonNode actionNode = result.get("action");
    if (actionNode == null || !actionNode.isTextual()) {
      return invalid(
          "decision.action is " + describe(actionNode) + ", expected a string", revision);
    }
    PolicyAction action;
    try {
      action = PolicyAction.fromWire(actionNode.textValue());
    } catch (IllegalArgumentException e) {
      return invalid("decision.action: " + e.getMessage(), revision);
    }
    List<String> reasons = new ArrayList<>();
    JsonNode reasonsNode = result.get("reasons");
    if (reasonsNode != null && !reasonsNode.isNull()) {
      if (!reasonsNode.isArray()) {
        return invalid(
            "decision.reasons is " + describe(reasonsNode) + ", expected an array of strings",
            revision);
      }
      for (int i = 0; i < reasonsNode.size(); i++) {
        JsonNode reason = reasonsNode.get(i);
        if (!reason.isTextual()) {
          return invalid(
              "decision.reasons[" + i + "] is " + describe(reason) + ", expected a string",
              revision);
        }
        reasons.add(reason.textValue());
      }
    }
    if (action != PolicyAction.ALLOW && reasons.isEmpty()) {
      return invalid(
          "decision.action is " + action.wireName() + " but decision.reasons is empty (a "
              + action.wireName() + " must say why)",
          revision);
    }
    JsonNode ruleNode = result.get("rule");
    String rule = null;
    if (ruleNode != null && !ruleNode.isNull()) {
      if (!ruleNode.isTextual()) {
        return invalid("decision.rule is " + describe(ruleNode) + ", expected a string", revision);
      }
      rule = ruleNode.textValue();
    }
    ObjectNode obligations = ((ObjectNode) result).deepCopy();
    obligations.remove(CORE_FIELDS);
    return new Decision(risk, action, reasons, rule, obligations, revision, null);
  }

  private static Decision invalid(String detail, String revision) {
    return Decision.failClosed("policy_invalid", detail, revision);
  }

  private static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "missing";
    }
    String text = node.toString();
    if (text.length() > 60) {
      text = text.substring(0, 57) + "...";
    }
    return "a " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " (" + text + ")";
  }
}
