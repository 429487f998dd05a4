package io.countersign.proxy.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.policy.Decision;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The JSON error bodies the agent gets: {@code {"error": code, "message": ..., "exchange_id": ...}}
 * and, for policy outcomes, the risk, rule and reasons. Documented in {@code docs/errors.md}. The
 * admin port builds its JSON answers with {@link #json} too.
 */
public final class ErrorResponses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ErrorResponses() {}

  /** An error that no policy decided (bad input, no route, upstream down ...). */
  static FullHttpResponse error(int status, String code, String message, String exchangeId) {
    ObjectNode body = JSON.createObjectNode();
    body.put("error", code);
    body.put("message", message);
    body.put("exchange_id", exchangeId);
    return json(status, body);
  }

  /** A policy outcome that was not forwarded: a deny, or a hold that ended without approval. */
  static FullHttpResponse refused(int status, String code, String message, String exchangeId, Decision d) {
    ObjectNode body = JSON.createObjectNode();
    body.put("error", code);
    body.put("message", message);
    body.put("exchange_id", exchangeId);
    body.put("risk", d.risk().wireName());
    body.put("action", d.action().wireName());
    body.put("rule", d.rule());
    d.reasons().forEach(body.putArray("reasons")::add);
    body.put("policy_revision", d.revision());
    return json(status, body);
  }

  /** 202 Accepted for an async hold: the ticket to poll (RFC 7240 respond-async). */
  static FullHttpResponse ticket(io.countersign.proxy.approval.PendingApproval a) {
    ObjectNode body = JSON.createObjectNode();
    body.put("status", "pending");
    body.put("ticket", a.id());
    body.put("exchange_id", a.exchangeId());
    body.put("message", "approval required: the request is held for group " + a.terms().group()
        + "; poll the ticket for the outcome");
    body.put("expires_at", a.expiresAt().toString());
    FullHttpResponse r = json(202, body);
    r.headers().set(HttpHeaderNames.LOCATION, TicketResponses.PREFIX + a.id());
    r.headers().set(HttpHeaderNames.RETRY_AFTER, "5");
    r.headers().set("Preference-Applied", "respond-async");
    return r;
  }

  /** Any JSON answer, on either port: the body with its Content-Type and Content-Length. */
  public static FullHttpResponse json(int status, com.fasterxml.jackson.databind.JsonNode body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(bytes));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return r;
  }
}
