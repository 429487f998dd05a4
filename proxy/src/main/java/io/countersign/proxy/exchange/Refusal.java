package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.policy.Decision;
import java.util.ArrayList;
import java.util.List;

/**
 * An answer the proxy gives in place of the upstream's, in words every {@link ErrorDialect} can
 * write: a refusal (deny, a hold that ended without approval, bad input, fail-closed) or a
 * failure (upstream down, ledger down).
 *
 * @param status the HTTP status the refusal means (a dialect may answer another, as JSON-RPC does)
 * @param code the stable error code of {@code docs/errors.md}
 * @param message one sentence saying what happened
 * @param exchangeId the exchange's id, or null (a ticket poll)
 * @param decision the decision that refused, or null when no policy decided
 * @param ticket the hold's id when one was opened, else null
 */
public record Refusal(int status, String code, String message, String exchangeId,
    Decision decision, String ticket) {

  /** A refusal no policy decided. */
  public static Refusal error(int status, String code, String message, String exchangeId) {
    return new Refusal(status, code, message, exchangeId, null, null);
  }

  /**
   * The message with the rule, the reasons, the ticket and the exchange id, for dialects whose
   * clients show only one message: what an SDK puts in its exception is what the agent (and the
   * model behind it) reads, so it must say why, not only that.
   */
  public String explained() {
    List<String> parts = new ArrayList<>();
    if (decision != null) {
      String reasons = String.join("; ", decision.reasons());
      boolean said = message.contains(reasons); // a fail-closed message is its reason
      if (decision.rule() != null) {
        parts.add("rule " + decision.rule() + (said ? "" : ": " + reasons));
      } else if (!said) {
        parts.add(reasons);
      }
    }
    if (ticket != null) {
      parts.add("ticket " + ticket);
    }
    if (exchangeId != null) {
      parts.add("exchange " + exchangeId);
    }
    return parts.isEmpty() ? message : message + " [" + String.join(", ", parts) + "]";
  }

  /**
   * The proxy's own fields: {@code exchange_id} and, for a policy outcome, {@code risk},
   * {@code action}, {@code rule}, {@code reasons}, {@code policy_revision}, and {@code ticket}
   * when a hold was opened. Written into {@code into} in this order.
   */
  ObjectNode details(ObjectNode into) {
    into.put("exchange_id", exchangeId);
    if (decision != null) {
      into.put("risk", decision.risk().wireName());
      into.put("action", decision.action().wireName());
      into.put("rule", decision.rule());
      decision.reasons().forEach(into.putArray("reasons")::add);
      into.put("policy_revision", decision.revision());
    }
    if (ticket != null) {
      into.put("ticket", ticket);
    }
    return into;
  }

  /** {@link #details} in a new object. */
  ObjectNode details() {
    return details(JsonNodeFactory.instance.objectNode());
  }
}
