package io.countersign.proxy.exchange;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.route.Route;
import io.countersign.proxy.upstream.ResponseHeaders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Set;

/**
 * The answers the proxy gives: errors (in the route's {@link ErrorDialect}, RFC 9457 problem
 * details by default, carrying {@code error}, {@code message}, {@code exchange_id} and, for
 * policy outcomes, the risk, rule and reasons; documented in {@code docs/errors.md}), the 202
 * ticket of an async hold, and the upstream's answer as the agent gets it.
 */
public final class Answers {
  /** The header naming the exchange (the key of its ledger events) on every answer. */
  public static final String EXCHANGE_ID_HEADER = "x-countersign-exchange-id";

  /** Where tickets live on the agent port (no route may use this prefix). */
  public static final String TICKET_PREFIX = "/.countersign/tickets/";

  private static final ObjectMapper JSON = new ObjectMapper();

  private Answers() {}

  /**
   * An error that no policy decided (bad input, no route, upstream down ...), as RFC 9457 problem
   * details: what refusals before any route is known get. A route's refusals go through its
   * {@link ErrorDialect}.
   */
  public static Answer error(int status, String code, String message, String exchangeId) {
    return ErrorDialect.PROBLEM.write(Refusal.error(status, code, message, exchangeId));
  }

  /** 202 Accepted for an async hold: the ticket to poll (RFC 7240 respond-async). */
  static Answer ticket(PendingApproval a) {
    ObjectNode body = JSON.createObjectNode();
    body.put("status", "pending");
    body.put("ticket", a.id());
    body.put("exchange_id", a.exchangeId());
    body.put("message", "approval required: the request is held for group " + a.terms().group()
        + "; poll the ticket for the outcome");
    body.put("expires_at", a.expiresAt().toString());
    Answer r = withId(json(202, body), a.exchangeId());
    r.headers().set(HttpHeaderNames.LOCATION, TICKET_PREFIX + a.id());
    r.headers().set(HttpHeaderNames.RETRY_AFTER, "5");
    r.headers().set("Preference-Applied", "respond-async");
    return r;
  }

  /**
   * The upstream's answer as the agent gets it: its status and end-to-end headers, Content-Length
   * for the body actually sent (the upstream's own for a HEAD and a 304, none for a 204), no body
   * for a HEAD, 204, 205 or 304, and the exchange id. Retains the
   * upstream's body; the caller still releases {@code body}.
   */
  static Answer fromUpstream(HttpResponse upstream, ByteBuf upstreamBody, boolean head,
      String exchangeId, Route.InjectedCredential credential) {
    HttpHeaders headers = passedOn(upstream);
    int code = upstream.status().code();
    // answers without content (RFC 9110 15.3.5, 15.3.6, 15.4.5): the agent gets none, so none is
    // recorded either, whatever the upstream sent
    boolean empty = head || code == 204 || code == 205 || code == 304;
    ByteBuf body = empty ? Unpooled.EMPTY_BUFFER : upstreamBody;
    if (credential != null) {
      body = CredentialScrubber.of(credential).clean(headers, body);
    }
    if (code == 205) { // what the agent's encoder sends, HEAD or not (RFC 9110 15.3.6)
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
    } else if (code == 204) { // none (RFC 9110 8.6)
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
    } else if (head || code == 304) { // Content-Length says what a GET would have got
      String length = upstream.headers().get(HttpHeaderNames.CONTENT_LENGTH);
      if (length != null) {
        headers.set(HttpHeaderNames.CONTENT_LENGTH, length);
      }
    } else {
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    }
    headers.set(EXCHANGE_ID_HEADER, exchangeId);
    // the upstream's buffer is the caller's to release; a scrubbed copy (or the empty one) is ours
    return new Answer(status(upstream), headers,
        body == upstreamBody ? body.retainedDuplicate() : body);
  }

  /**
   * The head of an upstream answer streamed to the agent: its status and end-to-end headers
   * (cleaned of the route's credential; the body is cleaned piece by piece as it passes), no
   * Content-Length (the adapter frames the body), and the exchange id.
   */
  static HttpHeaders streamedHead(HttpResponse upstream, String exchangeId,
      Route.InjectedCredential credential) {
    HttpHeaders headers = passedOn(upstream);
    if (credential != null) {
      CredentialScrubber.of(credential).clean(headers, Unpooled.EMPTY_BUFFER);
    }
    headers.set(EXCHANGE_ID_HEADER, exchangeId);
    return headers;
  }

  /**
   * The upstream's status code with the standard reason phrase: the upstream's own phrase is text
   * nobody reads (RFC 9112 4) and could carry anything, the route's credential included.
   */
  static HttpResponseStatus status(HttpResponse upstream) {
    return HttpResponseStatus.valueOf(upstream.status().code());
  }

  private static HttpHeaders passedOn(HttpResponse upstream) {
    HttpHeaders headers = new DefaultHttpHeaders();
    Set<String> hopByHop = ResponseHeaders.nominated(upstream.headers().getAll(HttpHeaderNames.CONNECTION));
    for (var h : upstream.headers()) {
      if (ResponseHeaders.passedOn(h.getKey(), hopByHop)) {
        headers.add(h.getKey(), h.getValue());
      }
    }
    return headers;
  }

  /** Any JSON answer: the body with its Content-Type and Content-Length. */
  public static Answer json(int status, JsonNode body) {
    return json(status, body, "application/json");
  }

  /** A JSON answer of media type {@code mediaType} naming exchange {@code exchangeId} (or none). */
  static Answer json(int status, JsonNode body, String mediaType, String exchangeId) {
    return withId(json(status, body, mediaType), exchangeId);
  }

  private static Answer json(int status, JsonNode body, String mediaType) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.set(HttpHeaderNames.CONTENT_TYPE, mediaType);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return new Answer(HttpResponseStatus.valueOf(status), headers, Unpooled.wrappedBuffer(bytes));
  }

  private static Answer withId(Answer a, String exchangeId) {
    if (exchangeId != null) {
      a.headers().set(EXCHANGE_ID_HEADER, exchangeId);
    }
    return a;
  }
}
