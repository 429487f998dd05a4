package io.countersign.proxy.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The body of an upstream answer that is passed on as it arrives (no Content-Length, or an event
 * stream). Back-pressure is the upstream socket's: while the receiver cannot take more ({@link
 * #pause()}), the connection is not read, so the upstream's sends block in its own TCP window and
 * the proxy holds at most what one read decoded. The stream ends exactly once, with a {@link
 * StreamEnd}; then the connection goes back to its pool when it can carry another request, or is
 * closed.
 *
 * <p>Threading: confined to the upstream connection's event loop, which is the agent's (the client
 * sends on the caller's loop); calls from elsewhere hop onto it.
 */
public final class UpstreamStream {
  /** Who takes the body: the exchange flow, which passes it to the agent. */
  public interface Receiver {
    /** The next bytes of the body; the receiver owns (and releases) them. */
    void data(ByteBuf chunk);

    /** The stream ended; no data follows. */
    void ended(StreamEnd end, String detail);
  }

  /** What the connection's owner does once the stream is over. */
  interface Release {
    void release(boolean reusable);
  }

  private final Channel channel;
  private final StreamLimits limits;
  private final boolean keepAlive;
  private final Release release;
  private final LongSupplier nanoTime;
  private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
  private Receiver receiver;
  private boolean paused;
  private StreamEnd end;
  private String endDetail;
  private boolean endDelivered;
  private long bytes;
  private long lastActivityNanos;
  private ScheduledFuture<?> idleCheck;

  UpstreamStream(Channel channel, StreamLimits limits, boolean keepAlive, Release release,
      LongSupplier nanoTime) {
    this.channel = channel;
    this.limits = limits;
    this.keepAlive = keepAlive;
    this.release = release;
    this.nanoTime = nanoTime;
    this.lastActivityNanos = nanoTime.getAsLong();
    channel.config().setAutoRead(false); // nothing more is read until someone takes the body
    armIdleCheck(limits.idleTimeout().toNanos());
  }

  /** Starts passing the body to {@code r}: what arrived meanwhile first. */
  public void start(Receiver r) {
    onLoop(() -> {
      receiver = r;
      drain();
    });
  }

  /** The receiver cannot take more for now: stop reading the upstream. */
  public void pause() {
    onLoop(() -> {
      paused = true;
      channel.config().setAutoRead(false);
    });
  }

  /** The receiver can take more again. */
  public void resume() {
    onLoop(() -> {
      if (paused) {
        paused = false;
        lastActivityNanos = nanoTime.getAsLong();
        drain();
      }
    });
  }

  /** The agent went away: the rest of the body is not wanted, the connection is closed. */
  public void cancel(String why) {
    onLoop(() -> {
      queue.forEach(ByteBuf::release);
      queue.clear();
      finish(StreamEnd.AGENT_GONE, why);
      drain();
    });
  }

  /**
   * The proxy refuses the rest of what the upstream sends (it broke a rule of the route, e.g. an
   * MCP tool list that cannot be read): the stream ends as {@code upstream_broke}, the connection
   * is closed.
   */
  public void abort(String why) {
    onLoop(() -> {
      queue.forEach(ByteBuf::release);
      queue.clear();
      finish(StreamEnd.UPSTREAM_BROKE, why);
      drain();
    });
  }

  /** How many body bytes came from the upstream so far. */
  public long bytes() {
    return bytes;
  }

  // ---- from the connection's handler ----

  void content(HttpContent c) {
    if (end != null) {
      c.release();
      return;
    }
    if (c.decoderResult().isFailure()) {
      c.release();
      finish(StreamEnd.UPSTREAM_BROKE, "the upstream's stream broke: "
          + UpstreamResponseHandler.why(c.decoderResult().cause()));
      drain();
      return;
    }
    ByteBuf data = c.content();
    int n = data.readableBytes();
    if (limits.maxBytes() > 0 && bytes + n > limits.maxBytes()) {
      c.release();
      finish(StreamEnd.LIMIT, "the stream went past upstream.streaming.max_bytes ("
          + limits.maxBytes() + " bytes)");
      drain();
      return;
    }
    bytes += n;
    lastActivityNanos = nanoTime.getAsLong();
    if (n > 0) {
      queue.add(data.retain());
    }
    boolean last = c instanceof LastHttpContent;
    c.release();
    if (last) {
      finish(StreamEnd.COMPLETE, null);
    }
    drain();
  }

  void upstreamClosed() {
    if (end == null) {
      finish(StreamEnd.UPSTREAM_BROKE, "the upstream closed the connection before the stream ended");
      drain();
    }
  }

  void failed(Throwable cause) {
    if (end == null) {
      finish(StreamEnd.UPSTREAM_BROKE, "the upstream connection failed: " + cause.getMessage());
      drain();
    }
  }

  // ---- inside ----

  /** Hands what is queued to the receiver, then the end; reads on when all was taken. */
  private void drain() {
    if (receiver == null) {
      return;
    }
    while (!paused && !queue.isEmpty()) {
      receiver.data(queue.poll());
    }
    if (end != null && queue.isEmpty() && !endDelivered) {
      endDelivered = true;
      receiver.ended(end, endDetail);
    } else if (end == null && !paused && !channel.config().isAutoRead()) {
      channel.config().setAutoRead(true);
      channel.read();
    }
  }

  /** Records the end and gives the connection back (or closes it); the receiver hears of it last. */
  private void finish(StreamEnd how, String detail) {
    if (end != null) {
      return;
    }
    end = how;
    endDetail = detail;
    if (idleCheck != null) {
      idleCheck.cancel(false);
      idleCheck = null;
    }
    boolean reusable = how == StreamEnd.COMPLETE && keepAlive;
    if (reusable) {
      channel.config().setAutoRead(true);
    } else {
      channel.close();
    }
    release.release(reusable);
  }

  private void armIdleCheck(long inNanos) {
    idleCheck = channel.eventLoop().schedule(this::checkIdle, inNanos, TimeUnit.NANOSECONDS);
  }

  private void checkIdle() {
    idleCheck = null;
    if (end != null) {
      return;
    }
    long idle = limits.idleTimeout().toNanos();
    long quiet = nanoTime.getAsLong() - lastActivityNanos;
    if (quiet < idle) {
      armIdleCheck(idle - quiet);
      return;
    }
    if (paused) {
      queue.forEach(ByteBuf::release);
      queue.clear();
      finish(StreamEnd.AGENT_GONE, "the agent read nothing for " + limits.idleTimeout().toMillis()
          + " ms (upstream.streaming.idle_timeout)");
    } else {
      finish(StreamEnd.IDLE_TIMEOUT, "the upstream sent nothing for "
          + limits.idleTimeout().toMillis() + " ms (upstream.streaming.idle_timeout)");
    }
    drain();
  }

  private void onLoop(Runnable task) {
    if (channel.eventLoop().inEventLoop()) {
      task.run();
    } else {
      channel.eventLoop().execute(task);
    }
  }
}
