/**
 * The one place request bytes are interpreted: a received request becomes the canonical request
 * the policy judges, the ledger records and the upstream gets, or is refused saying why.
 */
package io.countersign.proxy.canonical;
