/**
 * The exchange flow, transport-free: decide, record the intent, act (forward, deny, hold), record
 * the outcome; the exchange's state machine, the answers it gives and the ledger records it
 * writes. Adapters (the agent port today) hand it canonical requests.
 */
package io.countersign.proxy.exchange;
