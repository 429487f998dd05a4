package io.countersign.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * Netty's request decoder, made to refuse ambiguous framing instead of guessing.
 *
 * <ul>
 *   <li>Content-Length together with Transfer-Encoding: chunked, the classic request-smuggling
 *       shape (RFC 9112 6.1): Netty would drop the Content-Length and carry on, and a different
 *       upstream parser might not.
 *   <li>everything {@link HeadValidator} refuses in the head's raw bytes (obs-fold, repeated
 *       framing headers, an unclean request line, non-ASCII or control bytes in values, a missing
 *       or repeated Host): Netty reads them leniently, so this decoder checks the bytes Netty
 *       consumed and replaces the request by a failed one.
 *   <li>trailer fields after a chunked body.
 * </ul>
 *
 * Either way the request comes out with a failed decoder result, the proxy answers 400 and closes.
 * One instance per connection, on its event loop.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
  private final HeadValidator head = new HeadValidator();
  private boolean refused;

  StrictRequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new AmbiguousFramingException(
        "the request has both Content-Length and Transfer-Encoding: chunked");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (refused) {
      in.skipBytes(in.readableBytes()); // the connection is closing; nothing more is parsed
      return;
    }
    int from = in.readerIndex();
    int produced = out.size();
    super.decode(ctx, in, out); // one step: a head, or a piece of a body
    HeadValidator.Refusal r = head.feed(in, from, in.readerIndex());
    if (r != null && !failedIn(out, produced)) { // Netty's own refusal, when it has one, stands
      for (int i = out.size() - 1; i >= produced; i--) {
        ReferenceCountUtil.release(out.remove(i));
      }
      FullHttpRequest failed = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
      failed.setDecoderResult(DecoderResult.failure(r.ambiguous()
          ? new AmbiguousFramingException(r.message()) : new MalformedHeadException(r.message())));
      out.add(failed);
      refused = true;
      in.skipBytes(in.readableBytes());
      return;
    }
    for (int i = produced; i < out.size(); i++) {
      if (out.get(i) instanceof LastHttpContent last) {
        if (!last.trailingHeaders().isEmpty()) {
          // trailers are read by some parsers and not others; the proxy forwards none. The
          // request's head already went on: end it with a failed last part, so the aggregator
          // hands on the request as failed
          for (int k = out.size() - 1; k >= i; k--) {
            ReferenceCountUtil.release(out.remove(k));
          }
          LastHttpContent failed = new DefaultLastHttpContent();
          failed.setDecoderResult(DecoderResult.failure(new AmbiguousFramingException(
              "the chunked body ends with trailer fields, which the proxy does not forward; send none")));
          out.add(failed);
          refused = true;
          in.skipBytes(in.readableBytes());
          return;
        }
        head.nextRequest(); // the next bytes start the next request's head
      }
    }
  }

  private static boolean failedIn(List<Object> out, int from) {
    for (int i = from; i < out.size(); i++) {
      if (out.get(i) instanceof DecoderResultProvider p && p.decoderResult().isFailure()) {
        return true;
      }
    }
    return false;
  }

  /** The decoder met framing that two parsers could read two ways. */
  static final class AmbiguousFramingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    AmbiguousFramingException(String message) {
      super(message);
    }
  }

  /** The head is not the strict HTTP/1.1 grammar the proxy accepts. */
  static final class MalformedHeadException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    MalformedHeadException(String message) {
      super(message);
    }
  }
}
