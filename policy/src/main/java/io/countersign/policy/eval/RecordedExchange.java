package io.countersign.policy.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.policy.PolicyInput;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One exchange as the ledger recorded it: the policy input rebuilt from its {@code
 * exchange.decided} body, and the decision it got then.
 *
 * <p>The input is rebuilt the way the proxy built it ({@code PolicyInputs}): the request's method,
 * path and headers as recorded; the route from the event; {@code upstream_path} from {@code
 * upstream_target} without its query; {@code query} parsed back from the canonical query; the body
 * when the ledger kept it (a rule may record only its digest), otherwise null; the caller as
 * recorded; {@code context.time} = {@code received_at} to the millisecond (the event's own time
 * when that is missing); {@code context.spend} as recorded when the event carries it, otherwise
 * empty.
 *
 * @param exchangeId the exchange id
 * @param index the journal index of the event (orders the report)
 * @param input the rebuilt policy input
 * @param before the recorded decision's action, risk and rule
 * @param bodyRecorded false when the request had a body that the ledger did not keep (the replay
 *     judges it as null, so its decision may differ for that reason alone)
 */
public record RecordedExchange(
    String exchangeId, long index, PolicyInput input, DecisionSummary before, boolean bodyRecorded) {

  /** Validates the record. */
  public RecordedExchange {
    Objects.requireNonNull(exchangeId, "exchangeId");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(before, "before");
  }

  /** {@code METHOD /path} as the agent sent it, for reports. */
  public String requestLine() {
    return input.request().method() + " " + input.request().path();
  }

  /**
   * Rebuilds an exchange from an {@code exchange.decided} event.
   *
   * @param exchangeId the event's exchange id
   * @param index the event's journal index
   * @param time the event's time (used when the body has no {@code received_at})
   * @param body the event's body
   * @throws IllegalArgumentException when the body lacks the request or the decision
   */
  public static RecordedExchange fromDecided(String exchangeId, long index, Instant time, JsonNode body) {
    JsonNode req = body.path("request");
    JsonNode decision = body.path("decision");
    if (!req.isObject() || !decision.isObject()) {
      throw new IllegalArgumentException("exchange " + exchangeId + ": the event has no request or decision");
    }
    String target = text(req, "upstream_target");
    String upstreamPath = target == null ? null : target.split("\\?", 2)[0];
    long size = req.path("size").asLong(0);
    JsonNode recordedBody = req.get("body");
    boolean bodyRecorded = recordedBody != null || size == 0;
    JsonNode bodyValue = recordedBody == null || recordedBody.isNull() ? null : recordedBody;
    Map<String, String> headers = new LinkedHashMap<>();
    req.path("headers").properties().forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
    PolicyInput input =
        new PolicyInput(
            new PolicyInput.Request(
                text(req, "method"),
                routeOf(body),
                text(req, "path"),
                upstreamPath,
                QueryParameters.parse(text(req, "query")),
                headers,
                bodyValue,
                text(req, "body_sha256"),
                size),
            caller(body.path("caller")),
            new PolicyInput.Context(timeOf(body, time), spendOf(body)));
    DecisionSummary before =
        new DecisionSummary(text(decision, "action"), text(decision, "risk"), text(decision, "rule"));
    return new RecordedExchange(exchangeId, index, input, before, bodyRecorded);
  }

  private static String routeOf(JsonNode body) {
    String route = text(body, "route");
    return route != null ? route : text(body.path("request"), "route");
  }

  private static String timeOf(JsonNode body, Instant eventTime) {
    String received = text(body, "received_at");
    Instant t = eventTime;
    if (received != null) {
      try {
        t = Instant.parse(received);
      } catch (DateTimeParseException e) {
        t = eventTime;
      }
    }
    return t.truncatedTo(ChronoUnit.MILLIS).toString();
  }

  private static Map<String, Long> spendOf(JsonNode body) {
    JsonNode spend = body.path("context").path("spend");
    if (!spend.isObject()) {
      spend = body.path("spend");
    }
    if (!spend.isObject()) {
      return Map.of();
    }
    Map<String, Long> out = new LinkedHashMap<>();
    spend.properties().forEach(e -> {
      if (e.getValue().isNumber()) {
        out.put(e.getKey(), e.getValue().longValue());
      }
    });
    return out;
  }

  private static PolicyInput.Caller caller(JsonNode c) {
    List<String> refs = null;
    if (c.path("context_refs").isArray()) {
      refs = new ArrayList<>();
      for (JsonNode r : c.path("context_refs")) {
        refs.add(r.asText());
      }
    }
    return new PolicyInput.Caller(
        text(c, "agent"), text(c, "workflow"), text(c, "run"), text(c, "on_behalf_of"),
        text(c, "account"), text(c, "tool"), text(c, "prompt_ref"), refs);
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.path(key);
    return v.isTextual() ? v.textValue() : null;
  }
}
