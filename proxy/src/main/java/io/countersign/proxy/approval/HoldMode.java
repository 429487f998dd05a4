package io.countersign.proxy.approval;

/** How the agent waits for a hold. */
public enum HoldMode {
  /** The agent's connection waits for the answer. */
  SYNC,
  /** The agent got 202 and a ticket, and polls it; the proxy executes the request on approval. */
  ASYNC
}
