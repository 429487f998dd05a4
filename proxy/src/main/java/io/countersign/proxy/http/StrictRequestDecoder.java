package io.countersign.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
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
 *   <li>obs-fold, a header line continued on the next line by leading white space (RFC 9112 5.2):
 *       Netty joins the lines; an upstream might split them. Netty has no switch for it, so this
 *       decoder watches the head bytes Netty consumed and replaces the request by a failed one.
 * </ul>
 *
 * Either way the request comes out with a failed decoder result, the proxy answers 400 and closes.
 * One instance per connection, on its event loop.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
  private boolean inHead = true;
  private boolean inRequestLine = true;
  private boolean atLineStart = true;
  private boolean atEmptyLine;
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
    super.decode(ctx, in, out);
    if (inHead && foldedHeaderIn(in, from, in.readerIndex())) {
      for (int i = out.size() - 1; i >= produced; i--) {
        ReferenceCountUtil.release(out.remove(i));
      }
      FullHttpRequest failed = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
      failed.setDecoderResult(DecoderResult.failure(new AmbiguousFramingException(
          "a header line is folded onto the next line (obs-fold), which RFC 9112 forbids")));
      out.add(failed);
      refused = true;
      in.skipBytes(in.readableBytes());
      return;
    }
    for (int i = produced; i < out.size(); i++) {
      if (out.get(i) instanceof LastHttpContent) {
        inHead = true; // the next bytes start the next request's head
        inRequestLine = true;
        atLineStart = true;
        atEmptyLine = false;
      }
    }
  }

  /** Scans consumed head bytes; true when a header line starts with white space. */
  private boolean foldedHeaderIn(ByteBuf in, int from, int to) {
    for (int i = from; i < to && inHead; i++) {
      byte b = in.getByte(i);
      if (inRequestLine) {
        if (b == '\n') {
          inRequestLine = false;
          atLineStart = true;
        }
        continue;
      }
      if (atEmptyLine) {
        if (b == '\n') {
          inHead = false; // the rest is body
        }
        continue;
      }
      if (atLineStart) {
        if (b == ' ' || b == '\t') {
          return true;
        }
        if (b == '\r') {
          atEmptyLine = true;
          continue;
        }
        atLineStart = false;
      }
      if (b == '\n') {
        atLineStart = true;
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
}
