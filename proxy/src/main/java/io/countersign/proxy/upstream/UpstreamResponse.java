package io.countersign.proxy.upstream;

import io.netty.handler.codec.http.FullHttpResponse;

/**
 * A complete upstream response and when it arrived. Owns {@code response}: release it once
 * written.
 *
 * @param response the aggregated response
 * @param connectionReused whether a pooled connection carried the request
 */
public record UpstreamResponse(FullHttpResponse response, boolean connectionReused) {}
