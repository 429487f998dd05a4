package io.countersign.proxy.http;

/**
 * Fired instead of a request whose body exceeds the limit: the aggregator has dropped the content,
 * and the exchange handler answers 413, records why and closes.
 *
 * @param method the request's method
 * @param uri the request target
 * @param limit the body limit in bytes
 */
record OversizedRequest(String method, String uri, int limit) {}
