package io.countersign.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.approval.ApprovalRefusedException;
import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.approval.Approver;
import io.countersign.proxy.approval.ApproverDirectory;
import io.countersign.proxy.approval.HeldBodies;
import io.countersign.proxy.approval.PendingApproval;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The admin port's HTTP API (approvals, health). Never reachable from the agent port. Every
 * approvals call needs an approver's bearer token. Runs on the admin channel's event loop; store
 * calls return stages that resume it, so nothing here blocks.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ONE = Pattern.compile("/v1/approvals/([^/]+)");
  private static final java.util.concurrent.Executor SCRAPER =
      java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "countersign-metrics-scrape");
        t.setDaemon(true);
        return t;
      });
  /** Token checks may fetch an IdP's keys (OIDC), so they run here, never on an event loop. */
  private static final java.util.concurrent.Executor AUTH =
      java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "countersign-admin-auth");
        t.setDaemon(true);
        return t;
      });
  /** Reloads take seconds (a new OPA, a wasm build): their own thread, one at a time. */
  private static final java.util.concurrent.Executor RELOADS =
      java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "countersign-policy-reload");
        t.setDaemon(true);
        return t;
      });
  private static final Pattern VOTE = Pattern.compile("/v1/approvals/([^/]+)/(approve|deny)");

  private final ApprovalStore approvals;
  private final ApproverDirectory approvers;
  private final Map<String, BooleanSupplier> readiness;
  private final Clock clock;
  private final java.util.function.Supplier<String> metrics;
  private final PolicyAdmin policy;
  private final HeldBodies heldBodies;

  /** The group whose members may reload the policy. */
  static final String POLICY_ADMINS = "policy-admins";

  AdminHandler(ApprovalStore approvals, HeldBodies heldBodies, ApproverDirectory approvers,
      Map<String, BooleanSupplier> readiness, java.util.function.Supplier<String> metrics,
      PolicyAdmin policy, Clock clock) {
    this.heldBodies = heldBodies;
    this.metrics = metrics;
    this.policy = policy;
    this.approvals = approvals;
    this.approvers = approvers;
    this.readiness = readiness;
    this.clock = clock;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    if (req.decoderResult().isFailure()) {
      send(ctx, error(400, "malformed_request", "the request could not be parsed"), false);
      return;
    }
    QueryStringDecoder uri = new QueryStringDecoder(req.uri());
    String path = uri.path();
    String method = req.method().name();
    if (path.equals("/healthz") && method.equals("GET")) {
      send(ctx, json(200, JSON.createObjectNode().put("status", "alive")), keepAlive);
      return;
    }
    if (path.equals("/readyz") && method.equals("GET")) {
      // a check may call the managed OPA's health endpoint: off the event loop
      java.util.concurrent.CompletableFuture.supplyAsync(this::readiness, SCRAPER).whenComplete((body, err) ->
          ctx.executor().execute(() -> send(ctx, err != null
              ? error(503, "readiness_failed", String.valueOf(err))
              : json(body.path("ready").asBoolean() ? 200 : 503, body), keepAlive)));
      return;
    }
    if (path.equals("/metrics") && method.equals("GET")) {
      // gauges may touch the disk (ledger size): scrape off the event loop
      java.util.concurrent.CompletableFuture.supplyAsync(metrics, SCRAPER).whenComplete((text, err) ->
          ctx.executor().execute(() -> {
            if (err != null) {
              send(ctx, error(500, "metrics_failed", String.valueOf(err)), keepAlive);
              return;
            }
            byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            send(ctx, r, keepAlive);
          }));
      return;
    }
    if (!path.startsWith("/v1/approvals") && !path.startsWith("/v1/policy")) {
      send(ctx, error(404, "not_found", "no admin endpoint " + path), keepAlive);
      return;
    }
    String authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    req.retain();
    java.util.concurrent.CompletableFuture.supplyAsync(() -> approvers.authenticate(authorization), AUTH)
        .whenComplete((who, err) -> ctx.executor().execute(() -> {
          try {
            authenticated(ctx, req, uri, keepAlive, err == null ? who.orElse(null) : null);
          } finally {
            req.release();
          }
        }));
  }

  /** The approvals API, once the caller is known (or not). Runs on the event loop. */
  private void authenticated(ChannelHandlerContext ctx, FullHttpRequest req, QueryStringDecoder uri,
      boolean keepAlive, Approver who) {
    String path = uri.path();
    String method = req.method().name();
    if (path.startsWith("/v1/policy")) {
      policyApi(ctx, path, method, keepAlive, who);
      return;
    }
    Matcher vote = VOTE.matcher(path);
    String approvalId = vote.matches() ? vote.group(1) : null;
    if (who == null) {
      ApprovalRefusedException e = new ApprovalRefusedException(401, "bad_token",
          "a valid approver bearer token is required");
      FullHttpResponse r = error(e.status(), e.code(), e.getMessage());
      r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"countersign\"");
      if (approvalId != null) {
        // answered once the refusal is on record
        approvals.refusal(approvalId, "(unauthenticated)", e)
            .whenComplete((i, err) -> ctx.executor().execute(() -> send(ctx, r, keepAlive)));
      } else {
        send(ctx, r, keepAlive);
      }
      return;
    }
    if (path.equals("/v1/approvals") && method.equals("GET")) {
      send(ctx, json(200, list(uri.parameters(), who)), keepAlive);
      return;
    }
    Matcher one = ONE.matcher(path);
    if (one.matches() && method.equals("GET")) {
      // an approver sees only the holds of their groups (a hold's request may carry customer data)
      PendingApproval a = approvals.get(one.group(1))
          .filter(h -> who.groups().contains(h.terms().group())).orElse(null);
      if (a == null) {
        send(ctx, error(404, "no_such_approval", "no approval " + one.group(1) + " for your groups"),
            keepAlive);
      } else {
        sendDetail(ctx, a, keepAlive);
      }
      return;
    }
    if (approvalId != null && method.equals("POST")) {
      JsonNode body;
      try {
        body = req.content().isReadable()
            ? JSON.readTree(new ByteBufInputStream(req.content().duplicate())) : JSON.createObjectNode();
      } catch (IOException e) {
        send(ctx, error(400, "bad_json_body", "the body must be JSON: {\"reason\": ..., \"digest\": ...}"), keepAlive);
        return;
      }
      String reason = body.path("reason").asText("");
      if (reason.isBlank()) {
        send(ctx, error(400, "reason_required", "say why, in \"reason\""), keepAlive);
        return;
      }
      String digest = body.path("digest").asText(null);
      CompletionStage<PendingApproval> done;
      try {
        done = "approve".equals(vote.group(2))
            ? approvals.approve(approvalId, who, reason, digest)
            : approvals.deny(approvalId, who, reason, digest);
      } catch (ApprovalRefusedException e) {
        FullHttpResponse r = error(e.status(), e.code(), e.getMessage());
        if (e.status() == 404) {
          approvals.refusal(approvalId, who.name(), e)
              .whenComplete((i, err) -> ctx.executor().execute(() -> send(ctx, r, keepAlive)));
        } else {
          send(ctx, r, keepAlive);
        }
        return;
      }
      done.whenComplete((a, err) -> ctx.executor().execute(() -> {
        if (err == null) {
          sendDetail(ctx, a, keepAlive);
        } else {
          Throwable t = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
          ApprovalRefusedException e = t instanceof ApprovalRefusedException r ? r
              : new ApprovalRefusedException(500, "internal_error", String.valueOf(t));
          send(ctx, error(e.status(), e.code(), e.getMessage()), keepAlive);
        }
      }));
      return;
    }
    send(ctx, error(405, "method_not_allowed", method + " is not served on " + path), keepAlive);
  }

  private ObjectNode readiness() {
    ObjectNode checks = JSON.createObjectNode();
    boolean ready = true;
    for (Map.Entry<String, BooleanSupplier> c : readiness.entrySet()) {
      boolean ok = c.getValue().getAsBoolean();
      checks.put(c.getKey(), ok);
      ready &= ok;
    }
    ObjectNode body = JSON.createObjectNode().put("ready", ready);
    body.set("checks", checks);
    return body;
  }

  private void policyApi(ChannelHandlerContext ctx, String path, String method, boolean keepAlive,
      Approver who) {
    if (who == null) {
      send(ctx, error(401, "bad_token", "a valid bearer token is required"), keepAlive);
    } else if (path.equals("/v1/policy") && method.equals("GET")) {
      send(ctx, json(200, policy.status()), keepAlive);
    } else if (path.equals("/v1/policy/reload") && method.equals("POST")) {
      if (!who.groups().contains(POLICY_ADMINS)) {
        send(ctx, error(403, "wrong_group", who.name() + " is not in group " + POLICY_ADMINS), keepAlive);
        return;
      }
      java.util.concurrent.CompletableFuture.supplyAsync(policy::reload, RELOADS).whenComplete((r, err) ->
          ctx.executor().execute(() -> {
            if (err != null) {
              send(ctx, error(500, "reload_failed", String.valueOf(err)), keepAlive);
            } else {
              ObjectNode body = JSON.createObjectNode().put("reloaded", r.reloaded())
                  .put("revision", r.revision()).put("message", r.message());
              boolean refused = !r.reloaded() && !"unchanged".equals(r.message());
              send(ctx, json(refused ? 422 : 200, body), keepAlive);
            }
          }));
    } else {
      send(ctx, error(404, "not_found", "no admin endpoint " + method + " " + path), keepAlive);
    }
  }

  private ObjectNode list(Map<String, List<String>> q, Approver who) {
    Predicate<PendingApproval> f = a -> who.groups().contains(a.terms().group())
        && matches(q, "group", a.terms().group())
        && matches(q, "route", a.request().route().name())
        && matches(q, "risk", a.decision().risk())
        && matches(q, "agent", a.request().caller().agent())
        && matches(q, "workflow", a.request().caller().workflow());
    List<PendingApproval> all = approvals.pending(f);
    int offset = intParam(q, "offset", 0, 0, Integer.MAX_VALUE);
    int limit = intParam(q, "limit", 100, 1, 1000);
    ArrayNode items = JSON.createArrayNode();
    for (int i = offset; i < Math.min(all.size(), offset + limit); i++) {
      PendingApproval a = all.get(i);
      items.add(ApprovalViews.summary(a, a.status().name(), clock));
    }
    ObjectNode out = JSON.createObjectNode();
    out.set("approvals", items);
    out.put("count", all.size()); // all matching holds; the page holds at most 'limit' of them
    out.put("offset", offset);
    out.put("limit", limit);
    return out;
  }

  /** The hold with its body, which is read back from the ledger (off the event loop). */
  private void sendDetail(ChannelHandlerContext ctx, PendingApproval a, boolean keepAlive) {
    heldBodies.record(a).whenComplete((held, err) -> ctx.executor().execute(() ->
        send(ctx, json(200, ApprovalViews.detail(a, a.status().name(), a.approvals(), a.denial(),
            err == null ? held : null, clock)), keepAlive)));
  }

  private static int intParam(Map<String, List<String>> q, String key, int dflt, int min, int max) {
    List<String> v = q.get(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    try {
      return Math.max(min, Math.min(max, Integer.parseInt(v.get(0))));
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  private static boolean matches(Map<String, List<String>> q, String key, String value) {
    List<String> want = q.get(key);
    return want == null || want.contains(value);
  }

  private static FullHttpResponse error(int status, String code, String message) {
    return json(status, JSON.createObjectNode().put("error", code).put("message", message));
  }

  private static FullHttpResponse json(int status, JsonNode body) {
    return io.countersign.proxy.http.ErrorResponses.json(status, body);
  }

  private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    if (!keepAlive) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var f = ctx.writeAndFlush(r);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
