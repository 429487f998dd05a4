package io.countersign.proxy.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.exchange.Answer;
import io.countersign.proxy.exchange.Answers;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpVersion;

/**
 * JSON answers as Netty responses, for the admin port (the agent port writes the flow's {@link
 * Answer}s the same way).
 */
public final class ErrorResponses {
  private ErrorResponses() {}

  /** Any JSON answer: the body with its Content-Type and Content-Length. */
  public static FullHttpResponse json(int status, JsonNode body) {
    return response(Answers.json(status, body));
  }

  /** An answer as a response to write. */
  public static FullHttpResponse response(Answer a) {
    return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, a.status(), a.body(), a.headers(),
        EmptyHttpHeaders.INSTANCE);
  }
}
