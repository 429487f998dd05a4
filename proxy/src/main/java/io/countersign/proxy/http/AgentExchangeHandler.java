package io.countersign.proxy.http;

import io.countersign.ledger.LedgerEvent;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyInput;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.approval.ApprovalRefusedException;
import io.countersign.proxy.approval.ApprovalTerms;
import io.countersign.proxy.approval.HoldMode;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.canonical.RequestRejectedException;
import io.countersign.proxy.exchange.Exchange;
import io.countersign.proxy.exchange.ExchangeIds;
import io.countersign.proxy.exchange.ExchangeState;
import io.countersign.proxy.exchange.PolicyInputs;
import io.countersign.proxy.upstream.ResponseHeaders;
import io.countersign.proxy.upstream.UpstreamException;
import io.countersign.proxy.upstream.UpstreamResponse;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Runs each agent request through the exchange: canonicalize, decide, record the intent, then
 * forward, deny or hold for approval, and record the outcome before answering. One instance per
 * connection; every method runs on the connection's event loop (asynchronous results hop back to
 * it), so its fields need no locks. Requests are answered in order. Reading stays on while the
 * agent sends one request at a time (turning it off and on around every exchange cost two
 * epoll_ctl calls per request); a request that arrives while one is in flight is queued and reading
 * pauses until the queue is empty again, which bounds what a fast agent can queue.
 */
final class AgentExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(AgentExchangeHandler.class);
  private static final Logger ACCESS = LoggerFactory.getLogger("countersign.access");
  static final String EXCHANGE_ID_HEADER = "x-countersign-exchange-id";

  private final ExchangeServices services;
  private final ArrayDeque<Object> waiting = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private boolean busy;
  private boolean closing;
  private boolean headRequest;
  private PendingApproval held;

  AgentExchangeHandler(ExchangeServices services) {
    this.services = services;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (busy) {
      if (waiting.size() >= services.maxPipelined()) {
        ReferenceCountUtil.release(msg);
        closing = true; // the agent ignores backpressure; stop reading and drop the connection
        ctx.close();
        return;
      }
      waiting.add(msg);
      pauseReading();
      return;
    }
    start(msg);
  }

  /** Pipelined requests are waiting: read no more until they are answered. */
  private void pauseReading() {
    if (ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == RequestTimeoutHandler.TIMED_OUT && !busy) {
      busy = true;
      services.drain().started();
      reject(newId(), 408, "request_timeout", "the request did not arrive completely in time",
          null, null, true);
    } else if (evt instanceof IdleStateEvent && !busy) {
      ctx.close();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    if (held != null) {
      services.approvals().abandon(held.id(), "the agent closed its connection while waiting");
    }
    waiting.forEach(ReferenceCountUtil::release);
    waiting.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("agent connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    closing = true;
    ctx.close();
  }

  private void start(Object msg) {
    busy = true;
    headRequest = false;
    services.drain().started();
    if (msg instanceof OversizedRequest o) {
      reject(newId(), 413, "body_too_large",
          "the request body exceeds the limit of " + o.limit() + " bytes", o.method(), o.uri(), true);
    } else if (msg instanceof FullHttpRequest request) {
      try {
        handle(request);
      } finally {
        request.release();
      }
    } else {
      ReferenceCountUtil.release(msg);
      done(true);
    }
  }

  private void handle(FullHttpRequest request) {
    String id = newId();
    String method = request.method().name();
    headRequest = "HEAD".equals(method);
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      int status = cause instanceof TooLongHttpLineException ? 414
          : cause instanceof TooLongHttpHeaderException ? 431 : 400;
      String code = status == 414 ? "request_line_too_long"
          : status == 431 ? "headers_too_large"
          : cause instanceof StrictRequestDecoder.AmbiguousFramingException ? "ambiguous_framing"
          : "malformed_request";
      reject(id, status, code, "the request could not be parsed: " + describe(cause), method,
          request.uri(), true);
      return;
    }
    if (services.drain().draining()) {
      send(id, ErrorResponses.error(503, "shutting_down",
          "this proxy is shutting down; retry on a new connection", id), false);
      return;
    }
    if (request.uri().startsWith(TicketResponses.PREFIX)) {
      send(id, TicketResponses.answer(request, services.approvals()), HttpUtil.isKeepAlive(request));
      return;
    }
    HttpVersion version = request.protocolVersion();
    if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
      reject(id, 505, "http_version_not_supported",
          "only HTTP/1.1 and HTTP/1.0 are served, not " + version.text(), method, request.uri(), true);
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    CanonicalRequest canonical;
    try {
      canonical = services.canonicalizer().canonicalize(request);
    } catch (RequestRejectedException e) {
      reject(id, e.status(), e.code(), e.getMessage(), method, request.uri(), !keepAlive);
      return;
    }
    Exchange x = new Exchange(id, services.clock().instant(), services.nanoTime().getAsLong(), canonical);
    x.spend(services.spend().snapshot(canonical.caller(), x.receivedAt()));
    PolicyInput input = PolicyInputs.of(canonical, x.receivedAt(), x.spend());
    services.policy().evaluate(input).whenComplete((d, err) -> onLoop(() -> {
      decided(x, d, err, keepAlive);
      if (services.shadow() != null && d != null) {
        shadow(x.id(), input, d);
      }
    }));
  }

  private void decided(Exchange x, Decision d, Throwable err, boolean keepAlive) {
    Decision decision = d != null ? d
        : Decision.failClosed("policy_error", "the engine failed: " + err, services.policy().revision());
    x.decided(decision, services.nanoTime().getAsLong());
    x.moveTo(ExchangeState.DECIDED);
    services.metrics().policyLatency(x.decidedNanos() - x.receivedNanos());
    if (decision.isFailure()) {
      services.metrics().failClosed(decision.failure());
    }
    append(services.records().decided(x, services.clock().instant()), () -> act(x, keepAlive),
        cause -> {
          x.moveTo(ExchangeState.FAILED);
          count(x, "ledger_unavailable", 503);
          LOG.error("exchange {}: intent not recorded, failing closed: {}", x.id(), cause.toString());
          respond(x, ErrorResponses.error(503, "ledger_unavailable",
              "the ledger cannot record this request, so it is not forwarded: " + describe(cause),
              x.id()), keepAlive);
        });
  }

  /**
   * Evaluates the shadow policy beside the enforced decision, off the exchange's path (never
   * awaited, never enforced); a disagreement is journaled and counted.
   */
  private void shadow(String exchangeId, PolicyInput input, Decision enforced) {
    services.shadow().evaluate(input).thenAccept(s -> {
      boolean same = s.action() == enforced.action() && s.risk() == enforced.risk()
          && java.util.Objects.equals(s.rule(), enforced.rule());
      services.metrics().shadow(same);
      if (!same) {
        var body = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        body.set("enforced", services.records().decision(enforced));
        body.set("shadow", services.records().decision(s));
        services.ledger().append(LedgerEvent.of(io.countersign.ledger.EventType.POLICY_SHADOW_DISAGREED,
            exchangeId, services.clock().instant(), body));
      }
    });
  }

  private void act(Exchange x, boolean keepAlive) {
    Decision d = x.decision();
    switch (d.action()) {
      case ALLOW -> forward(x, keepAlive);
      case DENY -> {
        x.moveTo(ExchangeState.DENIED);
        String message = d.isFailure() ? String.join("; ", d.reasons()) : "denied by policy";
        answer(x, "denied", ErrorResponses.refused(403, d.isFailure() ? "policy_unavailable" : "denied",
            message, x.id(), d), keepAlive);
      }
      case HOLD -> hold(x, keepAlive);
    }
  }

  /** Opens a hold: the agent waits (sync) or gets a ticket (async). */
  private void hold(Exchange x, boolean keepAlive) {
    Decision d = x.decision();
    ApprovalTerms terms;
    try {
      terms = ApprovalTerms.from(d.obligations().path("approval"), services.defaultHoldTimeout());
    } catch (IllegalArgumentException e) {
      x.moveTo(ExchangeState.DENIED);
      answer(x, "hold_invalid", ErrorResponses.refused(403, "policy_unavailable",
          "the policy held this request with unusable approval terms (" + e.getMessage()
              + "), so it is denied", x.id(), d), keepAlive);
      return;
    }
    HoldMode mode = wantsAsync(x) ? HoldMode.ASYNC : HoldMode.SYNC;
    x.moveTo(ExchangeState.HELD);
    try {
      services.approvals().open(x.id(), mode, terms, x.request(), services.records().decision(d))
          .whenComplete((a, err) -> onLoop(() -> {
            if (err != null) {
              refuseHold(x, d, unwrap(err), keepAlive);
            } else if (mode == HoldMode.ASYNC) {
              services.asyncRunner().watch(a); // the hold owns the request now
              send(x.id(), ErrorResponses.ticket(a), keepAlive);
            } else {
              held = a;
              a.resolution().whenComplete((r, e) -> onLoop(() -> resolved(x, a, r, keepAlive)));
            }
          }));
    } catch (ApprovalRefusedException e) {
      refuseHold(x, d, e, keepAlive);
    }
  }

  private void refuseHold(Exchange x, Decision d, Throwable err, boolean keepAlive) {
    ApprovalRefusedException e = err instanceof ApprovalRefusedException r ? r
        : new ApprovalRefusedException(503, "approval_unavailable", String.valueOf(err));
    x.moveTo(ExchangeState.DENIED);
    answer(x, "hold_refused", ErrorResponses.refused(e.status(), e.code(), e.getMessage(), x.id(), d),
        keepAlive);
  }

  private boolean wantsAsync(Exchange x) {
    if ("async".equals(x.decision().obligations().path("approval").path("mode").asText())) {
      return true;
    }
    return x.request().respondAsync();
  }

  /** A sync hold ended: forward on approval, else answer why not. */
  private void resolved(Exchange x, PendingApproval a, PendingApproval.Resolution r, boolean keepAlive) {
    held = null;
    Decision d = x.decision();
    switch (r.status()) {
      case APPROVED -> {
        x.moveTo(ExchangeState.APPROVED);
        services.approvals().executing(a).whenComplete((i, err) -> onLoop(() -> {
          if (err != null) {
            x.moveTo(ExchangeState.FAILED);
            respond(x, ErrorResponses.error(503, "ledger_unavailable",
                "approved, but the ledger cannot record the execution, so it is not forwarded",
                x.id()), keepAlive);
          } else {
            forward(x, keepAlive);
          }
        }));
      }
      case EXPIRED -> {
        x.moveTo(ExchangeState.EXPIRED);
        answer(x, "approval_expired", ErrorResponses.refused(403, "approval_expired",
            "approval required, and none came in time: " + r.reason(), x.id(), d), keepAlive);
      }
      case DENIED -> {
        x.moveTo(ExchangeState.DENIED);
        String by = r.by().isEmpty() ? "the proxy" : String.join(", ", r.by());
        answer(x, "approval_denied", ErrorResponses.refused(403, "approval_denied",
            "denied by " + by + ": " + r.reason(), x.id(), d), keepAlive);
      }
      default -> {
        x.moveTo(ExchangeState.FAILED); // abandoned: the agent is gone
        x.request().release();
        done(false);
      }
    }
  }

  private void forward(Exchange x, boolean keepAlive) {
    x.moveTo(ExchangeState.FORWARDED);
    x.forwarded(services.nanoTime().getAsLong());
    services.upstream().send(ctx.channel().eventLoop(), x.request())
        .whenComplete((r, err) -> onLoop(() -> {
          if (err == null) {
            forwarded(x, r, keepAlive);
          } else {
            upstreamFailed(x, unwrap(err), keepAlive);
          }
        }));
  }

  private void forwarded(Exchange x, UpstreamResponse upstream, boolean keepAlive) {
    FullHttpResponse r = upstream.response();
    x.moveTo(ExchangeState.COMPLETED);
    LedgerEvent outcome;
    try {
      outcome = services.records().forwarded(x, r, services.nanoTime().getAsLong(), services.clock().instant());
    } catch (RuntimeException e) {
      r.release();
      throw e;
    }
    FullHttpResponse toAgent = toAgent(x, r);
    r.release();
    long now = services.nanoTime().getAsLong();
    services.metrics().upstreamLatency(now - x.forwardedNanos());
    count(x, "forwarded", toAgent.status().code());
    var caller = x.request().caller();
    services.metrics().cost(caller.workflow(), caller.run(),
        x.decision().obligations().path("cost").asDouble(0));
    services.spend().add(caller, services.clock().instant(),
        Math.round(x.decision().obligations().path("cost").asDouble(0)));
    // The upstream has acted: the agent gets its answer even if the outcome cannot be recorded
    // (the intent is in the ledger); the failure is logged loudly.
    append(outcome, () -> respond(x, toAgent, keepAlive), cause -> {
      LOG.error("exchange {}: outcome not recorded: {}", x.id(), cause.toString());
      respond(x, toAgent, keepAlive);
    });
  }

  private void upstreamFailed(Exchange x, Throwable err, boolean keepAlive) {
    UpstreamException e = err instanceof UpstreamException u ? u
        : new UpstreamException(502, "upstream_error", String.valueOf(err), true);
    x.moveTo(ExchangeState.FAILED);
    count(x, "failed", e.status());
    FullHttpResponse response = ErrorResponses.error(e.status(), e.code(), e.getMessage(), x.id());
    LedgerEvent event = services.records().failed(x, e.status(), e.code(), e.getMessage(),
        e.requestSent(), services.nanoTime().getAsLong(), services.clock().instant());
    append(event, () -> respond(x, response, keepAlive), cause -> respond(x, response, keepAlive));
  }

  private void count(Exchange x, String outcome, int status) {
    Decision d = x.decision();
    long micros = (services.nanoTime().getAsLong() - x.receivedNanos()) / 1000;
    services.metrics().exchange(x.request().route().name(), d.risk().wireName(), d.action().wireName(),
        outcome, status);
    services.metrics().totalLatency(micros * 1000);
    // A forwarded exchange the upstream answered below 500 is routine: the ledger and the metrics
    // have it, so its line is DEBUG (a line per success cost ~16 % of throughput). Denials, holds,
    // failures and upstream 5xx are INFO.
    boolean routine = "forwarded".equals(outcome) && status < 500;
    if (routine ? ACCESS.isDebugEnabled() : ACCESS.isInfoEnabled()) {
      var c = x.request().caller();
      ACCESS.atLevel(routine ? Level.DEBUG : Level.INFO).setMessage("exchange")
          .addKeyValue("exchange_id", x.id())
          .addKeyValue("method", x.request().method())
          .addKeyValue("path", x.request().path())
          .addKeyValue("route", x.request().route().name())
          .addKeyValue("risk", d.risk().wireName())
          .addKeyValue("action", d.action().wireName())
          .addKeyValue("rule", d.rule())
          .addKeyValue("outcome", outcome)
          .addKeyValue("status", status)
          .addKeyValue("latency_us", micros)
          .addKeyValue("agent", c.agent())
          .addKeyValue("workflow", c.workflow())
          .addKeyValue("trace_id", traceId(x))
          .log();
    }
  }

  private static String traceId(Exchange x) {
    for (var h : x.request().headers()) {
      if (h.getKey().equals("traceparent") && h.getValue().length() >= 35) {
        return h.getValue().substring(3, 35);
      }
    }
    return null;
  }

  private void answer(Exchange x, String outcome, FullHttpResponse response, boolean keepAlive) {
    count(x, outcome, response.status().code());
    LedgerEvent event = services.records().answered(x, outcome, response.status().code(),
        services.nanoTime().getAsLong(), services.clock().instant());
    append(event, () -> respond(x, response, keepAlive), cause -> respond(x, response, keepAlive));
  }

  /** Rejects a request no policy saw: records why, then answers. */
  private void reject(String id, int status, String code, String message, String method,
      String target, boolean close) {
    FullHttpResponse response = ErrorResponses.error(status, code, message, id);
    services.metrics().rejected(code);
    SocketAddress remote = ctx.channel().remoteAddress();
    LedgerEvent event = services.records().rejected(id, status, code, message, method, target,
        remote == null ? null : remote.toString(), services.clock().instant());
    append(event, () -> send(id, response, !close), cause -> send(id, response, !close));
  }

  private void append(LedgerEvent event, Runnable then, java.util.function.Consumer<Throwable> orElse) {
    long started = services.nanoTime().getAsLong();
    services.ledger().append(event).whenComplete((index, err) -> onLoop(() -> {
      services.metrics().ledgerLatency(services.nanoTime().getAsLong() - started);
      if (err == null) {
        then.run();
      } else {
        orElse.accept(unwrap(err));
      }
    }));
  }

  private FullHttpResponse toAgent(Exchange x, FullHttpResponse upstream) {
    FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, upstream.status(),
        upstream.content().retainedDuplicate());
    for (var h : upstream.headers()) {
      if (ResponseHeaders.passedOn(h.getKey())) {
        out.headers().add(h.getKey(), h.getValue());
      }
    }
    if ("HEAD".equals(x.request().method())) {
      String length = upstream.headers().get(HttpHeaderNames.CONTENT_LENGTH);
      if (length != null) {
        out.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
      }
    } else {
      out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.content().readableBytes());
    }
    return out;
  }

  private void respond(Exchange x, FullHttpResponse response, boolean keepAlive) {
    x.request().release();
    send(x.id(), response, keepAlive);
  }

  private void send(String id, FullHttpResponse response, boolean keepAlive) {
    if (!response.headers().contains(EXCHANGE_ID_HEADER)) {
      response.headers().set(EXCHANGE_ID_HEADER, id);
    }
    if (headRequest && response.content().isReadable()) {
      // a response to HEAD has no body (RFC 9110 9.3.2); Content-Length still says its size
      response.content().clear();
    }
    if (!keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (!ctx.channel().isActive()) {
      response.release();
      done(false);
      return;
    }
    ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess() || !keepAlive) {
        f.channel().close();
        done(false);
      } else {
        done(true);
      }
    });
  }

  /** The exchange ended: take the next waiting request, or read more. */
  private void done(boolean connectionUsable) {
    busy = false;
    services.drain().finished();
    if (!connectionUsable) {
      closing = true;
      waiting.forEach(ReferenceCountUtil::release);
      waiting.clear();
      return;
    }
    Object next = waiting.poll();
    if (next != null) {
      start(next);
    } else if (!closing) {
      ctx.channel().config().setAutoRead(true); // reads, if reading was paused
    }
  }

  private void onLoop(Runnable task) {
    if (ctx.executor().inEventLoop()) {
      guarded(task);
    } else {
      ctx.executor().execute(() -> guarded(task));
    }
  }

  /** A bug in a continuation must not leave the agent waiting for ever: log it and close. */
  private void guarded(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      LOG.error("exchange failed inside the proxy; closing the connection", e);
      closing = true;
      ctx.close();
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private static String describe(Throwable t) {
    if (t instanceof TooLongFrameException || t.getMessage() != null) {
      return t.getMessage();
    }
    return t.getClass().getSimpleName();
  }

  private static String newId() {
    return ExchangeIds.next();
  }
}
