package io.countersign.proxy.approval;

import java.util.Set;

/**
 * An authenticated approver.
 *
 * @param name the approver's identity (e.g. an e-mail address), as recorded in the ledger
 * @param groups the groups the approver belongs to
 */
public record Approver(String name, Set<String> groups) {}
