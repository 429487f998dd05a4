package io.countersign.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.ledger.LedgerEvent;
import io.countersign.policy.Decision;
import io.countersign.policy.DecisionReader;
import io.countersign.policy.PolicyAction;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.PolicyJson;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.canonical.RequestRejectedException;
import io.countersign.proxy.config.ProxyConfig.Credential;
import io.countersign.proxy.config.ProxyConfig.RouteConfig;
import io.countersign.proxy.exchange.ExchangeRecords;
import io.countersign.proxy.exchange.PolicyInputs;
import io.countersign.proxy.route.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The exchange every benchmark measures, built through the proxy's own public classes so that each
 * stage sees what it sees in production: a sales agent in the {@code quote-prep} workflow reads a
 * deal ({@code GET /crm/v3/deals/42?fields=amount,stage}) and then moves its stage and discount
 * ({@code PATCH /crm/v3/deals/42} with a ~200-byte JSON body). Both are allowed by the repository's
 * {@code rego/} ({@code crm.read}, {@code crm.deal_update}); {@link #requireDecision} checks that,
 * so a policy change can never turn a benchmark into a measurement of the default deny.
 */
public final class SampleExchange {
  /** The sidecar's agent id, as in {@code examples/countersign.yaml}. */
  public static final String AGENT = "sales-assistant";

  /** When the request was received; fixed, so every run judges the same input. */
  public static final Instant RECEIVED_AT = Instant.parse("2026-11-25T10:00:00.123Z");

  /** Today's spend so far for this caller, below every limit in the catalog. */
  public static final Map<String, Long> SPEND =
      Map.of("agent_today", 37L, "workflow_today", 12L, "account_today", 3L);

  /** The PATCH body: a stage move with a discount within the 15% limit (no owner, no amount). */
  public static final String PATCH_BODY =
      "{\"stage\":\"negotiation\",\"discount_pct\":10,\"probability\":60,"
          + "\"close_date\":\"2026-12-15\",\"next_step\":\"Send the revised proposal with the 10%"
          + " discount after Tuesday's call\",\"tags\":[\"q4\",\"renewal\"]}";

  /** The decision the policy returns for the PATCH, as the ledger journals it. */
  private static final String PATCH_DECISION =
      "{\"risk\":\"low\",\"action\":\"allow\",\"reasons\":[\"deal update with a discount within"
          + " the 15% limit\"],\"rule\":\"crm.deal_update\",\"record\":{\"body\":\"full\"},"
          + "\"cost\":1,\"cacheable\":false,\"rollback\":{\"method\":\"PATCH\","
          + "\"path\":\"{upstream_path}\",\"body_from\":\"pre_image\"}}";

  private SampleExchange() {}

  /**
   * The canonicalizer as {@code CountersignServer} builds it: the routes of {@code
   * examples/countersign.yaml}, credentials resolved from the environment, the agent id.
   */
  public static Canonicalizer canonicalizer() {
    RouteTable routes =
        RouteTable.from(
            List.of(
                new RouteConfig(
                    "crm",
                    "/crm",
                    "http://127.0.0.1:9000",
                    new Credential("Authorization", "Bearer ", "CRM_TOKEN", null)),
                new RouteConfig(
                    "billing",
                    "/billing",
                    "http://127.0.0.1:9000",
                    new Credential("Authorization", "Bearer ", "BILLING_TOKEN", null))),
            Map.of("CRM_TOKEN", "bench-crm-token", "BILLING_TOKEN", "bench-billing-token"));
    return new Canonicalizer(routes, AGENT);
  }

  /** The read, with an empty body. The caller releases it. */
  public static FullHttpRequest get() {
    return request(HttpMethod.GET, "/crm/v3/deals/42?fields=amount,stage", "read_crm", null);
  }

  /** The update, with {@link #PATCH_BODY}. The caller releases it. */
  public static FullHttpRequest patch() {
    return request(HttpMethod.PATCH, "/crm/v3/deals/42", "update_deal", PATCH_BODY);
  }

  /**
   * A form-encoded update as Stripe-style SDKs send it (bracket names, already in the proxy's
   * canonical encoding, so it is forwarded without a copy).
   */
  public static final String FORM_BODY =
      "stage=negotiation&discount_pct=10&metadata%5Bsource%5D=call&metadata%5Bnote%5D=follow%20up"
          + "&tags%5B%5D=q4&tags%5B%5D=renewal&close_date=2026-12-15";

  /** The update as a form, with {@link #FORM_BODY}. The caller releases it. */
  public static FullHttpRequest formPatch() {
    FullHttpRequest r = request(HttpMethod.PATCH, "/crm/v3/deals/42", "update_deal", FORM_BODY);
    r.headers().set("Content-Type", "application/x-www-form-urlencoded");
    return r;
  }

  /**
   * A request as the proxy's aggregator hands it over: the body in a pooled direct buffer, the
   * headers an agent's HTTP client sends plus Countersign's identity headers.
   */
  private static FullHttpRequest request(HttpMethod method, String uri, String tool, String body) {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    ByteBuf content = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
    content.writeBytes(bytes);
    FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, content);
    r.headers()
        .add("Host", "127.0.0.1:8080")
        .add("User-Agent", "sales-assistant/2.3 python-httpx/0.27.2")
        .add("Accept", "application/json")
        .add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .add("X-Countersign-Workflow", "quote-prep")
        .add("X-Countersign-Run", "run-2026-11-25-0042")
        .add("X-Countersign-On-Behalf-Of", "ana@example.com")
        .add("X-Countersign-Account", "acme")
        .add("X-Countersign-Tool", tool);
    if (body != null) {
      r.headers()
          .add("Content-Type", "application/json")
          .add("Content-Length", Integer.toString(bytes.length));
    }
    return r;
  }

  /**
   * Canonicalizes {@code request} and holds the result (with its retained body slice); the
   * caller releases it.
   */
  public static CanonicalRequest canonical(Canonicalizer canonicalizer, FullHttpRequest request) {
    try {
      return canonicalizer.canonicalize(request);
    } catch (RequestRejectedException e) {
      throw new IllegalStateException("the sample request is refused: " + e.getMessage(), e);
    }
  }

  /** The policy input the proxy builds for {@code request} ({@link PolicyInputs}). */
  public static PolicyInput policyInput(Canonicalizer canonicalizer, FullHttpRequest request) {
    CanonicalRequest c = canonical(canonicalizer, request);
    try {
      return PolicyInputs.of(c, RECEIVED_AT, SPEND);
    } finally {
      c.release();
    }
  }

  /**
   * The {@code exchange.decided} event the proxy appends before it forwards the PATCH, built by
   * {@link ExchangeRecords} from the canonical request and the policy's decision.
   */
  public static LedgerEvent decidedEvent() {
    Canonicalizer canonicalizer = canonicalizer();
    FullHttpRequest request = patch();
    try {
      CanonicalRequest c = canonical(canonicalizer, request);
      try {
        return new ExchangeRecords(AGENT, "wasm").intent("ex-01JDB3K6R9Q4W2V8T5X7Y1Z3A0", c,
            DecisionReader.read(json(PATCH_DECISION), "sha256:3b9e1c0d2f4a5b6c"), SPEND, 48,
            RECEIVED_AT, RECEIVED_AT.plusMillis(1));
      } finally {
        c.release();
      }
    } finally {
      request.release();
    }
  }

  /**
   * Fails unless {@code d} is an allow by {@code rule}: a benchmark input the policy denies would
   * measure the default-deny path, not the request it claims to.
   */
  public static Decision requireDecision(Decision d, String rule) {
    if (d.isFailure() || d.action() != PolicyAction.ALLOW || !rule.equals(d.rule())) {
      throw new IllegalStateException(
          "the policy no longer allows the sample request by "
              + rule
              + ": got "
              + d.action()
              + " by "
              + d.rule()
              + " "
              + d.reasons()
              + (d.isFailure() ? " (failure " + d.failure() + ")" : "")
              + "; update SampleExchange so the benchmark measures a realistic allowed request");
    }
    return d;
  }

  private static JsonNode json(String text) {
    try {
      return PolicyJson.mapper().readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
