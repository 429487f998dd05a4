package io.countersign.proxy.upstream;

import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of a pooled upstream connection: reads the answer to the one request in flight
 * on it and completes that request's promise. An answer with a Content-Length is read whole (up to
 * {@code upstream.max_response_bytes}, within the response timeout); one without (chunked, or
 * delimited by the connection's close) or an event stream is handed over as soon as its head is
 * here, its body following on an {@link UpstreamStream}, when the request allows streaming.
 * Interim 1xx answers are consumed. Runs on the connection's event loop only (the same loop as the
 * agent's channel), so it needs no locking.
 */
final class UpstreamResponseHandler extends ChannelInboundHandlerAdapter {
  static final String NAME = "upstream-response";

  private final int maxResponseBytes;
  private final StreamLimits streamLimits;
  private Promise<UpstreamResponse> pending;
  private ScheduledFuture<?> timeout;
  private boolean streamable;
  private boolean reused;
  private UpstreamStream.Release release;
  private boolean interim;
  private HttpResponse head;
  private CompositeByteBuf body;
  private UpstreamStream stream;

  UpstreamResponseHandler(int maxResponseBytes, StreamLimits streamLimits) {
    this.maxResponseBytes = maxResponseBytes;
    this.streamLimits = streamLimits;
  }

  /**
   * Arms the handler for one request; fails it with a 504 if no answer (for a streamed one: no
   * head) comes in time.
   *
   * @param streamable whether an answer without Content-Length may be streamed (not for a HEAD,
   *     nor for an answer that goes to a ticket)
   * @param reused whether the connection carried a request before
   * @param release what gives the connection back once a streamed answer ended
   */
  void expect(ChannelHandlerContext ctx, Promise<UpstreamResponse> promise, long timeoutMillis,
      boolean streamable, boolean reused, UpstreamStream.Release release) {
    this.pending = promise;
    this.streamable = streamable;
    this.reused = reused;
    this.release = release;
    this.timeout =
        ctx.executor()
            .schedule(
                () -> {
                  fail(
                      new UpstreamException(
                          504,
                          "upstream_timeout",
                          "the upstream did not answer within " + timeoutMillis + " ms",
                          true));
                  ctx.close();
                },
                timeoutMillis,
                TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (stream != null && msg instanceof HttpContent c) {
      UpstreamStream s = stream;
      if (c instanceof LastHttpContent) {
        stream = null; // the connection is free for its next request once this is passed on
      }
      s.content(c);
      return;
    }
    if (msg instanceof HttpResponse h && !head(ctx, h)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpContent c) {
      content(ctx, c);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** A response head: interim, broken, streamed or to be read whole. False when msg is done with. */
  private boolean head(ChannelHandlerContext ctx, HttpResponse h) {
    if (pending == null) {
      ctx.close(); // an answer nobody asked for: the connection is not trustworthy
      return false;
    }
    String broken = brokenBecause(h);
    if (broken != null) {
      fail(new UpstreamException(502, "upstream_bad_response", broken, true));
      ctx.close(); // what follows on this connection cannot be trusted either
      return false;
    }
    if (h.status().code() < 200) {
      // 100 Continue, 102, 103 Early Hints: interim answers (RFC 9110 15.2); the final one follows
      interim = true;
      return true;
    }
    if (streamable && streams(h)) {
      Promise<UpstreamResponse> p = take();
      stream = new UpstreamStream(ctx.channel(), streamLimits, HttpUtil.isKeepAlive(h), release,
          System::nanoTime);
      if (!p.trySuccess(new UpstreamResponse(h, null, stream, reused))) {
        stream.cancel("nobody waits for the answer any more");
      }
      return true;
    }
    long declared = HttpUtil.getContentLength(h, -1L);
    if (declared > maxResponseBytes) {
      fail(tooLarge());
      ctx.close();
      return false;
    }
    head = h;
    body = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    return true;
  }

  /** A piece of a body read whole (or of an interim answer, which has none). */
  private void content(ChannelHandlerContext ctx, HttpContent c) {
    try {
      if (interim) {
        interim = !(c instanceof LastHttpContent);
        return;
      }
      if (head == null) {
        return; // the rest of an answer already refused
      }
      if (c.decoderResult().isFailure()) {
        fail(new UpstreamException(502, "upstream_bad_response",
            "the upstream's answer is not valid HTTP: " + why(c.decoderResult().cause()), true));
        ctx.close();
        return;
      }
      if (body.readableBytes() + c.content().readableBytes() > maxResponseBytes) {
        fail(tooLarge());
        ctx.close();
        return;
      }
      if (c.content().isReadable()) {
        body.addComponent(true, c.content().retain());
      }
      if (c instanceof LastHttpContent) {
        HttpResponse h = head;
        CompositeByteBuf b = body;
        head = null;
        body = null;
        Promise<UpstreamResponse> p = take();
        if (p == null || !p.trySuccess(new UpstreamResponse(h, b, null, reused))) {
          b.release();
          ctx.close();
        }
      }
    } finally {
      c.release();
    }
  }

  /**
   * Whether an answer is passed on as it arrives: an event stream, or a body whose end only its
   * framing tells (chunked, or the connection's close). Answers that have no content for the agent
   * (204, 205, 304) are read whole.
   */
  static boolean streams(HttpResponse h) {
    int code = h.status().code();
    if (code == 204 || code == 205 || code == 304) {
      return false;
    }
    String type = h.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (type != null && type.toLowerCase(Locale.ROOT).startsWith(HttpHeaderValues.TEXT_EVENT_STREAM.toString())) {
      return true;
    }
    return !h.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
  }

  /**
   * What the decoder found wrong, without the bytes it quotes ("invalid version format: <bytes>"):
   * an upstream's bytes must not reach the agent or the ledger through an error message (they may
   * echo a credential, even another route's, left on a pooled connection).
   */
  static String why(Throwable cause) {
    if (cause == null) {
      return "unknown decoder failure";
    }
    String m = cause.getMessage();
    if (m == null) {
      return cause.getClass().getSimpleName();
    }
    int colon = m.indexOf(':');
    return colon < 0 ? m : m.substring(0, colon);
  }

  private UpstreamException tooLarge() {
    return new UpstreamException(502, "upstream_response_too_large",
        "the upstream's answer is larger than upstream.max_response_bytes (" + maxResponseBytes
            + " bytes)", true);
  }

  /**
   * Why an answer must not be forwarded or recorded as the upstream's, or null when it is a valid
   * HTTP/1.x answer: the decoder could not read it (bytes that are not HTTP, bad framing), its
   * version is not HTTP/1.x, its status is outside 100-599, or it is 101 Switching Protocols (the
   * proxy asks for no upgrade, so an upstream that switches is not speaking HTTP any more).
   */
  static String brokenBecause(HttpResponse response) {
    if (response.decoderResult().isFailure()) {
      return "the upstream's answer is not valid HTTP: " + why(response.decoderResult().cause());
    }
    var version = response.protocolVersion();
    if (!"HTTP".equals(version.protocolName()) || version.majorVersion() != 1
        || version.minorVersion() > 1) {
      return "the upstream answered with version " + version.text() + ", not HTTP/1.0 or HTTP/1.1";
    }
    int code = response.status().code();
    if (code < 100 || code > 599) {
      return "the upstream answered with status " + code + ", outside 100-599";
    }
    if (code == 101) {
      return "the upstream switched protocols (101) although no upgrade was asked for";
    }
    return null;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (stream != null) {
      UpstreamStream s = stream;
      stream = null;
      s.upstreamClosed();
    }
    fail(
        new UpstreamException(
            502, "upstream_closed", "the upstream closed the connection before answering", true));
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (stream != null) {
      UpstreamStream s = stream;
      stream = null;
      s.failed(cause);
    }
    UpstreamException tls = UpstreamException.ifTls(cause);
    if (tls != null) {
      fail(tls);
    } else if (cause instanceof TooLongFrameException) {
      fail(new UpstreamException(502, "upstream_response_too_large", cause.getMessage(), true));
    } else {
      fail(
          new UpstreamException(
              502, "upstream_error", "upstream connection failed: " + cause.getMessage(), true));
    }
    ctx.close();
  }

  private void fail(UpstreamException e) {
    if (body != null) {
      body.release();
      body = null;
    }
    head = null;
    Promise<UpstreamResponse> p = take();
    if (p != null) {
      p.tryFailure(e);
    }
  }

  private Promise<UpstreamResponse> take() {
    Promise<UpstreamResponse> p = pending;
    pending = null;
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
    return p;
  }
}
