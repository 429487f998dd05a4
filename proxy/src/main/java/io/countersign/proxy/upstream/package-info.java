/**
 * The upstream client: pooled connections per event loop, TLS verified, bounded timeouts.
 */
package io.countersign.proxy.upstream;
