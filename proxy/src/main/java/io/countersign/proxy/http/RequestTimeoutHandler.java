package io.countersign.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the time from a request's first line to its last byte, against slow senders that would
 * otherwise hold a connection and a buffer for ever. On expiry it fires {@link #TIMED_OUT}; the
 * exchange handler answers 408 and closes. Runs on the channel's event loop only.
 */
final class RequestTimeoutHandler extends ChannelInboundHandlerAdapter {
  /** The user event fired when a request did not arrive completely in time. */
  static final Object TIMED_OUT = new Object() {
    @Override
    public String toString() {
      return "request timed out";
    }
  };

  private final long timeoutMillis;
  private ScheduledFuture<?> timer;

  RequestTimeoutHandler(Duration timeout) {
    this.timeoutMillis = timeout.toMillis();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest && timer == null) {
      timer =
          ctx.executor()
              .schedule(() -> ctx.fireUserEventTriggered(TIMED_OUT), timeoutMillis, TimeUnit.MILLISECONDS);
    }
    if (msg instanceof LastHttpContent) {
      cancel();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
