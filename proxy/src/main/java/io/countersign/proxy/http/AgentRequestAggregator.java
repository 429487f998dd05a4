package io.countersign.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Aggregates a request up to the body limit. An oversized request is not answered here (Netty's
 * default writes a bare 413): it becomes an {@link OversizedRequest} for the exchange handler, so
 * the agent gets the same JSON error as every other rejection and the ledger records it.
 */
final class AgentRequestAggregator extends HttpObjectAggregator {
  private final int limit;

  AgentRequestAggregator(int maxBodyBytes) {
    super(maxBodyBytes);
    this.limit = maxBodyBytes;
  }

  /**
   * Answers 100 Continue only for a body within the limit; anything else goes on to the exchange
   * handler (an oversized body as {@link OversizedRequest}, an unknown expectation refused by the
   * canonicalizer), so every answer is the proxy's JSON and is journaled.
   */
  @Override
  protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline p) {
    if (!HttpUtil.is100ContinueExpected(start)
        || HttpUtil.getContentLength(start, -1L) > maxContentLength) {
      return null;
    }
    return super.newContinueResponse(start, maxContentLength, p);
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    HttpRequest r = (HttpRequest) oversized;
    ctx.fireChannelRead(new OversizedRequest(r.method().name(), r.uri(), limit));
  }
}
