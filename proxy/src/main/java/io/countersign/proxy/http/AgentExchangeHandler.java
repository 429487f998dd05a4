package io.countersign.proxy.http;

import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.RequestRejectedException;
import io.countersign.proxy.exchange.Answer;
import io.countersign.proxy.exchange.AnswerStream;
import io.countersign.proxy.exchange.Answers;
import io.countersign.proxy.exchange.ExchangeCall;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent port's adapter to the {@link io.countersign.proxy.exchange.ExchangeFlow}: reads a
 * request, refuses what cannot be canonicalized, hands the rest to the flow, and writes the answer
 * it gets, in order. One instance per connection; every method runs on the connection's event loop
 * (the flow's answers complete there), so its fields need no locks.
 *
 * <p>Back-pressure: reading stays on while the agent sends one request at a time (turning it off
 * and on around every exchange cost two epoll_ctl calls per request); a request that arrives while
 * one is in flight is queued and reading pauses until the queue is empty again, which bounds what a
 * fast agent can queue.
 */
final class AgentExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(AgentExchangeHandler.class);

  private final ExchangeServices services;
  private final ArrayDeque<Object> waiting = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private boolean busy;
  private boolean closing;
  private boolean headRequest;
  private boolean http10;
  private ExchangeCall inFlight;
  private AnswerStream streaming;

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
      reject(408, "request_timeout", "the request did not arrive completely in time", null, null, true);
    } else if (evt instanceof IdleStateEvent && !busy) {
      ctx.close();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    if (inFlight != null) {
      inFlight.agentGone();
    }
    if (streaming != null) {
      streaming.agentGone();
    }
    waiting.forEach(ReferenceCountUtil::release);
    waiting.clear();
    ctx.fireChannelInactive();
  }

  /** The agent's socket drained (or filled): a streamed answer reads its upstream on (or waits). */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (streaming != null && ctx.channel().isWritable()) {
      streaming.resume();
    }
    ctx.fireChannelWritabilityChanged();
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
      reject(413, "body_too_large", "the request body exceeds the limit of " + o.limit() + " bytes",
          o.method(), o.uri(), true);
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
    String method = request.method().name();
    headRequest = "HEAD".equals(method);
    http10 = request.protocolVersion() == HttpVersion.HTTP_1_0;
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      int status = cause instanceof TooLongHttpLineException ? 414
          : cause instanceof TooLongHttpHeaderException ? 431 : 400;
      String code = status == 414 ? "request_line_too_long"
          : status == 431 ? "headers_too_large"
          : cause instanceof StrictRequestDecoder.AmbiguousFramingException ? "ambiguous_framing"
          : "malformed_request";
      reject(status, code, "the request could not be parsed: " + describe(cause), method,
          request.uri(), true);
      return;
    }
    if (services.drain().draining()) {
      reject(503, "shutting_down", "this proxy is shutting down; retry on a new connection", method,
          request.uri(), true);
      return;
    }
    if (request.uri().startsWith(Answers.TICKET_PREFIX)) {
      send(TicketResponses.answer(request, services.approvals()), HttpUtil.isKeepAlive(request));
      return;
    }
    HttpVersion version = request.protocolVersion();
    if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
      reject(505, "http_version_not_supported",
          "only HTTP/1.1 and HTTP/1.0 are served, not " + version.text(), method, request.uri(), true);
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    CanonicalRequest canonical;
    try {
      canonical = services.canonicalizer().canonicalize(request);
    } catch (RequestRejectedException e) {
      reject(e.status(), e.code(), e.getMessage(), method, request.uri(), !keepAlive);
      return;
    }
    ExchangeCall call = services.flow().start(canonical, ctx.channel().eventLoop());
    inFlight = call;
    answerWith(call.answer(), keepAlive);
  }

  /** Refuses a request no policy saw: the flow records why; then the answer goes out. */
  private void reject(int status, String code, String message, String method, String target,
      boolean close) {
    SocketAddress remote = ctx.channel().remoteAddress();
    answerWith(services.flow().reject(status, code, message, method, target,
        remote == null ? null : remote.toString()), !close);
  }

  private void answerWith(CompletionStage<Answer> answer, boolean keepAlive) {
    answer.whenComplete((a, err) -> {
      if (ctx.executor().inEventLoop()) {
        answered(a, err, keepAlive);
      } else {
        ctx.executor().execute(() -> answered(a, err, keepAlive));
      }
    });
  }

  private void answered(Answer a, Throwable err, boolean keepAlive) {
    inFlight = null;
    if (err != null) {
      // a bug inside the proxy (logged by the flow): the agent must not wait for ever
      closing = true;
      ctx.close();
      done(false);
      return;
    }
    send(a, keepAlive);
  }

  private void send(Answer a, boolean keepAlive) {
    if (a.stream() != null) {
      sendStream(a, keepAlive);
      return;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, a.status(),
        a.body(), a.headers(), EmptyHttpHeaders.INSTANCE);
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

  /**
   * Writes a streamed answer: its head now, each piece of its body as it comes (chunked; to an
   * HTTP/1.0 agent, delimited by closing the connection), pausing the upstream while the agent's
   * socket is full. A stream that did not end properly cuts the connection, so the agent cannot
   * take a truncated body for a whole one.
   */
  private void sendStream(Answer a, boolean keepAlive) {
    AnswerStream stream = a.stream();
    boolean persistent = keepAlive && !http10;
    // the framing headers are this connection's, not the answer's (the ledger records the answer)
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, a.status(), a.headers().copy());
    if (http10) {
      head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    } else {
      HttpUtil.setTransferEncodingChunked(head, true);
    }
    if (!persistent) {
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    streaming = stream;
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(head);
    }
    stream.start(new AnswerStream.Sink() {
      @Override
      public void data(ByteBuf chunk) {
        if (!ctx.channel().isActive()) {
          chunk.release();
          return;
        }
        ctx.writeAndFlush(new DefaultHttpContent(chunk));
        if (!ctx.channel().isWritable()) {
          stream.pause(); // resumed by channelWritabilityChanged
        }
      }

      @Override
      public void ended(boolean complete) {
        streaming = null;
        if (!complete || !ctx.channel().isActive()) {
          ctx.close();
          done(false);
          return;
        }
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener((ChannelFutureListener) f -> {
          if (!f.isSuccess() || !persistent) {
            f.channel().close();
            done(false);
          } else {
            done(true);
          }
        });
      }
    });
    if (!ctx.channel().isActive()) {
      stream.agentGone(); // gone before the head went out: the stream ends and is recorded so
    }
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

  private static String describe(Throwable t) {
    if (t instanceof TooLongFrameException || t.getMessage() != null) {
      return t.getMessage();
    }
    return t.getClass().getSimpleName();
  }
}
