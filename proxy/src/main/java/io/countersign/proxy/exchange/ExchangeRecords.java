package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.EventType;
import io.countersign.ledger.InstantText;
import io.countersign.ledger.LedgerEvent;
import io.countersign.policy.Decision;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.Canonicalizer;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds the ledger events of an exchange. The payload shapes are documented in {@code
 * docs/ledger.md}. Secrets never get here: the canonical request holds no credential (the proxy
 * injects it on the way out) and no agent Authorization or Cookie (dropped at canonicalization), and
 * response headers that carry secrets are replaced by a marker.
 */
public final class ExchangeRecords {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_RECORDED_RESPONSE_BODY = 64 * 1024;
  private static final Set<String> SECRET_RESPONSE_HEADERS =
      Set.of("set-cookie", "authorization", "proxy-authenticate", "www-authenticate");

  private final String agentId;
  private final String engine;

  /**
   * @param agentId the sidecar's agent id
   * @param engine the policy engine's name
   */
  public ExchangeRecords(String agentId, String engine) {
    this.agentId = agentId;
    this.engine = engine;
  }

  /** The intent: canonical request, caller and decision. Appended before anything is forwarded. */
  public LedgerEvent decided(Exchange x, Instant now) {
    ObjectNode body = JSON.createObjectNode();
    CanonicalRequest r = x.request();
    body.put("route", r.route().name());
    body.set("request", request(r, recordBody(x.decision())));
    body.set("caller", caller(r.caller()));
    body.set("decision", decision(x.decision()));
    if (!x.spend().isEmpty()) {
      ObjectNode spend = body.putObject("spend");
      x.spend().forEach(spend::put);
    }
    body.put("policy_latency_us", (x.decidedNanos() - x.receivedNanos()) / 1000);
    body.put("received_at", InstantText.format(x.receivedAt()));
    return LedgerEvent.of(EventType.EXCHANGE_DECIDED, x.id(), now, body);
  }

  /** The outcome of a forwarded exchange: the upstream's answer. */
  public LedgerEvent forwarded(Exchange x, FullHttpResponse response, long nowNanos, Instant now) {
    ObjectNode body = JSON.createObjectNode();
    body.put("outcome", "forwarded");
    body.put("status", response.status().code());
    ObjectNode up = body.putObject("response");
    up.put("status", response.status().code());
    ObjectNode headers = up.putObject("headers");
    for (Map.Entry<String, String> h : response.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      headers.put(name, SECRET_RESPONSE_HEADERS.contains(name) ? "[redacted]" : h.getValue());
    }
    up.put("size", response.content().readableBytes());
    up.put("body_sha256", Canonicalizer.sha256(response.content()));
    if (recordBody(x.decision())) {
      JsonNode json = responseJson(response);
      if (json != null) {
        up.set("body", json);
      }
    }
    body.put("upstream_latency_us", (nowNanos - x.forwardedNanos()) / 1000);
    body.put("total_latency_us", (nowNanos - x.receivedNanos()) / 1000);
    body.set("rollback", x.decision().obligations().path("rollback").deepCopy());
    return LedgerEvent.of(EventType.EXCHANGE_COMPLETED, x.id(), now, body);
  }

  /** The outcome of an exchange answered without forwarding (a deny, or a hold that ended unapproved). */
  public LedgerEvent answered(Exchange x, String outcome, int status, long nowNanos, Instant now) {
    ObjectNode body = JSON.createObjectNode();
    body.put("outcome", outcome);
    body.put("status", status);
    body.put("total_latency_us", (nowNanos - x.receivedNanos()) / 1000);
    return LedgerEvent.of(EventType.EXCHANGE_COMPLETED, x.id(), now, body);
  }

  /** The outcome when no usable answer came, or the exchange failed inside the proxy. */
  public LedgerEvent failed(
      Exchange x, int status, String code, String message, boolean requestSent, long nowNanos,
      Instant now) {
    ObjectNode body = JSON.createObjectNode();
    body.put("outcome", "failed");
    body.put("status", status);
    body.put("error", code);
    body.put("message", message);
    body.put("request_sent", requestSent);
    body.put("total_latency_us", (nowNanos - x.receivedNanos()) / 1000);
    return LedgerEvent.of(EventType.EXCHANGE_FAILED, x.id(), now, body);
  }

  /** A request refused before any policy saw it, and why. */
  public LedgerEvent rejected(
      String exchangeId,
      int status,
      String code,
      String message,
      String method,
      String target,
      String remote,
      Instant now) {
    ObjectNode body = JSON.createObjectNode();
    body.put("agent", agentId);
    body.put("status", status);
    body.put("error", code);
    body.put("message", message);
    body.put("method", method);
    body.put("target", target == null ? null : truncate(target, 2048));
    body.put("remote", remote);
    return LedgerEvent.of(EventType.EXCHANGE_REJECTED, exchangeId, now, body);
  }

  private static boolean recordBody(Decision d) {
    return !"digest".equals(d.obligations().path("record").path("body").asText("full"));
  }

  private static ObjectNode request(CanonicalRequest r, boolean withBody) {
    ObjectNode n = JSON.createObjectNode();
    n.put("method", r.method());
    n.put("path", r.path());
    n.put("upstream", r.route().upstream().origin());
    n.put("upstream_target", r.upstreamTarget());
    n.put("query", r.query().canonical());
    ObjectNode headers = n.putObject("headers");
    r.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    if (r.route().credential() != null) {
      n.put("credential_injected", r.route().credential().header());
    }
    n.put("size", r.size());
    n.put("body_sha256", r.bodySha256());
    if (withBody && r.bodyJson() != null) {
      n.set("body", r.bodyJson());
    }
    return n;
  }

  private static ObjectNode caller(CallerIdentity c) {
    ObjectNode n = JSON.createObjectNode();
    n.put("agent", c.agent());
    n.put("workflow", c.workflow());
    n.put("run", c.run());
    n.put("on_behalf_of", c.onBehalfOf());
    n.put("account", c.account());
    n.put("tool", c.tool());
    n.put("prompt_ref", c.promptRef());
    if (c.contextRefs() != null) {
      c.contextRefs().forEach(n.putArray("context_refs")::add);
    }
    return n;
  }

  /** The decision as journaled (and as an approval carries it). */
  public ObjectNode decision(Decision d) {
    ObjectNode n = JSON.createObjectNode();
    n.put("risk", d.risk().wireName());
    n.put("action", d.action().wireName());
    d.reasons().forEach(n.putArray("reasons")::add);
    n.put("rule", d.rule());
    n.put("revision", d.revision());
    n.put("engine", engine);
    if (d.isFailure()) {
      n.put("failure", d.failure());
    }
    n.set("obligations", d.obligations());
    return n;
  }

  private static JsonNode responseJson(FullHttpResponse response) {
    String type = response.headers().get("content-type", "");
    if (!type.toLowerCase(Locale.ROOT).contains("json")
        || response.content().readableBytes() == 0
        || response.content().readableBytes() > MAX_RECORDED_RESPONSE_BODY) {
      return null;
    }
    try {
      return JSON.readTree(new ByteBufInputStream(response.content().duplicate()));
    } catch (IOException e) {
      return null; // not JSON after all: the digest stays the record
    }
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...";
  }
}
