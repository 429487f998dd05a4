package io.countersign.ledger.event;

import java.util.List;

/**
 * Who called and why, as recorded: the agent id from the sidecar's config and what the agent said
 * in its {@code X-Countersign-*} headers.
 *
 * @param agent the agent id
 * @param workflow the workflow, or null
 * @param run the run id, or null
 * @param onBehalfOf the human the agent acts for, or null
 * @param account the customer account touched, or null
 * @param tool the agent-side tool name, or null
 * @param promptRef a reference to or digest of the prompt input, or null
 * @param contextRefs references to the retrieved context, or null
 */
public record Caller(
    String agent,
    String workflow,
    String run,
    String onBehalfOf,
    String account,
    String tool,
    String promptRef,
    List<String> contextRefs) {

  /** Copies the list. */
  public Caller {
    contextRefs = contextRefs == null ? null : List.copyOf(contextRefs);
  }
}
