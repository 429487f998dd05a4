package io.countersign.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A policy decision as journaled (with the intent, with a hold, and in a shadow disagreement).
 *
 * @param risk the risk class's wire name
 * @param action the action's wire name
 * @param reasons why, for humans
 * @param rule the rule that decided, or null
 * @param revision the policy revision that decided
 * @param engine the engine that evaluated it ({@code opa}, {@code wasm})
 * @param failure why the proxy failed closed, or null for a real decision
 * @param obligations the decision's obligations object (approval terms, cost, rollback, record,
 *     redact ...), or null
 */
public record DecisionRecord(
    String risk,
    String action,
    List<String> reasons,
    String rule,
    String revision,
    String engine,
    String failure,
    JsonNode obligations) {

  /** Normalizes: no null list, and a JSON null obligations object is no object. */
  public DecisionRecord {
    reasons = reasons == null ? List.of() : List.copyOf(reasons);
    obligations = Json.orNull(obligations);
  }
}
