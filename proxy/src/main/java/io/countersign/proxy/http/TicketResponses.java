package io.countersign.proxy.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.proxy.approval.ApprovalStatus;
import io.countersign.proxy.approval.ApprovalStore;
import io.countersign.proxy.approval.HoldMode;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.approval.TicketResult;
import io.countersign.proxy.exchange.Answer;
import io.countersign.proxy.exchange.Answers;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's view of an async hold, on the agent port: status only (approving happens on the
 * admin port, never here). Once the approved request ran, the ticket answers with the upstream's
 * response itself.
 */
final class TicketResponses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TicketResponses() {}

  static Answer answer(FullHttpRequest request, ApprovalStore store) {
    if (!"GET".equals(request.method().name())) {
      return Answers.error(405, "method_not_allowed", "tickets are read with GET", null);
    }
    String id = request.uri().substring(Answers.TICKET_PREFIX.length());
    PendingApproval a = store.get(id).filter(p -> p.mode() == HoldMode.ASYNC).orElse(null);
    if (a == null) {
      return Answers.error(404, "no_such_ticket", "no ticket " + id, null);
    }
    Answer out = body(a, a.status());
    out.headers().set(Answers.EXCHANGE_ID_HEADER, a.exchangeId());
    return out;
  }

  private static Answer body(PendingApproval a, ApprovalStatus status) {
    ObjectNode body = JSON.createObjectNode();
    body.put("ticket", a.id());
    body.put("exchange_id", a.exchangeId());
    body.put("status", status.name().toLowerCase(Locale.ROOT));
    switch (status) {
      case PENDING, APPROVED, EXECUTING -> {
        body.put("approvals", a.approvals().size());
        body.put("quorum", a.terms().quorum());
        body.put("expires_at", a.expiresAt().toString());
        Answer r = Answers.json(202, body);
        r.headers().set(HttpHeaderNames.RETRY_AFTER, "5");
        return r;
      }
      case COMPLETED -> {
        TicketResult t = a.result();
        if (t.error() != null) {
          body.put("error", t.error());
          body.put("message", "the approved request got no usable answer: " + t.error());
          return Answers.json(t.status(), body);
        }
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> h : t.headers()) {
          headers.add(h.getKey(), h.getValue());
        }
        headers.setInt(HttpHeaderNames.CONTENT_LENGTH, t.body().length);
        headers.set("X-Countersign-Ticket-Status", "completed");
        return new Answer(HttpResponseStatus.valueOf(t.status()), headers, Unpooled.wrappedBuffer(t.body()));
      }
      default -> {
        body.put("error", status == ApprovalStatus.EXPIRED ? "approval_expired" : "approval_denied");
        PendingApproval.Vote d = a.denial();
        body.put("message", d != null ? "denied by " + d.approver() + ": " + d.reason()
            : "the hold ended without approval (" + body.path("status").asText() + ")");
        return Answers.json(403, body);
      }
    }
  }
}
