/**
 * Time as a dependency: the scheduler the proxy's timers use. Wall-clock time comes from an  *
 * injected {@link java.time.Clock} and monotonic time from an injected {@code LongSupplier}, so
 * that  * tests control all three.
 */
package io.countersign.proxy.time;
