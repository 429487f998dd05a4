package io.countersign.proxy.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;

/**
 * An upstream's final answer: its head and either its whole body or the stream it arrives on.
 * Owns {@code body}: release it once written.
 *
 * @param head the status line and headers
 * @param body the whole body (possibly empty), or null when the answer is streamed
 * @param stream the body as it arrives, or null when it was read whole
 * @param connectionReused whether a pooled connection carried the request
 */
public record UpstreamResponse(HttpResponse head, ByteBuf body, UpstreamStream stream,
    boolean connectionReused) {

  /** Whether the body is streamed rather than read whole. */
  public boolean streamed() {
    return stream != null;
  }

  /** Releases the body, if read whole. */
  public void release() {
    if (body != null) {
      body.release();
    }
  }
}
