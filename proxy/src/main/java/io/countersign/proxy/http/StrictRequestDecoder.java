package io.countersign.proxy.http;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder, made to refuse ambiguous framing instead of guessing. A request with
 * both Content-Length and Transfer-Encoding: chunked is the classic request-smuggling shape (RFC
 * 9112 6.1): Netty would drop the Content-Length and carry on, and a different upstream parser might
 * not; this decoder fails the message so the proxy answers 400 and closes.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

  StrictRequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new AmbiguousFramingException(
        "the request has both Content-Length and Transfer-Encoding: chunked");
  }

  /** The decoder met framing that two parsers could read two ways. */
  static final class AmbiguousFramingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    AmbiguousFramingException(String message) {
      super(message);
    }
  }
}
