package io.countersign.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;

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

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    HttpRequest r = (HttpRequest) oversized;
    ctx.fireChannelRead(new OversizedRequest(r.method().name(), r.uri(), limit));
  }
}
