package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.ledger.InstantText;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.event.DecisionRecord;
import io.countersign.ledger.event.ExchangeCompleted;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.ExchangeFailed;
import io.countersign.ledger.event.ExchangeRejected;
import io.countersign.ledger.event.LlmUsage;
import io.countersign.ledger.event.McpRecord;
import io.countersign.ledger.event.RequestRecord;
import io.countersign.ledger.event.ResponseRecord;
import io.countersign.ledger.event.StreamRecord;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyAction;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.RiskClass;
import io.countersign.proxy.approval.HeldRequests;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.upstream.StreamEnd;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds the ledger events of an exchange from what the flow knows, as the typed records of {@code
 * io.countersign.ledger.event}. Secrets never get here: the canonical request holds no credential
 * (the proxy injects it on the way out) and no agent Authorization or Cookie (dropped at
 * canonicalization), and answer headers that carry secrets are replaced by a marker. Thread-safe.
 */
public final class ExchangeRecords {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_RECORDED_RESPONSE_BODY = 64 * 1024;
  private static final int MAX_RECORDED_TARGET = 2048;
  private static final Set<String> SECRET_RESPONSE_HEADERS =
      Set.of("set-cookie", "authorization", "proxy-authenticate", "www-authenticate");
  private static final String MARKER = "[redacted]";

  private final String agentId;
  private final String engine;
  private final int streamRecordBytes;
  private final int streamRecordEvents;

  /**
   * @param agentId the sidecar's agent id
   * @param engine the policy engine's name
   * @param streamRecordBytes the first bytes of a streamed body the ledger keeps
   * @param streamRecordEvents the first events of a streamed event stream the ledger keeps
   */
  public ExchangeRecords(String agentId, String engine, int streamRecordBytes,
      int streamRecordEvents) {
    this.agentId = agentId;
    this.engine = engine;
    this.streamRecordBytes = streamRecordBytes;
    this.streamRecordEvents = streamRecordEvents;
  }

  /** With the default stream recording (64 KiB, 100 events). */
  public ExchangeRecords(String agentId, String engine) {
    this(agentId, engine, 64 * 1024, 100);
  }

  /** What the ledger keeps of a streamed body under decision {@code d}. */
  AnswerStream.Recording streamRecording(Decision d, boolean watchUsage) {
    return new AnswerStream.Recording(streamRecordBytes, streamRecordEvents, recordBody(d),
        watchUsage);
  }

  /** The intent: canonical request, caller and decision. Appended before anything is forwarded. */
  LedgerEvent decided(Exchange x, Instant now) {
    return intent(x.id(), x.request(), x.decision(), x.spend(),
        (x.decidedNanos() - x.receivedNanos()) / 1000, x.receivedAt(), now);
  }

  /**
   * The {@code exchange.decided} event of a canonical request and its decision (what {@link
   * ExchangeFlow} appends before acting; public for benchmarks that measure that append).
   */
  public LedgerEvent intent(String exchangeId, CanonicalRequest r, Decision d,
      Map<String, Long> spend, long policyLatencyUs, Instant receivedAt, Instant now) {
    boolean keep = recordBody(d);
    RequestRecord request = new RequestRecord(r.method(), r.path(), r.route().upstream().origin(),
        r.upstreamTarget(), r.query().canonical(), headers(r),
        r.route().credential() == null ? null : r.route().credential().header(), r.size(),
        r.bodySha256(), keep ? r.content().view() : null, r.content().kind().wireName(),
        keep ? r.content().nested() : null, r.stripped());
    return LedgerEvent.of(exchangeId, now, new ExchangeDecided(r.route().name(), request,
        HeldRequests.caller(r.caller()), decision(d), spend, policyLatencyUs,
        InstantText.format(receivedAt), mcp(PolicyInputs.mcp(r.mcp()), keep)));
  }

  /** {@code input.mcp} for the ledger; the arguments are part of the body, kept when it is. */
  private static McpRecord mcp(PolicyInput.Mcp m, boolean keepArguments) {
    if (m == null) {
      return null;
    }
    List<McpRecord> batch = m.batch() == null ? null : m.batch().stream()
        .map(b -> new McpRecord(b.method(), b.tool(), keepArguments ? b.arguments() : null,
            b.requestId(), null, null, b.uri(), b.prompt(), b.isNotification(), b.isResponse(),
            null))
        .toList();
    return new McpRecord(m.method(), m.tool(), keepArguments ? m.arguments() : null, m.requestId(),
        m.sessionId(), m.protocolVersion(), m.uri(), m.prompt(), m.isNotification(),
        m.isResponse(), batch);
  }

  /** The outcome of a forwarded exchange: the answer exactly as the agent gets it. */
  LedgerEvent forwarded(Exchange x, Answer answer, LlmUsage usage, long nowNanos, Instant now) {
    JsonNode body = recordBody(x.decision()) ? answerJson(answer) : null;
    ResponseRecord response = new ResponseRecord(answer.code(), recordedHeaders(answer),
        answer.body().readableBytes(), Canonicalizer.sha256(answer.body()), body);
    JsonNode rollback = x.decision().obligation("rollback");
    return LedgerEvent.of(x.id(), now, new ExchangeCompleted("forwarded", answer.code(), response,
        (nowNanos - x.forwardedNanos()) / 1000, (nowNanos - x.receivedNanos()) / 1000,
        rollback.isMissingNode() ? null : rollback.deepCopy(), usage));
  }

  /**
   * The outcome of a forwarded exchange whose answer was streamed: the head as the agent got it,
   * the body by size and digest, what the recording limits kept of it, and how the stream ended.
   */
  LedgerEvent streamed(Exchange x, Answer head, AnswerStream.Summary s, LlmUsage usage,
      long nowNanos, Instant now) {
    JsonNode body = null;
    String prefix = null;
    String prefixBase64 = null;
    if (s.prefix().length > 0) {
      prefix = utf8(s.prefix());
      prefixBase64 = prefix == null ? Base64.getEncoder().encodeToString(s.prefix()) : null;
      if (s.prefixComplete() && s.end() == StreamEnd.COMPLETE) {
        body = json(head.headers().get(HttpHeaderNames.CONTENT_TYPE, ""), s.prefix());
      }
    }
    StreamRecord stream = new StreamRecord(s.end().wireName(), s.detail(), prefix, prefixBase64,
        s.prefixComplete(), s.events(), s.eventCount(), s.scrubbed() ? Boolean.TRUE : null,
        s.durationNanos() / 1000);
    ResponseRecord response = new ResponseRecord(head.code(), recordedHeaders(head), s.bytes(),
        s.sha256(), body, stream);
    JsonNode rollback = x.decision().obligation("rollback");
    return LedgerEvent.of(x.id(), now, new ExchangeCompleted("forwarded", head.code(), response,
        (nowNanos - x.forwardedNanos()) / 1000, (nowNanos - x.receivedNanos()) / 1000,
        rollback.isMissingNode() ? null : rollback.deepCopy(), usage));
  }

  /** {@code bytes} as text when they are valid UTF-8 (a sequence cut at the end excepted); else null. */
  private static String utf8(byte[] bytes) {
    int end = bytes.length;
    int back = 0; // a multi-byte sequence the prefix limit cut is left out, not called invalid
    while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1] & 0xC0) == 0x80) {
      back++;
    }
    if (end - back - 1 >= 0 && (bytes[end - back - 1] & 0xC0) == 0xC0) {
      int lead = bytes[end - back - 1] & 0xff;
      int need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
      if (back < need) {
        end = end - back - 1;
      }
    }
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      return d.decode(ByteBuffer.wrap(bytes, 0, end)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** The outcome of an exchange answered without forwarding (a deny, or a hold that ended unapproved). */
  LedgerEvent answered(Exchange x, String outcome, int status, long nowNanos, Instant now) {
    return LedgerEvent.of(x.id(), now, new ExchangeCompleted(outcome, status, null, null,
        (nowNanos - x.receivedNanos()) / 1000, null));
  }

  /** The outcome when no usable answer came, or the exchange failed inside the proxy. */
  LedgerEvent failed(Exchange x, int status, String code, String message, boolean requestSent,
      long nowNanos, Instant now) {
    return LedgerEvent.of(x.id(), now, new ExchangeFailed(status, code, message, requestSent,
        (nowNanos - x.receivedNanos()) / 1000));
  }

  /** A request refused before any policy saw it, and why. */
  LedgerEvent rejected(String exchangeId, int status, String code, String message, String method,
      String target, String remote, Instant now) {
    String cut = target == null || target.length() <= MAX_RECORDED_TARGET ? target
        : target.substring(0, MAX_RECORDED_TARGET) + "...";
    return LedgerEvent.of(exchangeId, now,
        new ExchangeRejected(agentId, status, code, message, method, cut, remote));
  }

  /** The decision as journaled (and as a hold carries it). */
  public DecisionRecord decision(Decision d) {
    return new DecisionRecord(d.risk().wireName(), d.action().wireName(), d.reasons(), d.rule(),
        d.revision(), engine, d.failure(), d.obligations().isNull() ? null : d.obligations());
  }

  /**
   * A journaled decision back in the policy's terms (for a hold restored from the ledger).
   *
   * @throws IllegalArgumentException when its risk or action is not one this version knows
   */
  public static Decision decision(DecisionRecord d) {
    return new Decision(RiskClass.fromWire(d.risk()), PolicyAction.fromWire(d.action()),
        d.reasons(), d.rule(), d.obligations(), d.revision(), d.failure());
  }

  /** An answer's headers as journaled: lower-case names, secret-bearing values replaced. */
  private static Map<String, String> recordedHeaders(Answer answer) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : answer.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      headers.merge(name, SECRET_RESPONSE_HEADERS.contains(name) ? MARKER : h.getValue(),
          (a, b) -> SECRET_RESPONSE_HEADERS.contains(name) ? MARKER : a + ", " + b);
    }
    return headers;
  }

  private static Map<String, String> headers(CanonicalRequest r) {
    Map<String, String> out = new LinkedHashMap<>();
    r.headers().forEach(h -> out.put(h.getKey(), h.getValue()));
    return out;
  }

  private static boolean recordBody(Decision d) {
    return !"digest".equals(d.obligation("record").path("body").asText("full"));
  }

  private static JsonNode answerJson(Answer answer) {
    String type = answer.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    int size = answer.body().readableBytes();
    if (!isJson(type) || size == 0 || size > MAX_RECORDED_RESPONSE_BODY) {
      return null;
    }
    try {
      return JSON.readTree(new ByteBufInputStream(answer.body().duplicate()));
    } catch (IOException e) {
      return null; // not JSON after all: the digest stays the record
    }
  }

  private static JsonNode json(String type, byte[] body) {
    if (!isJson(type) || body.length == 0 || body.length > MAX_RECORDED_RESPONSE_BODY) {
      return null;
    }
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return null; // not JSON after all: the prefix and digest stay the record
    }
  }

  private static boolean isJson(String type) {
    return type.toLowerCase(Locale.ROOT).contains("json");
  }
}
