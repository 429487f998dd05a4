package io.countersign.policy;

import com.bisnode.opa.client.OpaClient;
import com.bisnode.opa.client.OpaClientException;
import com.bisnode.opa.client.query.QueryForDocumentRequest;
import com.bisnode.opa.client.rest.OpaServerConnectionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates {@code data.countersign.decision} on an OPA server through its REST API ({@code POST
 * /v1/data/countersign/decision}), using opa-java-client's {@code queryForDocument}.
 *
 * <p>Threading: that client is blocking, so every call runs on a small bounded pool of daemon
 * threads named {@code countersign-opa-client-N}, never on the caller's thread (an event loop must
 * not block). The returned stage completes on a pool thread, or on the {@code
 * countersign-opa-timeout} thread when the deadline passes first; callers hop back to their own
 * executor. The engine is thread-safe.
 *
 * <p>Failure: the stage never completes exceptionally. A timeout gives {@code policy_timeout} and
 * interrupts the call (which cancels the JDK HTTP exchange, freeing the pool thread); an
 * unreachable OPA, a non-2xx status, a malformed body or a full queue gives {@code policy_error}
 * with a detail naming the OPA URL and the cause; an undefined result gives {@code
 * policy_undefined}. Each is counted in {@link #failClosedCounts()}.
 */
public final class OpaServerEngine implements PolicyEngine {
  /** The query path under {@code /v1/data}. */
  public static final String DECISION_PATH = "countersign/decision";

  /** The default deadline for one decision. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(500);

  private static final Logger log = LoggerFactory.getLogger(OpaServerEngine.class);

  // The client throws this message (and no distinct type) when OPA answers {} (undefined).
  private static final String CLIENT_UNDEFINED_MESSAGE = "Result is empty";

  private final String url;
  private final String revision;
  private final Duration timeout;
  private final OpaClient client;
  private final ThreadPoolExecutor calls;
  private final ScheduledExecutorService timer;
  private final FailClosedCounter failures = new FailClosedCounter();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * An engine with the default timeout (500 ms), 4 client threads and room for 256 waiting calls.
   *
   * @param url the OPA base URL, e.g. {@code http://127.0.0.1:8181}
   * @param revision the revision of the policy OPA serves (see {@link PolicyRevision})
   */
  public OpaServerEngine(String url, String revision) {
    this(url, revision, DEFAULT_TIMEOUT, 4, 256);
  }

  /**
   * An engine.
   *
   * @param url the OPA base URL, e.g. {@code http://127.0.0.1:8181}
   * @param revision the revision of the policy OPA serves (see {@link PolicyRevision})
   * @param timeout the deadline for one decision, after which it fails closed
   * @param threads how many calls may be in flight at once
   * @param queueCapacity how many calls may wait for a thread before new ones fail closed
   */
  public OpaServerEngine(
      String url, String revision, Duration timeout, int threads, int queueCapacity) {
    this.url = stripTrailingSlash(Objects.requireNonNull(url, "url"));
    this.revision = revision;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    if (threads < 1 || queueCapacity < 1) {
      throw new IllegalArgumentException(
          "threads and queueCapacity must be at least 1, got " + threads + " and " + queueCapacity);
    }
    // OPA may add fields beside "result" (decision_id, metrics, warning); the policy input is
    // written with the shared mapping so both engines send identical JSON.
    ObjectMapper mapper =
        PolicyJson.mapper().copy().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    this.client = OpaClient.builder().opaConfiguration(this.url).objectMapper(mapper).build();
    this.calls =
        new ThreadPoolExecutor(
            threads,
            threads,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(queueCapacity),
            new DaemonThreads("countersign-opa-client"),
            new ThreadPoolExecutor.AbortPolicy());
    this.calls.allowCoreThreadTimeOut(true);
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(1, new DaemonThreads("countersign-opa-timeout"));
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
  }

  @Override
  public CompletionStage<Decision> evaluate(PolicyInput input) {
    if (closed.get()) {
      return done(Decision.failClosed("policy_error", "the OPA engine is closed", revision));
    }
    JsonNode body;
    try {
      body = PolicyJson.mapper().valueToTree(input);
    } catch (RuntimeException e) {
      return done(
          Decision.failClosed("policy_error", "cannot serialize the policy input: " + e, revision));
    }
    CompletableFuture<Decision> result = new CompletableFuture<>();
    Call call = new Call(body, result);
    try {
      calls.execute(call);
    } catch (RejectedExecutionException e) {
      if (closed.get()) {
        return done(Decision.failClosed("policy_error", "the OPA engine is closed", revision));
      }
      return done(
          Decision.failClosed(
              "policy_error",
              "too many policy calls waiting for OPA at " + url + " (queue of "
                  + calls.getQueue().size() + " full)",
              revision));
    }
    ScheduledFuture<?> deadline =
        timer.schedule(
            () -> {
              if (result.complete(
                  Decision.failClosed(
                      "policy_timeout",
                      "OPA at " + url + " did not answer within " + timeout.toMillis() + " ms",
                      revision))) {
                call.cancel(true);
              }
            },
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
    return result.whenComplete(
        (decision, error) -> {
          deadline.cancel(false);
          failures.record(decision);
        });
  }

  /** One queued or running call; a FutureTask so the deadline can interrupt it. */
  private final class Call extends FutureTask<Void> {
    final CompletableFuture<Decision> result;

    Call(JsonNode input, CompletableFuture<Decision> result) {
      super(() -> result.complete(query(input)), null);
      this.result = result;
    }
  }

  // Runs on a countersign-opa-client thread.
  private Decision query(JsonNode input) {
    try {
      JsonNode doc;
      try {
        doc = client.queryForDocument(new QueryForDocumentRequest(input, DECISION_PATH), JsonNode.class);
      } catch (OpaClientException e) {
        if (!isStaleConnection(e)) {
          throw e;
        }
        // A pooled keep-alive connection that OPA (or the OS) closed while idle fails the first
        // use; a query is an idempotent read, so it is sent once more on a fresh connection.
        doc = client.queryForDocument(new QueryForDocumentRequest(input, DECISION_PATH), JsonNode.class);
      }
      return DecisionReader.read(doc, revision);
    } catch (OpaClientException e) {
      return translate(e);
    } catch (RuntimeException e) {
      return Decision.failClosed(
          "policy_error", "OPA at " + url + " gave an unusable answer: " + e, revision);
    }
  }

  /** A failure of an established connection (not a refused connect, a timeout or an OPA answer). */
  private static boolean isStaleConnection(OpaClientException e) {
    Throwable root = rootCause(e);
    return e.getCause() != null
        && find(e, ConnectException.class) == null
        && !(root instanceof HttpTimeoutException)
        && !(root instanceof InterruptedException)
        && find(e, java.io.IOException.class) != null;
  }

  private Decision translate(OpaClientException e) {
    if (e.getCause() == null
        && e.getMessage() != null
        && e.getMessage().startsWith(CLIENT_UNDEFINED_MESSAGE)) {
      return DecisionReader.read(null, revision);
    }
    Throwable root = rootCause(e);
    if (root instanceof InterruptedException) {
      // The deadline or close() interrupted us; the first has already completed the stage.
      return Decision.failClosed(
          "policy_error", "the OPA call to " + url + " was interrupted (engine closing)", revision);
    }
    String detail;
    ConnectException refused = find(e, ConnectException.class);
    if (refused != null) {
      // The JDK HTTP client's ConnectException often has no message (its cause is a bare
      // ClosedChannelException), so name the usual reason.
      String m = refused.getMessage();
      detail =
          "OPA at " + url + " unreachable: " + (m == null || m.isBlank() ? "Connection refused" : m);
    } else if (e instanceof OpaServerConnectionException) {
      detail = "OPA at " + url + " unreachable: " + messageOf(root);
    } else if (root instanceof HttpTimeoutException) {
      detail = "OPA at " + url + " timed out: " + messageOf(root);
    } else if (e.getCause() == null) {
      // e.g. "Error in communication with OPA server, status code: 500"
      detail = "OPA at " + url + " failed: " + e.getMessage();
    } else {
      detail = "OPA at " + url + " gave an unusable answer: " + messageOf(root);
    }
    log.warn("policy call failed, failing closed: {}", detail);
    return Decision.failClosed("policy_error", detail, revision);
  }

  private static String messageOf(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }

  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    return null;
  }

  private static Throwable rootCause(Throwable t) {
    Throwable r = t;
    while (r.getCause() != null && r.getCause() != r) {
      r = r.getCause();
    }
    return r;
  }

  private CompletionStage<Decision> done(Decision d) {
    return CompletableFuture.completedFuture(failures.record(d));
  }

  private static String stripTrailingSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** The OPA base URL this engine calls. */
  public String url() {
    return url;
  }

  /** The deadline for one decision. */
  public Duration timeout() {
    return timeout;
  }

  @Override
  public String name() {
    return "opa";
  }

  @Override
  public String revision() {
    return revision;
  }

  @Override
  public Map<String, Long> failClosedCounts() {
    return failures.snapshot();
  }

  /** Stops the client threads; calls still in flight are interrupted and fail closed. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      for (Runnable queued : calls.shutdownNow()) {
        if (queued instanceof Call c) {
          // Counted by the whenComplete in evaluate().
          c.result.complete(
              Decision.failClosed("policy_error", "the OPA engine is closed", revision));
        }
      }
      timer.shutdownNow();
    }
  }
}
