package io.countersign.proxy.exchange;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The answer an exchange gives, free of any connection: status, headers (Content-Length included,
 * unless streamed) and body, or the stream its body arrives on. The flow builds it, the ledger records it, and an adapter writes it as it is (adding
 * only connection-level headers such as {@code Connection: close}). Owns its body: whoever writes
 * or drops it releases it.
 *
 * @param status the status
 * @param headers the headers, as sent
 * @param body the body bytes (empty for a streamed answer)
 * @param stream the body as it arrives, for an answer streamed from the upstream; else null
 */
public record Answer(HttpResponseStatus status, HttpHeaders headers, ByteBuf body,
    AnswerStream stream) {

  /** An answer whose body is all here. */
  public Answer(HttpResponseStatus status, HttpHeaders headers, ByteBuf body) {
    this(status, headers, body, null);
  }

  /** The status code. */
  public int code() {
    return status.code();
  }

  /** Releases the body. */
  public void release() {
    body.release();
  }
}
