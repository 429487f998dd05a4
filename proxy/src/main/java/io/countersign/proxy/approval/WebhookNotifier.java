package io.countersign.proxy.approval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.ledger.Ledger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.event.ApprovalNotified;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Tells approvers a hold opened, by POSTing JSON to a webhook: the generic form (the hold's
 * summary, signed with HMAC-SHA256 when a key is set) or a Slack incoming-webhook message. Sends
 * asynchronously with retries and backoff; the final result, delivered or not, is journaled as
 * {@code approval.notified}. A failed delivery never affects the hold itself.
 */
public final class WebhookNotifier implements ApprovalNotifier {
  /** Header with the signature: {@code sha256=HEX(HMAC(key, timestamp + "." + body))}. */
  public static final String SIGNATURE_HEADER = "X-Countersign-Signature";
  /** Header with the Unix time the signature covers (lets receivers refuse replays). */
  public static final String TIMESTAMP_HEADER = "X-Countersign-Timestamp";

  /** The payload shapes. */
  public enum Kind {
    /** The generic JSON payload. */
    GENERIC,
    /** A Slack incoming-webhook message ({@code {"text": ...}}). */
    SLACK
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ATTEMPTS = 4;

  private final Kind kind;
  private final URI url;
  private final byte[] hmacKey;
  private final String publicUrl;
  private final Ledger ledger;
  private final Clock clock;
  private final HttpClient http;
  private final ScheduledExecutorService retries;
  private final Duration firstBackoff;

  /**
   * @param kind payload shape
   * @param url where to POST
   * @param hmacKey HMAC key, or null to send unsigned
   * @param publicUrl the admin port's URL for approval links, or null
   * @param ledger where delivery results are journaled
   * @param clock wall clock
   * @param firstBackoff the wait before the first retry (doubling after)
   */
  public WebhookNotifier(Kind kind, URI url, byte[] hmacKey, String publicUrl, Ledger ledger,
      Clock clock, Duration firstBackoff) {
    this.kind = kind;
    this.url = url;
    this.hmacKey = hmacKey == null ? null : hmacKey.clone();
    this.publicUrl = publicUrl;
    this.ledger = ledger;
    this.clock = clock;
    this.firstBackoff = firstBackoff;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.retries = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "countersign-notify-retry");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void opened(PendingApproval a, String group) {
    byte[] body = payload(a, group);
    attempt(a, group, body, 1, firstBackoff);
  }

  private void attempt(PendingApproval a, String group, byte[] body, int n, Duration backoff) {
    HttpRequest.Builder req = HttpRequest.newBuilder(url)
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (hmacKey != null) {
      String ts = Long.toString(clock.instant().getEpochSecond());
      req.header(TIMESTAMP_HEADER, ts).header(SIGNATURE_HEADER, "sha256=" + sign(ts, body));
    }
    http.sendAsync(req.build(), HttpResponse.BodyHandlers.discarding()).whenComplete((r, err) -> {
      boolean ok = err == null && r.statusCode() / 100 == 2;
      boolean retryable = err != null || r.statusCode() == 429 || r.statusCode() >= 500;
      if (!ok && retryable && n < ATTEMPTS) {
        retries.schedule(() -> attempt(a, group, body, n + 1, backoff.multipliedBy(2)),
            backoff.toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
      record(a, group, ok, n, err != null ? err.toString() : "HTTP " + r.statusCode());
    });
  }

  private void record(PendingApproval a, String group, boolean ok, int attempts, String detail) {
    ledger.append(LedgerEvent.of(a.exchangeId(), clock.instant(), new ApprovalNotified(a.id(),
        kind.name().toLowerCase(java.util.Locale.ROOT), url.getScheme() + "://" + url.getAuthority(),
        group, ok, attempts, detail)));
  }

  private byte[] payload(PendingApproval a, String group) {
    var d = a.decision();
    var r = a.request();
    String link = publicUrl == null ? null : publicUrl + "/v1/approvals/" + a.id();
    ObjectNode p = JSON.createObjectNode();
    if (kind == Kind.SLACK) {
      StringBuilder text = new StringBuilder()
          .append(group.equals(a.terms().group()) ? ":raised_hand: *Approval needed* ("
              : ":rotating_light: *Escalated: approval still needed* (").append(group).append(", ")
          .append(d.risk()).append(" risk)\n")
          .append('`').append(r.method()).append(' ').append(r.path()).append("` by agent ")
          .append(r.caller().agent());
      if (r.caller().onBehalfOf() != null) {
        text.append(" for ").append(r.caller().onBehalfOf());
      }
      text.append("\nRule ").append(d.rule()).append(": ").append(String.join("; ", d.reasons()));
      text.append("\nExpires ").append(a.expiresAt());
      if (link != null) {
        text.append("\n<").append(link).append("|Review the request>");
      }
      p.put("text", text.toString());
    } else {
      p.put("type", group.equals(a.terms().group()) ? "approval.opened" : "approval.escalated");
      p.put("approval_id", a.id());
      p.put("exchange_id", a.exchangeId());
      p.put("group", group);
      p.put("quorum", a.terms().quorum());
      p.put("expires_at", a.expiresAt().toString());
      p.put("digest", a.digest());
      p.put("risk", d.risk());
      p.put("rule", d.rule());
      d.reasons().forEach(p.putArray("reasons")::add);
      p.put("method", r.method());
      p.put("path", r.path());
      p.put("agent", r.caller().agent());
      p.put("on_behalf_of", r.caller().onBehalfOf());
      p.put("account", r.caller().account());
      p.put("workflow", r.caller().workflow());
      p.put("link", link);
    }
    try {
      return JSON.writeValueAsBytes(p);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private String sign(String timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(hmacKey, "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops retrying. */
  @Override
  public void close() {
    retries.shutdownNow();
  }
}
