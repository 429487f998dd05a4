package io.countersign.proxy.upstream;

import io.countersign.proxy.Transport;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.route.Route;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * Sends canonical requests upstream over pooled keep-alive connections. Each event loop has its own
 * pools, and a request goes out on the caller's loop, so the agent's channel and its upstream
 * connection share a thread and nothing here needs locks beyond the pool map. TLS upstreams are
 * verified (chain and host name).
 */
public final class UpstreamClient implements AutoCloseable {
  private static final AttributeKey<Boolean> USED = AttributeKey.valueOf("countersign.used");

  private final Transport transport;
  private final Duration connectTimeout;
  private final Duration responseTimeout;
  private final int maxResponseBytes;
  private final int maxConnections;
  private final StreamLimits streamLimits;
  private final SslContext ssl;
  private final Map<PoolKey, FixedChannelPool> pools = new ConcurrentHashMap<>();

  private record PoolKey(EventLoop loop, Route.UpstreamTarget target) {}

  /**
   * @param transport the socket transport
   * @param connectTimeout TCP connect deadline
   * @param responseTimeout deadline for a whole answer read at once, and for the head of a
   *     streamed one
   * @param maxResponseBytes largest body of an answer read at once
   * @param streamLimits limits of streamed answers
   * @param maxConnections connections per upstream per event loop
   * @param caFile CAs (PEM) trusted instead of the JDK's trust store, or null for the JDK's
   */
  public UpstreamClient(
      Transport transport,
      Duration connectTimeout,
      Duration responseTimeout,
      int maxResponseBytes,
      StreamLimits streamLimits,
      int maxConnections,
      Path caFile) {
    this.streamLimits = streamLimits;
    this.transport = transport;
    this.connectTimeout = connectTimeout;
    this.responseTimeout = responseTimeout;
    this.maxResponseBytes = maxResponseBytes;
    this.maxConnections = maxConnections;
    try {
      SslContextBuilder b = SslContextBuilder.forClient();
      if (caFile != null) {
        b.trustManager(caFile.toFile());
      }
      this.ssl = b.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS for upstreams: " + e.getMessage(), e);
    }
  }

  /**
   * Sends {@code request} to its route's upstream on {@code loop}. The returned future completes
   * on {@code loop}, with a response or an {@link UpstreamException}. The request's body is not
   * consumed (it is retained for the write).
   *
   * @param streamable whether an answer without Content-Length (or an event stream) may be passed
   *     on as it arrives; if not, every answer is read whole, up to the size limit
   */
  public CompletableFuture<UpstreamResponse> send(EventLoop loop, CanonicalRequest request,
      boolean streamable) {
    CompletableFuture<UpstreamResponse> result = new CompletableFuture<>();
    Route.UpstreamTarget target = request.route().upstream();
    FixedChannelPool pool = pools.computeIfAbsent(new PoolKey(loop, target), this::newPool);
    boolean mayStream = streamable && !"HEAD".equals(request.method());
    pool.acquire()
        .addListener(
            acquired -> {
              if (!acquired.isSuccess()) {
                result.completeExceptionally(connectFailure(target, acquired.cause()));
                return;
              }
              Channel ch = (Channel) acquired.getNow();
              boolean reused = ch.attr(USED).getAndSet(Boolean.TRUE) != null;
              Promise<UpstreamResponse> promise = ch.eventLoop().newPromise();
              UpstreamResponseHandler handler = ch.pipeline().get(UpstreamResponseHandler.class);
              // a streamed answer gives its connection back when the stream ends, not here
              UpstreamStream.Release afterStream = reusable -> pool.release(ch);
              handler.expect(ch.pipeline().context(handler), promise, responseTimeout.toMillis(),
                  mayStream, reused, afterStream);
              promise.addListener(
                  done -> {
                    if (done.isSuccess() && promise.getNow().streamed()) {
                      result.complete(promise.getNow());
                      return;
                    }
                    if (!done.isSuccess() || !HttpUtil.isKeepAlive(promise.getNow().head())) {
                      ch.close();
                    }
                    pool.release(ch);
                    if (done.isSuccess()) {
                      result.complete(promise.getNow());
                    } else {
                      result.completeExceptionally(done.cause());
                    }
                  });
              ch.writeAndFlush(toUpstream(request))
                  .addListener(
                      written -> {
                        if (!written.isSuccess()) {
                          UpstreamException tls = UpstreamException.ifTls(written.cause());
                          promise.tryFailure(tls != null ? tls :
                              new UpstreamException(
                                  502,
                                  "upstream_write_failed",
                                  "sending to " + target.origin() + " failed: "
                                      + written.cause().getMessage(),
                                  false));
                        }
                      });
            });
    return result;
  }

  private static UpstreamException connectFailure(Route.UpstreamTarget target, Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return new UpstreamException(
          504, "upstream_connect_timeout", "connecting to " + target.origin() + " timed out", false);
    }
    String why = cause instanceof ConnectException || cause instanceof IOException
        ? cause.getMessage()
        : cause.toString();
    return new UpstreamException(
        502, "upstream_unreachable", "cannot connect to " + target.origin() + ": " + why, false);
  }

  private FullHttpRequest toUpstream(CanonicalRequest r) {
    FullHttpRequest out =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            HttpMethod.valueOf(r.method()),
            r.upstreamTarget(),
            r.body().retainedDuplicate());
    for (Map.Entry<String, String> h : r.headers()) {
      out.headers().add(h.getKey(), h.getValue());
    }
    out.headers().set(HttpHeaderNames.HOST, r.route().upstream().authority());
    if (r.route().credential() != null) {
      out.headers().set(r.route().credential().header(), r.route().credential().value());
    }
    if (r.size() > 0 || !("GET".equals(r.method()) || "HEAD".equals(r.method()))) {
      out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.size());
    }
    return out;
  }

  private FixedChannelPool newPool(PoolKey key) {
    Route.UpstreamTarget target = key.target();
    Bootstrap bootstrap =
        new Bootstrap()
            .group(key.loop())
            .channel(transport.clientChannel())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
            .option(ChannelOption.TCP_NODELAY, true)
            .remoteAddress(target.host(), target.port());
    return new FixedChannelPool(
        bootstrap,
        new AbstractChannelPoolHandler() {
          @Override
          public void channelCreated(Channel ch) {
            ChannelPipeline p = ch.pipeline();
            if (target.secure()) {
              SslHandler tls = ssl.newHandler(ch.alloc(), target.host(), target.port());
              SSLParameters params = tls.engine().getSSLParameters();
              params.setEndpointIdentificationAlgorithm("HTTPS");
              tls.engine().setSSLParameters(params);
              p.addLast("tls", tls);
            }
            p.addLast("http", new HttpClientCodec());
            p.addLast(UpstreamResponseHandler.NAME,
                new UpstreamResponseHandler(maxResponseBytes, streamLimits));
          }
        },
        ChannelHealthChecker.ACTIVE,
        FixedChannelPool.AcquireTimeoutAction.FAIL,
        connectTimeout.toMillis() + responseTimeout.toMillis(),
        maxConnections,
        4096,
        true,
        true);
  }

  /** Closes every pooled connection. */
  @Override
  public void close() {
    pools.values().forEach(FixedChannelPool::close);
    pools.clear();
  }
}
