package io.countersign.proxy.canonical;

import java.util.List;

/**
 * Who is calling and why. The agent id comes from the sidecar's config; the rest comes from the
 * agent's {@code X-Countersign-*} request headers, which are never forwarded. Absent values are
 * null.
 *
 * @param agent the agent id from config
 * @param workflow {@code X-Countersign-Workflow}
 * @param run {@code X-Countersign-Run}
 * @param onBehalfOf {@code X-Countersign-On-Behalf-Of}
 * @param account {@code X-Countersign-Account}
 * @param tool {@code X-Countersign-Tool}
 * @param promptRef {@code X-Countersign-Prompt-Ref}: a reference to or digest of the prompt input
 * @param contextRefs {@code X-Countersign-Context-Refs}: comma-separated references to retrieved
 *     context, or null
 */
public record CallerIdentity(
    String agent,
    String workflow,
    String run,
    String onBehalfOf,
    String account,
    String tool,
    String promptRef,
    List<String> contextRefs) {}
