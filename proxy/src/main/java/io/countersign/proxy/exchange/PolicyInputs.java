package io.countersign.proxy.exchange;

import io.countersign.ledger.InstantText;
import io.countersign.ledger.event.Caller;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.McpRecord;
import io.countersign.ledger.event.RequestRecord;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.eval.DecisionSummary;
import io.countersign.policy.eval.QueryParameters;
import io.countersign.policy.eval.RecordedExchange;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.McpCall;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the policy input: from a canonical request (a view, never a second interpretation), and
 * again from the ledger's record of one, for replays.
 */
public final class PolicyInputs {
  private PolicyInputs() {}

  /** The input for {@code request}, received at {@code time}, with no spend counters. */
  public static PolicyInput of(CanonicalRequest request, Instant time) {
    return of(request, time, Map.of());
  }

  /** The input for {@code request}, received at {@code time}, with the caller's spend so far. */
  public static PolicyInput of(CanonicalRequest request, Instant time, Map<String, Long> spend) {
    Map<String, String> headers = new LinkedHashMap<>();
    request.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    CallerIdentity c = request.caller();
    return new PolicyInput(
        new PolicyInput.Request(
            request.method(),
            request.route().name(),
            request.path(),
            request.upstreamPath(),
            request.query().params(),
            headers,
            request.content().kind().wireName(),
            request.content().view(),
            request.content().nested(),
            request.bodySha256(),
            request.size()),
        new PolicyInput.Caller(
            c.agent(),
            c.workflow(),
            c.run(),
            c.onBehalfOf(),
            c.account(),
            c.tool(),
            c.promptRef(),
            c.contextRefs()),
        new PolicyInput.Context(InstantText.format(time.truncatedTo(ChronoUnit.MILLIS)), spend),
        mcp(request.mcp()));
  }

  /**
   * {@code input.mcp} of an MCP route's request: one message's fields at the top, a batch's in
   * {@code batch}, all null for a request without a body; null on other routes.
   */
  static PolicyInput.Mcp mcp(McpCall call) {
    if (call == null) {
      return null;
    }
    McpCall.Message m = call.single();
    if (m != null) {
      return new PolicyInput.Mcp(m.method(), m.tool(), m.arguments(), m.id(), call.sessionId(),
          call.protocolVersion(), m.uri(), m.prompt(), m.isNotification(),
          m.kind() == McpCall.Kind.RESPONSE, null);
    }
    List<PolicyInput.Message> batch = call.batch()
        ? call.messages().stream().map(b -> new PolicyInput.Message(b.method(), b.tool(),
            b.arguments(), b.id(), b.uri(), b.prompt(), b.isNotification(),
            b.kind() == McpCall.Kind.RESPONSE)).toList()
        : null;
    return new PolicyInput.Mcp(null, null, null, null, call.sessionId(), call.protocolVersion(),
        null, null, false, false, batch);
  }

  /**
   * The exchange a {@code exchange.decided} event records, with its input rebuilt as {@link #of}
   * built it then: method, path and headers as recorded; {@code upstream_path} from the upstream
   * target without its query; {@code query} parsed back from the canonical query; the body when the
   * ledger kept it (a rule may record only its digest), otherwise null; the caller as recorded;
   * {@code context.time} = {@code received_at} to the millisecond (the event's own time when that
   * is missing); {@code context.spend} as recorded, otherwise empty; {@code mcp} as recorded (its
   * arguments only when the ledger kept the body).
   *
   * @throws IllegalArgumentException when the event lacks the request or the decision
   */
  public static RecordedExchange recorded(String exchangeId, long index, Instant eventTime,
      ExchangeDecided d) {
    RequestRecord req = d.request();
    DecisionRecord decision = d.decision();
    if (req == null || decision == null) {
      throw new IllegalArgumentException("exchange " + exchangeId + ": the event has no request or decision");
    }
    String target = req.upstreamTarget();
    String upstreamPath = target == null ? null : target.split("\\?", 2)[0];
    boolean bodyRecorded = req.body() != null || req.size() == 0 || "opaque".equals(req.bodyKind());
    Caller c = d.caller() == null ? new Caller(null, null, null, null, null, null, null, null) : d.caller();
    Map<String, List<String>> query = QueryParameters.parse(req.query());
    Map<String, String> headers = new LinkedHashMap<>(req.headers());
    PolicyInput.Request request = req.bodyKind() == null
        // a ledger from before body kinds: JSON or nothing, as it was judged then
        ? new PolicyInput.Request(req.method(), d.route(), req.path(), upstreamPath, query, headers,
            req.body(), req.bodySha256(), req.size())
        : new PolicyInput.Request(req.method(), d.route(), req.path(), upstreamPath, query, headers,
            req.bodyKind(), req.body(), req.bodyNested(), req.bodySha256(), req.size());
    PolicyInput input = new PolicyInput(
        request,
        new PolicyInput.Caller(c.agent(), c.workflow(), c.run(), c.onBehalfOf(), c.account(),
            c.tool(), c.promptRef(), c.contextRefs()),
        new PolicyInput.Context(time(d.receivedAt(), eventTime),
            d.spend() == null ? Map.of() : d.spend()),
        mcp(d.mcp()));
    return new RecordedExchange(exchangeId, index, input,
        new DecisionSummary(decision.action(), decision.risk(), decision.rule()), bodyRecorded);
  }

  /** {@code input.mcp} as an {@code exchange.decided} event recorded it. */
  private static PolicyInput.Mcp mcp(McpRecord m) {
    if (m == null) {
      return null;
    }
    List<PolicyInput.Message> batch = m.batch() == null ? null : m.batch().stream()
        .map(b -> new PolicyInput.Message(b.method(), b.tool(), b.arguments(), b.requestId(),
            b.uri(), b.prompt(), b.isNotification(), b.isResponse()))
        .toList();
    return new PolicyInput.Mcp(m.method(), m.tool(), m.arguments(), m.requestId(), m.sessionId(),
        m.protocolVersion(), m.uri(), m.prompt(), m.isNotification(), m.isResponse(), batch);
  }

  private static String time(String receivedAt, Instant eventTime) {
    Instant t = eventTime;
    if (receivedAt != null) {
      try {
        t = Instant.parse(receivedAt);
      } catch (DateTimeParseException e) {
        t = eventTime;
      }
    }
    return t.truncatedTo(ChronoUnit.MILLIS).toString();
  }
}
