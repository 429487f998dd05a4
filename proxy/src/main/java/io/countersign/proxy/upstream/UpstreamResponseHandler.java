package io.countersign.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of a pooled upstream connection: completes the promise of the one request in
 * flight on it. Runs on the connection's event loop only (the same loop as the agent's channel), so
 * it needs no locking.
 */
final class UpstreamResponseHandler extends ChannelInboundHandlerAdapter {
  static final String NAME = "upstream-response";

  private Promise<FullHttpResponse> pending;
  private ScheduledFuture<?> timeout;

  /** Arms the handler for one request; fails it with a 504 if no response comes in time. */
  void expect(ChannelHandlerContext ctx, Promise<FullHttpResponse> promise, long timeoutMillis) {
    this.pending = promise;
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
    if (!(msg instanceof FullHttpResponse response)) {
      io.netty.util.ReferenceCountUtil.release(msg);
      return;
    }
    String broken = brokenBecause(response);
    if (broken != null) {
      response.release();
      fail(new UpstreamException(502, "upstream_bad_response", broken, true));
      ctx.close(); // what follows on this connection cannot be trusted either
      return;
    }
    int code = response.status().code();
    if (code < 200) {
      // 100 Continue, 102, 103 Early Hints: interim answers (RFC 9110 15.2); the final one follows
      response.release();
      return;
    }
    Promise<FullHttpResponse> p = take();
    if (p == null || !p.trySuccess(response)) {
      response.release(); // an answer nobody asked for: the connection is not trustworthy
      ctx.close();
    }
  }

  /**
   * Why an answer must not be forwarded or recorded as the upstream's, or null when it is a valid
   * HTTP/1.x answer: the decoder could not read it (bytes that are not HTTP, bad framing), its
   * version is not HTTP/1.x, its status is outside 100-599, or it is 101 Switching Protocols (the
   * proxy asks for no upgrade, so an upstream that switches is not speaking HTTP any more).
   */
  static String brokenBecause(FullHttpResponse response) {
    if (response.decoderResult().isFailure()) {
      Throwable cause = response.decoderResult().cause();
      return "the upstream's answer is not valid HTTP: "
          + (cause == null || cause.getMessage() == null ? String.valueOf(cause) : cause.getMessage());
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
    fail(
        new UpstreamException(
            502, "upstream_closed", "the upstream closed the connection before answering", true));
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
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
    Promise<FullHttpResponse> p = take();
    if (p != null) {
      p.tryFailure(e);
    }
  }

  private Promise<FullHttpResponse> take() {
    Promise<FullHttpResponse> p = pending;
    pending = null;
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
    return p;
  }
}
