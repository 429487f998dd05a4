package io.countersign.proxy.http;

import io.countersign.proxy.config.ProxyConfig;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/** The agent port's pipeline, stage by stage. */
public final class AgentChannelInitializer extends ChannelInitializer<SocketChannel> {
  static final String IDLE = "idle";
  static final String DECODER = "http-decoder";
  static final String ENCODER = "http-encoder";
  static final String REQUEST_TIMEOUT = "request-timeout";
  static final String AGGREGATOR = "aggregator";
  static final String EXCHANGE = "exchange";

  private final ProxyConfig.Limits limits;
  private final ExchangeServices services;

  /**
   * @param limits parsing limits and timeouts
   * @param services what exchanges use
   */
  public AgentChannelInitializer(ProxyConfig.Limits limits, ExchangeServices services) {
    this.limits = limits;
    this.services = services;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    addIdleTimeout(p);
    addHttp1Codec(p);
    addRequestBounds(p);
    p.addLast(EXCHANGE, new AgentExchangeHandler(services));
  }

  private void addIdleTimeout(ChannelPipeline p) {
    p.addLast(IDLE, new IdleStateHandler(0, 0, limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
  }

  private void addHttp1Codec(ChannelPipeline p) {
    HttpDecoderConfig config = new HttpDecoderConfig()
        .setMaxInitialLineLength(limits.maxInitialLineBytes())
        .setMaxHeaderSize(limits.maxHeaderBytes())
        .setMaxChunkSize(16 * 1024)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true)
        .setValidateHeaders(true);
    p.addLast(DECODER, new StrictRequestDecoder(config));
    p.addLast(ENCODER, new HttpResponseEncoder());
  }

  private void addRequestBounds(ChannelPipeline p) {
    p.addLast(REQUEST_TIMEOUT, new RequestTimeoutHandler(limits.requestTimeout()));
    p.addLast(AGGREGATOR, new AgentRequestAggregator(limits.maxBodyBytes()));
  }
}
