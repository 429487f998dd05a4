/**
 * The sidecar process: start and stop (CountersignServer), the command line (Main, LedgerCommand,
 * PolicyCommand) and the transport.
 */
package io.countersign.proxy;
