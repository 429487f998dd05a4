/**
 * What operators monitor, in Prometheus form.
 */
package io.countersign.proxy.metrics;
