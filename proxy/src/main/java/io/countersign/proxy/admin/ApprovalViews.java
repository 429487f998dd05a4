package io.countersign.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.LedgerEventCodec;
import io.countersign.proxy.approval.PendingApproval;
import io.countersign.proxy.canonical.CanonicalRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;

/** The JSON an approver sees of a hold: what exactly would be forwarded, and why it waits. */
final class ApprovalViews {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ApprovalViews() {}

  static ObjectNode summary(PendingApproval a, String status, Clock clock) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", a.id());
    n.put("exchange_id", a.exchangeId());
    n.put("status", status.toLowerCase(Locale.ROOT));
    n.put("mode", a.mode().name().toLowerCase(Locale.ROOT));
    n.put("group", a.terms().group());
    n.put("quorum", a.terms().quorum());
    n.put("risk", a.decision().risk());
    n.put("rule", a.decision().rule());
    a.decision().reasons().forEach(n.putArray("reasons")::add);
    CanonicalRequest r = a.request();
    n.put("route", r.route().name());
    n.put("method", r.method());
    n.put("path", r.path());
    n.put("agent", r.caller().agent());
    n.put("workflow", r.caller().workflow());
    n.put("on_behalf_of", r.caller().onBehalfOf());
    n.put("account", r.caller().account());
    n.put("opened_at", a.openedAt().toString());
    n.put("expires_at", a.expiresAt().toString());
    n.put("age_seconds", Duration.between(a.openedAt(), clock.instant()).toSeconds());
    n.put("digest", a.digest());
    return n;
  }

  /**
   * The hold in full; {@code held} is its journaled request (the body lives there), or null when it
   * could not be read (the view then says so).
   */
  static ObjectNode detail(PendingApproval a, String status, java.util.List<PendingApproval.Vote> votes,
      PendingApproval.Vote denial, io.countersign.ledger.event.HeldRequest held, Clock clock) {
    ObjectNode n = summary(a, status, clock);
    CanonicalRequest r = a.request();
    ObjectNode req = n.putObject("request");
    req.put("method", r.method());
    req.put("path", r.path());
    req.put("upstream", r.route().upstream().origin());
    req.put("upstream_target", r.upstreamTarget());
    ObjectNode headers = req.putObject("headers");
    r.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    req.put("size", a.size());
    req.put("body_sha256", r.bodySha256());
    req.put("body_kind", r.content().kind().wireName());
    if (held == null) {
      req.put("body_unavailable", "the held body could not be read from the ledger");
    } else if (held.body() != null) {
      req.set("body", held.body());
    } else if (a.size() > 0 && a.size() <= 64 * 1024 && held.bodyBase64() != null) {
      req.put("body_text", new String(java.util.Base64.getDecoder().decode(held.bodyBase64()),
          java.nio.charset.StandardCharsets.UTF_8));
    }
    ObjectNode caller = n.putObject("caller");
    caller.put("agent", r.caller().agent());
    caller.put("workflow", r.caller().workflow());
    caller.put("run", r.caller().run());
    caller.put("on_behalf_of", r.caller().onBehalfOf());
    caller.put("account", r.caller().account());
    caller.put("tool", r.caller().tool());
    caller.put("prompt_ref", r.caller().promptRef());
    n.set("decision", LedgerEventCodec.tree(a.decision()));
    var approvals = n.putArray("approvals");
    for (PendingApproval.Vote v : votes) {
      approvals.addObject().put("approver", v.approver()).put("reason", v.reason())
          .put("at", v.at().toString());
    }
    if (denial != null) {
      n.putObject("denied_by").put("approver", denial.approver()).put("reason", denial.reason())
          .put("at", denial.at().toString());
    }
    return n;
  }
}
