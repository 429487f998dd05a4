package io.countersign.proxy.exchange;

import io.countersign.ledger.event.SseEventRecord;
import io.countersign.proxy.upstream.StreamEnd;
import io.countersign.proxy.upstream.UpstreamStream;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The body of a streamed answer on its way to the agent: each piece is cleaned of the route's
 * credential (a secret split across pieces included), counted, hashed and partly recorded before
 * the adapter writes it; when the upstream's stream ends, the flow journals the outcome and only
 * then is the agent's answer ended ({@link Sink#ended}), so an agent that saw a complete stream
 * knows it is on record. Confined to the exchange's event loop.
 */
public final class AnswerStream implements UpstreamStream.Receiver {
  /** Where the adapter takes the body: its writes to the agent. */
  public interface Sink {
    /** The next bytes for the agent; the sink owns (and releases) them. */
    void data(ByteBuf chunk);

    /**
     * The body is over. {@code complete}: end the answer properly; else cut the connection, so
     * the agent sees the answer is incomplete.
     */
    void ended(boolean complete);
  }

  /**
   * What is kept of a streamed body for the ledger.
   *
   * @param bytes the first bytes kept (0 keeps none)
   * @param events the first server-sent events kept, for an event stream
   * @param keepBody whether the decision lets the ledger keep bodies at all
   * @param watchUsage whether to keep the last event that reports LLM token usage
   */
  record Recording(int bytes, int events, boolean keepBody, boolean watchUsage) {}

  /**
   * A streamed body's account, for the ledger.
   *
   * @param end how the stream ended
   * @param detail why, when not complete
   * @param bytes the body bytes the agent was given
   * @param sha256 hex SHA-256 of those bytes
   * @param prefix the first bytes kept
   * @param prefixComplete whether those are all the bytes
   * @param events the events kept, or null when the body is not an event stream
   * @param eventCount all the events, or null when the body is not an event stream
   * @param scrubbed whether the credential was removed from the body
   * @param durationNanos from the head to the end
   * @param usageEvent the data of the last event that may report LLM token usage, or null
   * @param head the first bytes whatever the ledger keeps (for pricing a small streamed body)
   */
  record Summary(StreamEnd end, String detail, long bytes, String sha256, byte[] prefix,
      boolean prefixComplete, List<SseEventRecord> events, Long eventCount, boolean scrubbed,
      long durationNanos, String usageEvent, byte[] head) {}

  private final UpstreamStream upstream;
  private final CredentialScrubber.BodyScan scan;
  private final Recording recording;
  private final SseRecorder sse;
  private final BiConsumer<AnswerStream, Summary> onEnd;
  private final long startedNanos;
  private final MessageDigest sha256;
  private final ByteArrayOutputStream prefix = new ByteArrayOutputStream();
  private long bytes;
  private Sink sink;
  private boolean cancelled;

  /**
   * @param upstream the upstream's body
   * @param scan cleans the credential out of the body, or null on a route without one
   * @param recording what the ledger keeps
   * @param eventStream whether the body is {@code text/event-stream}
   * @param onEnd the flow's step that journals the end; it then calls {@link #finished}
   */
  AnswerStream(UpstreamStream upstream, CredentialScrubber.BodyScan scan, Recording recording,
      boolean eventStream, BiConsumer<AnswerStream, Summary> onEnd) {
    this.upstream = upstream;
    this.scan = scan;
    this.recording = recording;
    this.sse = eventStream && (recording.keepBody() || recording.watchUsage())
        ? new SseRecorder(recording.keepBody() ? recording.events() : 0, recording.bytes(),
            recording.watchUsage())
        : null;
    this.onEnd = onEnd;
    this.startedNanos = System.nanoTime();
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Starts the body towards {@code s}; what arrived meanwhile comes first. */
  public void start(Sink s) {
    this.sink = s;
    upstream.start(this);
  }

  /** The agent's socket is full: stop reading the upstream. */
  public void pause() {
    upstream.pause();
  }

  /** The agent's socket can take more. */
  public void resume() {
    upstream.resume();
  }

  /** The agent went away: the stream ends as {@code agent_gone}. */
  public void agentGone() {
    cancelled = true;
    upstream.cancel("the agent closed its connection during the stream");
  }

  @Override
  public void data(ByteBuf chunk) {
    ByteBuf out = scan == null ? chunk : scan.clean(chunk);
    pass(out);
  }

  @Override
  public void ended(StreamEnd end, String detail) {
    if (scan != null) {
      ByteBuf tail = scan.finish();
      if (end == StreamEnd.AGENT_GONE) {
        tail.release();
      } else {
        pass(tail);
      }
    }
    byte[] first = prefix.toByteArray();
    byte[] kept = recording.keepBody() && sse == null ? first : new byte[0];
    onEnd.accept(this, new Summary(end, detail, bytes, HexFormat.of().formatHex(sha256.digest()), kept,
        kept.length == bytes, sse == null ? null : sse.events(),
        sse == null ? null : sse.total(), scan != null && scan.replaced(),
        System.nanoTime() - startedNanos, sse == null ? null : sse.lastUsage(),
        first.length == bytes ? first : null));
  }

  /** After the end was journaled: ends the agent's answer. */
  void finished(boolean complete) {
    sink.ended(complete && !cancelled);
  }

  private void pass(ByteBuf out) {
    int n = out.readableBytes();
    if (n == 0 || cancelled) {
      out.release();
      return;
    }
    bytes += n;
    for (ByteBuffer b : out.nioBuffers()) {
      sha256.update(b);
    }
    if (sse != null) {
      sse.feed(out);
    } else if ((recording.keepBody() || recording.watchUsage()) && prefix.size() < recording.bytes()) {
      int take = Math.min(n, recording.bytes() - prefix.size());
      byte[] part = new byte[take];
      out.getBytes(out.readerIndex(), part);
      prefix.write(part, 0, take);
    }
    sink.data(out);
  }
}
