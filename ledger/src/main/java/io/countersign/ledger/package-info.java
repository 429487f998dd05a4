/**
 * The ledger: an append-only journal of every exchange on Chronicle Queue, its reader and CLI. No
 * Netty here.
 */
package io.countersign.ledger;
