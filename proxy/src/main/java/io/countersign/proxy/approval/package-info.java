/**
 * Holds and the rules of approving them: the store and its state machine, the terms a decision
 * sets, approvers (tokens, OIDC), notifiers, and their recovery from the ledger after a restart.
 */
package io.countersign.proxy.approval;
