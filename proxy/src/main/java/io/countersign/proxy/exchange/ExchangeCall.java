package io.countersign.proxy.exchange;

import java.util.concurrent.CompletionStage;

/** One exchange started by an adapter: its id, the answer to give, and a way to say the agent left. */
public interface ExchangeCall {
  /** The exchange id (the key of its ledger events). */
  String exchangeId();

  /**
   * Completes, on the exchange's event loop, with the answer for the agent: the final one, or a 202
   * ticket for an async hold (whose final answer then goes to the ticket). The adapter owns and
   * releases it. Completes exceptionally only on a bug in the proxy; the adapter then closes the
   * connection.
   */
  CompletionStage<Answer> answer();

  /** The agent's connection closed: a sync hold it waits on ends abandoned. Call on the loop. */
  void agentGone();
}
