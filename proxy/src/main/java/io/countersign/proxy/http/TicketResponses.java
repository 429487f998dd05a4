package io.countersign.proxy.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.approval.ApprovalStatus;
import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.approval.TicketResult;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Map;

/**
 * The agent's view of an async hold, on the agent port: status only (approving happens on the
 * admin port, never here). Once the approved request ran, the ticket answers with the upstream's
 * response itself.
 */
final class TicketResponses {
  /** Where tickets live on the agent port (no route may use this prefix). */
  static final String PREFIX = "/.countersign/tickets/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private TicketResponses() {}

  static FullHttpResponse answer(FullHttpRequest request, ApprovalStore store) {
    if (!"GET".equals(request.method().name())) {
      return ErrorResponses.error(405, "method_not_allowed", "tickets are read with GET", null);
    }
    String id = request.uri().substring(PREFIX.length());
    PendingApproval a = store.get(id).filter(p -> p.mode() == io.countersign.proxy.approval.HoldMode.ASYNC)
        .orElse(null);
    if (a == null) {
      return ErrorResponses.error(404, "no_such_ticket", "no ticket " + id, null);
    }
    ApprovalStatus status = a.status();
    FullHttpResponse out = body(a, status);
    out.headers().set(AgentExchangeHandler.EXCHANGE_ID_HEADER, a.exchangeId());
    return out;
  }

  private static FullHttpResponse body(PendingApproval a, ApprovalStatus status) {
    ObjectNode body = JSON.createObjectNode();
    body.put("ticket", a.id());
    body.put("exchange_id", a.exchangeId());
    body.put("status", status.name().toLowerCase(java.util.Locale.ROOT));
    switch (status) {
      case PENDING, APPROVED -> {
        body.put("approvals", a.approvals().size());
        body.put("quorum", a.terms().quorum());
        body.put("expires_at", a.expiresAt().toString());
        FullHttpResponse r = ErrorResponses.json(202, body);
        r.headers().set(HttpHeaderNames.RETRY_AFTER, "5");
        return r;
      }
      case COMPLETED -> {
        TicketResult t = a.result();
        if (t.error() != null) {
          body.put("error", t.error());
          body.put("message", "the approved request got no usable answer: " + t.error());
          return ErrorResponses.json(t.status(), body);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(t.status()), Unpooled.wrappedBuffer(t.body()));
        for (Map.Entry<String, String> h : t.headers()) {
          r.headers().add(h.getKey(), h.getValue());
        }
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, t.body().length);
        r.headers().set("X-Countersign-Ticket-Status", "completed");
        return r;
      }
      default -> {
        body.put("error", status == ApprovalStatus.EXPIRED ? "approval_expired" : "approval_denied");
        PendingApproval.Vote d = a.denial();
        body.put("message", d != null ? "denied by " + d.approver() + ": " + d.reason()
            : "the hold ended without approval (" + body.path("status").asText() + ")");
        return ErrorResponses.json(403, body);
      }
    }
  }
}
