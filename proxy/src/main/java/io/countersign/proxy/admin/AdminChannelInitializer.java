package io.countersign.proxy.admin;

import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.approval.ApproverDirectory;
import io.countersign.proxy.approval.HeldBodies;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** The admin port's pipeline: idle timeout, HTTP/1.1, small bodies, the admin API. */
public final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {
  private static final int MAX_BODY = 64 * 1024;

  private final ApprovalStore approvals;
  private final ApproverDirectory approvers;
  private final Map<String, BooleanSupplier> readiness;
  private final Clock clock;
  private final java.util.function.Supplier<String> metrics;
  private final PolicyAdmin policy;
  private final HeldBodies heldBodies;

  /**
   * @param approvals the holds
   * @param heldBodies reads a held request's body back from the ledger, for its view
   * @param approvers who may approve
   * @param readiness named checks behind /readyz
   * @param metrics the Prometheus exposition behind /metrics
   * @param policy the policy in force and its reload
   * @param clock wall clock
   */
  public AdminChannelInitializer(ApprovalStore approvals, HeldBodies heldBodies,
      ApproverDirectory approvers,
      Map<String, BooleanSupplier> readiness, java.util.function.Supplier<String> metrics,
      PolicyAdmin policy, Clock clock) {
    this.heldBodies = heldBodies;
    this.metrics = metrics;
    this.policy = policy;
    this.approvals = approvals;
    this.approvers = approvers;
    this.readiness = Map.copyOf(readiness);
    this.clock = clock;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ch.pipeline()
        .addLast("idle", new IdleStateHandler(0, 0, 120, TimeUnit.SECONDS) {
          @Override
          protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx,
              io.netty.handler.timeout.IdleStateEvent evt) {
            ctx.close();
          }
        })
        .addLast("http", new HttpServerCodec())
        .addLast("aggregator", new HttpObjectAggregator(MAX_BODY))
        .addLast("admin", new AdminHandler(approvals, heldBodies, approvers, readiness, metrics, policy, clock));
  }
}
