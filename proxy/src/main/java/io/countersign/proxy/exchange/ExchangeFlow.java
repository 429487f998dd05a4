package io.countersign.proxy.exchange;

import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.event.LlmUsage;
import io.countersign.ledger.event.PolicyShadowDisagreed;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyInput;
import io.countersign.proxy.approval.ApprovalRefusedException;
import io.countersign.proxy.approval.ApprovalStatus;
import io.countersign.proxy.approval.ApprovalTerms;
import io.countersign.proxy.approval.HoldMode;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.approval.TicketResult;
import io.countersign.proxy.canonical.CallerIdentity;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.route.Route;
import io.countersign.proxy.upstream.UpstreamException;
import io.countersign.proxy.upstream.UpstreamResponse;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.countersign.proxy.mcp.ToolListFilter;
import io.countersign.proxy.upstream.StreamEnd;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.time.Duration;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a request gets executed: decide, record the intent, act (forward, deny, hold), record
 * the outcome. Transport-free: an adapter (the agent port's handler today; later the forward proxy,
 * MCP, rollbacks) hands it a canonical request and an event loop and gets an {@link ExchangeCall}
 * whose answer it writes. An async hold's approval, and a hold restored after a restart, continue
 * through the same steps; so "what happens after an approval" and "what forwarded means" (metrics,
 * spend, access log, ledger) are written once, here.
 *
 * <p>Threading: every step of an exchange runs on its event loop (asynchronous results hop back to
 * it), so an {@link Exchange} needs no locks; nothing here blocks. Time comes from the injected
 * clock and monotonic source.
 */
public final class ExchangeFlow {
  private static final Logger LOG = LoggerFactory.getLogger(ExchangeFlow.class);

  /** The status journaled for an exchange whose agent left while it was held (as nginx's 499). */
  static final int AGENT_GONE = 499;

  private final FlowServices s;
  private final ExchangeIds ids;

  /** A flow over {@code services}. */
  public ExchangeFlow(FlowServices services) {
    this.s = services;
    this.ids = new ExchangeIds(services.clock());
  }

  /** One exchange in the flow: its state and the answer its adapter waits for. */
  private static final class Run implements ExchangeCall {
    final Exchange x;
    final CompletableFuture<Answer> answer = new CompletableFuture<>();
    /** How this exchange's refusals are written: its route's dialect, bound to the request. */
    final ErrorDialect errors;
    private final ExchangeFlow flow;

    Run(ExchangeFlow flow, Exchange x) {
      this.flow = flow;
      this.x = x;
      this.errors = ErrorDialect.forRequest(x.request());
    }

    @Override
    public String exchangeId() {
      return x.id();
    }

    @Override
    public CompletionStage<Answer> answer() {
      return answer;
    }

    @Override
    public void agentGone() {
      PendingApproval a = x.hold();
      if (a != null && a.mode() == HoldMode.SYNC) {
        flow.s.approvals().abandon(a.id(), "the agent closed its connection while waiting");
      }
    }
  }

  // ---- entry points ----

  /**
   * Runs {@code request} through the flow on {@code loop}; the flow owns the request from here (and
   * releases its body when the exchange ends).
   */
  public ExchangeCall start(CanonicalRequest request, EventLoop loop) {
    Exchange x = Exchange.received(ids.next(), s.clock().instant(), now(), request, loop);
    Run r = new Run(this, x);
    x.spend(s.spend().snapshot(request.caller(), x.receivedAt()));
    PolicyInput input = PolicyInputs.of(request, x.receivedAt(), x.spend());
    s.policy().evaluate(input).whenComplete((d, err) -> onLoop(r, () -> {
      decided(r, d, err);
      if (s.shadow() != null && d != null) {
        shadow(x.id(), input, d);
      }
    }));
    return r;
  }

  /**
   * Refuses a request no policy saw (it could not be parsed or canonicalized, or the proxy is
   * stopping): records why, then gives the answer.
   *
   * @param method the method as received, or null
   * @param target the request target as received, or null
   * @param remote the agent's address, or null
   */
  public CompletionStage<Answer> reject(int status, String code, String message, String method,
      String target, String remote) {
    return reject(status, code, message, null, method, target, remote);
  }

  /**
   * {@link #reject(int, String, String, String, String, String)} of a request that matched
   * {@code route} (or null): the answer is in the route's error dialect.
   */
  public CompletionStage<Answer> reject(int status, String code, String message, Route route,
      String method, String target, String remote) {
    String id = ids.next();
    s.metrics().rejected(code);
    ErrorDialect dialect = route == null ? ErrorDialect.PROBLEM : ErrorDialect.of(route.errors(), null);
    Answer answer = dialect.write(Refusal.error(status, code, message, id));
    return append(s.records().rejected(id, status, code, message, method, target, remote,
        s.clock().instant())).handle((i, err) -> answer);
  }

  /**
   * Resumes an async hold rebuilt from the ledger after a restart: it waits for its resolution on
   * {@code loop} (an approved one resolves at once) and goes on as any hold does. Its agent holds a
   * ticket, which gets the outcome.
   */
  public void resume(PendingApproval a, EventLoop loop) {
    long receivedNanos = now() - Duration.between(a.openedAt(), s.clock().instant()).toNanos();
    Exchange x = Exchange.restoredHold(a, ExchangeRecords.decision(a.decision()), receivedNanos, loop);
    Run r = new Run(this, x);
    onLoop(r, () -> awaitResolution(r, a));
  }

  // ---- decide, and record the intent ----

  private void decided(Run r, Decision d, Throwable err) {
    Exchange x = r.x;
    Decision decision = d != null ? d
        : Decision.failClosed("policy_error", "the engine failed: " + err, s.policy().revision());
    x.decided(decision, now());
    x.moveTo(ExchangeState.DECIDED);
    s.metrics().policyLatency(x.decidedNanos() - x.receivedNanos());
    if (decision.isFailure()) {
      s.metrics().failClosed(decision.failure());
    }
    append(s.records().decided(x, s.clock().instant())).whenComplete((i, e) -> onLoop(r, () -> {
      if (e == null) {
        act(r);
      } else {
        x.moveTo(ExchangeState.FAILED);
        LOG.error("exchange {}: intent not recorded, failing closed: {}", x.id(), unwrap(e).toString());
        // the intent is not on record, so neither is an outcome written for it
        end(r, "ledger_unavailable", r.errors.write(Refusal.error(503, "ledger_unavailable",
            "the ledger cannot record this request, so it is not forwarded: " + unwrap(e).getMessage(),
            x.id())), null);
      }
    }));
  }

  /**
   * Evaluates the shadow policy beside the enforced decision, off the exchange's path (never
   * awaited, never enforced); a disagreement is journaled and counted.
   */
  private void shadow(String exchangeId, PolicyInput input, Decision enforced) {
    s.shadow().evaluate(input).thenAccept(candidate -> {
      boolean same = candidate.action() == enforced.action() && candidate.risk() == enforced.risk()
          && Objects.equals(candidate.rule(), enforced.rule());
      s.metrics().shadow(same);
      if (!same) {
        s.ledger().append(LedgerEvent.of(exchangeId, s.clock().instant(),
            new PolicyShadowDisagreed(s.records().decision(enforced), s.records().decision(candidate))));
      }
    });
  }

  // ---- act ----

  private void act(Run r) {
    Exchange x = r.x;
    Decision d = x.decision();
    switch (d.action()) {
      case ALLOW -> forward(r);
      case DENY -> {
        x.moveTo(ExchangeState.DENIED);
        String message = d.isFailure() ? String.join("; ", d.reasons()) : "denied by policy";
        refuse(r, "denied", 403, d.isFailure() ? "policy_unavailable" : "denied", message);
      }
      case HOLD -> hold(r);
    }
  }

  /** Opens a hold: the agent waits (sync) or gets a ticket (async). */
  private void hold(Run r) {
    Exchange x = r.x;
    Decision d = x.decision();
    ApprovalTerms terms;
    try {
      terms = ApprovalTerms.from(d.obligation("approval"), s.defaultHoldTimeout());
    } catch (IllegalArgumentException e) {
      x.moveTo(ExchangeState.DENIED);
      refuse(r, "hold_invalid", 403, "policy_unavailable", "the policy held this request with"
          + " unusable approval terms (" + e.getMessage() + "), so it is denied");
      return;
    }
    if (terms.requireOnBehalfOf() && x.request().caller().onBehalfOf() == null) {
      x.moveTo(ExchangeState.DENIED);
      refuse(r, "hold_refused", 403, "on_behalf_of_required", "this request needs approval, and"
          + " the policy requires X-Countersign-On-Behalf-Of to name whom the agent acts for, so that"
          + " its approver is someone else; send it and retry");
      return;
    }
    boolean async = "async".equals(d.obligation("approval").path("mode").asText())
        || x.request().respondAsync();
    HoldMode mode = async ? HoldMode.ASYNC : HoldMode.SYNC;
    x.moveTo(ExchangeState.HELD);
    try {
      s.approvals().open(x.id(), mode, terms, x.request(), s.records().decision(d))
          .whenComplete((a, err) -> onLoop(r, () -> {
            if (err != null) {
              refuseHold(r, unwrap(err));
              return;
            }
            x.hold(a);
            x.request(a.request()); // the hold keeps the body in the ledger, not in memory
            if (mode == HoldMode.ASYNC) {
              x.ticketed();
              r.answer.complete(Answers.ticket(a)); // the outcome goes to the ticket
            }
            awaitResolution(r, a);
          }));
    } catch (ApprovalRefusedException e) {
      refuseHold(r, e);
    }
  }

  private void refuseHold(Run r, Throwable err) {
    ApprovalRefusedException e = err instanceof ApprovalRefusedException a ? a
        : new ApprovalRefusedException(503, "approval_unavailable", String.valueOf(err));
    r.x.moveTo(ExchangeState.DENIED);
    refuse(r, "hold_refused", e.status(), e.code(), e.getMessage());
  }

  private void awaitResolution(Run r, PendingApproval a) {
    a.resolution().whenComplete((res, err) -> onLoop(r, () -> resolved(r, a, res)));
  }

  /** A hold ended: execute it once approved, else answer why not. */
  private void resolved(Run r, PendingApproval a, PendingApproval.Resolution res) {
    Exchange x = r.x;
    switch (res.status()) {
      case APPROVED -> {
        x.moveTo(ExchangeState.APPROVED);
        s.approvals().executing(a).whenComplete((i, err) -> onLoop(r, () -> {
          if (err != null) {
            x.moveTo(ExchangeState.FAILED);
            fail(r, new UpstreamException(503, "ledger_unavailable",
                "approved, but the ledger cannot record the execution, so it is not forwarded", false));
            return;
          }
          s.heldBodies().request(a).whenComplete((held, e) -> onLoop(r, () -> {
            if (e != null) {
              x.moveTo(ExchangeState.FAILED);
              fail(r, new UpstreamException(500, "held_request_unreadable",
                  "approved, but the held request cannot be read back from the ledger, so it is not"
                      + " forwarded: " + unwrap(e).getMessage(), false));
              return;
            }
            x.request(held); // the exact bytes judged, as journaled with the hold
            forward(r);
          }));
        }));
      }
      case EXPIRED -> {
        x.moveTo(ExchangeState.EXPIRED);
        refuse(r, "approval_expired", 403, "approval_expired",
            "approval required, and none came in time: " + res.reason());
      }
      case DENIED -> {
        x.moveTo(ExchangeState.DENIED);
        String by = res.by().isEmpty() ? "the proxy" : String.join(", ", res.by());
        refuse(r, "approval_denied", 403, "approval_denied", "denied by " + by + ": " + res.reason());
      }
      default -> {
        x.moveTo(ExchangeState.FAILED); // abandoned: the agent is gone and gets nothing
        end(r, "approval_abandoned", Answers.error(AGENT_GONE, "agent_gone", res.reason(), x.id()),
            s.records().answered(x, "approval_abandoned", AGENT_GONE, now(), s.clock().instant()));
      }
    }
  }

  // ---- forward ----

  private void forward(Run r) {
    Exchange x = r.x;
    x.moveTo(ExchangeState.FORWARDED);
    x.forwarded(now());
    // an answer that goes to a ticket is read whole; one the agent waits for may stream
    s.upstream().send(x.loop(), x.request(), !x.isTicketed()).whenComplete((resp, err) -> onLoop(r, () -> {
      if (err == null) {
        answered(r, resp);
      } else {
        Throwable t = unwrap(err);
        x.moveTo(ExchangeState.FAILED);
        fail(r, t instanceof UpstreamException u ? u
            : new UpstreamException(502, "upstream_error", String.valueOf(t), true));
      }
    }));
  }

  /** The upstream answered: that answer, exactly as the agent gets it, is the outcome. */
  private void answered(Run r, UpstreamResponse upstream) {
    if (upstream.streamed()) {
      streaming(r, upstream);
      return;
    }
    Exchange x = r.x;
    Answer answer;
    try {
      answer = Answers.fromUpstream(upstream.head(), upstream.body(),
          "HEAD".equals(x.request().method()), x.id(), x.request().route().credential());
    } finally {
      upstream.release();
    }
    ToolListAnswers tools = ToolListAnswers.of(x.request(), x.decision());
    if (tools != null && answer.code() == 200) {
      try {
        answer = filtered(answer, tools);
      } catch (ToolListFilter.UnreadableToolList e) {
        answer.release();
        x.moveTo(ExchangeState.FAILED);
        fail(r, new UpstreamException(502, "upstream_bad_response",
            "the MCP tools/list answer cannot be read, so it is not passed on: " + e.getMessage(),
            true));
        return;
      }
    }
    x.moveTo(ExchangeState.COMPLETED);
    countScrubbed(x, answer);
    long now = now();
    s.metrics().upstreamLatency(now - x.forwardedNanos());
    LlmPricing pricing = pricing(x);
    LlmUsage usage = pricing == null ? null : pricing.ofAnswer(answer.body(), x.request());
    spent(x, usage);
    end(r, "forwarded", answer, s.records().forwarded(x, answer, usage, now, s.clock().instant()));
  }

  /**
   * The upstream's answer streams: the agent gets its head now and its body as it arrives; the
   * outcome is journaled when the stream ends, and the agent's answer is ended after that.
   */
  private void streaming(Run r, UpstreamResponse upstream) {
    Exchange x = r.x;
    x.moveTo(ExchangeState.STREAMING);
    s.metrics().upstreamLatency(now() - x.forwardedNanos()); // to the head: the first byte
    var credential = x.request().route().credential();
    Answer head = new Answer(Answers.status(upstream.head()),
        Answers.streamedHead(upstream.head(), x.id(), credential), Unpooled.EMPTY_BUFFER);
    countScrubbed(x, head);
    String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    boolean eventStream = type.toLowerCase(Locale.ROOT).startsWith("text/event-stream");
    AnswerStream stream = new AnswerStream(upstream.stream(),
        credential == null ? null : CredentialScrubber.of(credential).bodyScan(),
        eventStream ? ToolListAnswers.of(x.request(), x.decision()) : null,
        s.records().streamRecording(x.decision(), pricing(x) != null),
        eventStream,
        (ended, summary) -> onLoop(r, () -> streamEnded(r, head, ended, summary)));
    r.answer.complete(new Answer(head.status(), head.headers(), head.body(), stream));
  }

  private void streamEnded(Run r, Answer head, AnswerStream stream, AnswerStream.Summary summary) {
    Exchange x = r.x;
    x.moveTo(ExchangeState.COMPLETED);
    if (summary.scrubbed()) {
      s.metrics().scrubbed(x.request().route().name(), "credential-in-body");
    }
    s.metrics().streamEnded(x.request().route().name(), summary.end().wireName(), summary.bytes());
    LlmPricing pricing = pricing(x);
    LlmUsage usage = pricing == null ? null : pricing.ofStream(summary, x.request());
    spent(x, usage);
    close(r, "forwarded", head.code(),
        s.records().streamed(x, head, summary, usage, now(), s.clock().instant()),
        () -> stream.finished(summary.end() == StreamEnd.COMPLETE));
  }

  /** A JSON answer to an MCP tools/list with the tools the agent may never call taken out. */
  private static Answer filtered(Answer answer, ToolListAnswers tools)
      throws ToolListFilter.UnreadableToolList {
    if (!answer.headers().get(HttpHeaderNames.CONTENT_TYPE, "").toLowerCase(Locale.ROOT).contains("json")) {
      return answer; // an event stream is filtered as it streams; other types carry no tool list
    }
    byte[] in = ByteBufUtil.getBytes(answer.body());
    byte[] out = tools.whole(in);
    if (out == in) {
      return answer;
    }
    answer.release();
    answer.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.length);
    return new Answer(answer.status(), answer.headers(), Unpooled.wrappedBuffer(out));
  }

  private void countScrubbed(Exchange x, Answer answer) {
    String scrubbed = answer.headers().get(CredentialScrubber.SCRUBBED_HEADER);
    if (scrubbed != null) {
      for (String what : scrubbed.split(", ")) {
        s.metrics().scrubbed(x.request().route().name(), what);
      }
    }
  }

  /**
   * A forwarded exchange's cost goes to the metrics and the spend counters: the decision's cost,
   * and what an LLM call's usage cost in money when the decision priced it.
   */
  private void spent(Exchange x, LlmUsage usage) {
    CallerIdentity caller = x.request().caller();
    double cost = x.decision().cost();
    s.metrics().cost(caller.workflow(), caller.run(), cost);
    s.spend().add(caller, s.clock().instant(), Math.round(cost));
    if (usage != null) {
      s.metrics().llm(x.request().route().name(), usage.inputTokens(), usage.outputTokens(),
          usage.currency(), usage.costMicros());
      s.spend().addMoney(caller, s.clock().instant(), usage.currency(), usage.costMicros());
    }
  }

  /** The decision's LLM pricing, or null; an unusable one is logged and prices nothing. */
  private static LlmPricing pricing(Exchange x) {
    try {
      return LlmPricing.of(x.decision());
    } catch (IllegalArgumentException e) {
      LOG.warn("exchange {}: {}; its usage is not charged", x.id(), e.getMessage());
      return null;
    }
  }

  // ---- the end of every exchange ----

  /** Ends with a refusal the policy (or a hold) explains; nothing was forwarded. */
  private void refuse(Run r, String outcome, int status, String code, String message) {
    Exchange x = r.x;
    String ticket = x.hold() == null ? null : x.hold().id();
    Answer answer = r.errors.write(new Refusal(status, code, message, x.id(), x.decision(), ticket));
    end(r, outcome, answer, s.records().answered(x, outcome, answer.code(), now(), s.clock().instant()));
  }

  /** Ends without a usable answer (upstream down, timeout, a write that could not be recorded). */
  private void fail(Run r, UpstreamException e) {
    Exchange x = r.x;
    var credential = x.request().route().credential();
    // a failure's message may quote the upstream's bytes, which may echo the credential
    String message = credential == null ? e.getMessage()
        : CredentialScrubber.of(credential).cleanText(String.valueOf(e.getMessage()));
    Answer answer = r.errors.write(Refusal.error(e.status(), e.code(), message, x.id()));
    end(r, "failed", answer, s.records().failed(x, answer.code(), e.code(), message,
        e.requestSent(), now(), s.clock().instant()));
  }

  /**
   * The one end of every decided exchange: counts it, logs it, releases its request, records its
   * outcome (unless null) and then delivers the answer. The answer is delivered even when the
   * outcome cannot be recorded: for a forwarded exchange the upstream has acted, and the intent is
   * on record; the failure is logged loudly.
   */
  private void end(Run r, String outcome, Answer answer, LedgerEvent event) {
    close(r, outcome, answer.code(), event, () -> deliver(r, answer));
  }

  /**
   * Counts, logs and records the end of an exchange whose agent got status {@code code}, then runs
   * {@code then} on the exchange's loop (see {@link #end}).
   */
  private void close(Run r, String outcome, int code, LedgerEvent event, Runnable then) {
    Exchange x = r.x;
    long micros = (now() - x.receivedNanos()) / 1000;
    Decision d = x.decision();
    s.metrics().exchange(x.request().route().name(), d.risk().wireName(), d.action().wireName(),
        outcome, code);
    s.metrics().totalLatency(micros * 1000);
    AccessLog.ended(x, outcome, code, micros);
    x.request().release();
    if (event == null) {
      then.run();
      return;
    }
    append(event).whenComplete((i, err) -> onLoop(r, () -> {
      if (err != null) {
        LOG.error("exchange {}: outcome {} not recorded: {}", x.id(), outcome, unwrap(err).toString());
      }
      then.run();
    }));
  }

  /** To the agent, or, when it holds a ticket, to the ticket of the executed hold. */
  private void deliver(Run r, Answer answer) {
    Exchange x = r.x;
    if (!x.isTicketed()) {
      r.answer.complete(answer);
      return;
    }
    PendingApproval a = x.hold();
    if (a.status() == ApprovalStatus.EXECUTING) {
      s.approvals().completed(a, ticketResult(answer));
    }
    answer.release();
  }

  private static TicketResult ticketResult(Answer answer) {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (Map.Entry<String, String> h : answer.headers()) {
      if (!h.getKey().equalsIgnoreCase("content-length")) {
        headers.add(new SimpleImmutableEntry<>(h.getKey(), h.getValue()));
      }
    }
    // an error answer is already the proxy's JSON error: the ticket gives it as it is
    return new TicketResult(answer.code(), headers, ByteBufUtil.getBytes(answer.body()), null);
  }

  // ---- plumbing ----

  private CompletionStage<Long> append(LedgerEvent event) {
    long started = now();
    return s.ledger().append(event).whenComplete((i, err) ->
        s.metrics().ledgerLatency(now() - started));
  }

  private long now() {
    return s.nanoTime().getAsLong();
  }

  private void onLoop(Run r, Runnable task) {
    EventLoop loop = r.x.loop();
    if (loop.inEventLoop()) {
      guarded(r, task);
    } else {
      loop.execute(() -> guarded(r, task));
    }
  }

  /** A bug in a step must not leave the agent waiting for ever: log it and fail the answer. */
  private static void guarded(Run r, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      LOG.error("exchange {} failed inside the proxy", r.x.id(), e);
      r.answer.completeExceptionally(e);
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
