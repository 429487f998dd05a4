package io.countersign.policy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default when no OPA URL is configured: an {@code opa run --server} child process
 * on a loopback port, serving a policy directory, and supervised so that the proxy keeps a policy
 * engine when OPA crashes.
 *
 * <p>Lifecycle: {@link #start} launches OPA and returns once {@code GET /health} answers 200 (or
 * throws, naming the binary, the command and OPA's last stderr lines). A daemon supervisor thread
 * ({@code countersign-opa-supervisor}) waits on the process; when it exits while this object is
 * open, it is restarted on the same port (so {@link #url()} stays valid) after a backoff of 100 ms
 * doubling to 5 s, reset once a process has lived 10 s; every exit is logged with its code and
 * stderr. {@link #close()} stops supervision, sends SIGTERM, and kills the process if it has not
 * exited after a grace period.
 *
 * <p>Threading: all methods are thread-safe. OPA's output (stderr merged with stdout, where OPA
 * prints load errors) is drained by a daemon thread per process ({@code countersign-opa-stderr})
 * into the log and a small ring of recent lines, so the pipe never fills and blocks OPA.
 */
public final class ManagedOpa implements AutoCloseable {
  /** How long {@link #start} waits for {@code /health} by default. */
  public static final Duration DEFAULT_START_DEADLINE = Duration.ofSeconds(20);

  private static final Logger log = LoggerFactory.getLogger(ManagedOpa.class);
  private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final Duration STABLE_AFTER = Duration.ofSeconds(10);
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);
  private static final int STDERR_LINES = 20;
  private static final int PORT_ATTEMPTS = 3;

  /**
   * OPA's own API is reachable on loopback by anything in the pod, the agent included; without
   * this, an agent could PUT itself an allow-everything policy. Only the decision query and the
   * health check are served.
   */
  static final String AUTHZ_POLICY = String.join("\n",
      "package system.authz",
      "",
      "default allow := false",
      "",
      "allow if {",
      "\tinput.method == \"POST\"",
      "\tinput.path == [\"v1\", \"data\", \"countersign\", \"decision\"]",
      "}",
      "",
      "allow if {",
      "\tinput.method == \"GET\"",
      "\tinput.path == [\"health\"]",
      "}",
      "");

  private final Path opaBinary;
  private final Path policyDir;
  private final Path authzFile;
  private final int port;
  private final String url;
  private final HttpClient health;
  private final AtomicLong restarts = new AtomicLong();
  private final Deque<String> recentStderr = new ArrayDeque<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition closing = lock.newCondition();
  private volatile Process process;
  private volatile boolean closed;
  private Thread supervisor;
  private volatile Thread stderrPump;

  private ManagedOpa(Path opaBinary, Path policyDir, int port) {
    this.opaBinary = opaBinary;
    this.policyDir = policyDir;
    try {
      this.authzFile = Files.createTempFile("countersign-opa-authz", ".rego");
      Files.writeString(authzFile, AUTHZ_POLICY);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot write OPA's API authorization policy: " + e, e);
    }
    this.port = port;
    this.url = "http://127.0.0.1:" + port;
    this.health =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofMillis(500))
            .build();
  }

  /** Starts OPA on a free loopback port and waits up to 20 s for it to be healthy. */
  public static ManagedOpa start(Path opaBinary, Path policyDir) {
    return start(opaBinary, policyDir, DEFAULT_START_DEADLINE);
  }

  /**
   * Starts OPA on a free loopback port and waits for it to be healthy.
   *
   * @param opaBinary the {@code opa} executable
   * @param policyDir the directory of Rego and data files OPA loads
   * @param deadline how long to wait for {@code GET /health} to answer 200
   * @throws IllegalStateException when the binary is missing or OPA does not become healthy in
   *     time; the message names the binary, the command and OPA's stderr
   */
  public static ManagedOpa start(Path opaBinary, Path policyDir, Duration deadline) {
    Objects.requireNonNull(opaBinary, "opaBinary");
    Objects.requireNonNull(policyDir, "policyDir");
    if (!Files.isExecutable(opaBinary)) {
      throw new IllegalStateException(
          "OPA binary " + opaBinary + " is missing or not executable (install it with"
              + " scripts/install-tools.sh, or configure an OPA URL)");
    }
    if (!Files.isDirectory(policyDir)) {
      throw new IllegalStateException("policy directory " + policyDir + " does not exist");
    }
    // The port is probed then released, so another process can take it before OPA binds; a
    // fresh port is tried when that happens.
    IllegalStateException last = null;
    for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
      ManagedOpa opa = new ManagedOpa(opaBinary, policyDir, freeLoopbackPort());
      try {
        opa.launch();
        opa.awaitHealthy(deadline);
        opa.startSupervisor();
        log.info("managed OPA (pid {}) serving {} at {}", opa.pid(), policyDir, opa.url);
        return opa;
      } catch (IllegalStateException e) {
        opa.close();
        last = e;
        if (!opa.stderrText().contains("address already in use")) {
          break;
        }
      }
    }
    throw last;
  }

  /** The base URL of the OPA server, e.g. {@code http://127.0.0.1:40123}; stable across restarts. */
  public String url() {
    return url;
  }

  /** The loopback port OPA listens on. */
  public int port() {
    return port;
  }

  /** The pid of the current OPA process (it changes when OPA is restarted). */
  public long pid() {
    return process.pid();
  }

  /** How many times OPA was restarted after exiting unexpectedly. */
  public long restarts() {
    return restarts.get();
  }

  /** True when the process is alive and {@code GET /health} answers 200 within 500 ms. */
  public boolean isHealthy() {
    Process p = process;
    if (closed || p == null || !p.isAlive()) {
      return false;
    }
    try {
      HttpRequest req =
          HttpRequest.newBuilder(URI.create(url + "/health"))
              .timeout(Duration.ofMillis(500))
              .GET()
              .build();
      return health.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The command line used to start OPA. */
  public List<String> command() {
    return List.of(
        opaBinary.toString(),
        "run",
        "--server",
        "--addr",
        "127.0.0.1:" + port,
        // --disable-telemetry is deprecated since OPA 1.x ("Use skip-version-check instead").
        "--skip-version-check",
        "--log-level",
        "error",
        "--authorization=basic",
        policyDir.toString(),
        authzFile.toString());
  }

  private void launch() {
    ProcessBuilder pb = new ProcessBuilder(command());
    // OPA prints load and compile errors to stdout and its log to stderr: both are wanted.
    pb.redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.PIPE);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start OPA binary " + opaBinary + " (" + String.join(" ", command()) + "): " + e,
          e);
    }
    process = p;
    Thread pump = new Thread(() -> drain(p), "countersign-opa-stderr");
    pump.setDaemon(true);
    pump.start();
    stderrPump = pump;
  }

  // Reads OPA's output until EOF, so the pipe never fills and OPA never blocks on a write.
  private void drain(Process p) {
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        log.warn("opa[{}]: {}", p.pid(), line);
        synchronized (recentStderr) {
          if (recentStderr.size() == STDERR_LINES) {
            recentStderr.removeFirst();
          }
          recentStderr.addLast(line);
        }
      }
    } catch (IOException e) {
      log.debug("stopped reading OPA's stderr: {}", e.toString());
    }
  }

  private String stderrText() {
    synchronized (recentStderr) {
      return String.join("\n", recentStderr);
    }
  }

  private void awaitHealthy(Duration deadline) {
    long end = System.nanoTime() + deadline.toNanos();
    Process p = process;
    while (System.nanoTime() < end) {
      if (isHealthy()) {
        return;
      }
      // Waiting on the process's exit doubles as the pause between probes, and notices a crash.
      try {
        p.onExit().get(50, TimeUnit.MILLISECONDS);
        break;
      } catch (TimeoutException e) {
        // still running: probe again
      } catch (ExecutionException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    String how =
        p.isAlive()
            ? "did not answer GET " + url + "/health with 200 within " + deadline.toMillis() + " ms"
            : "exited with code " + waitExitCode(p) + " before becoming healthy";
    throw new IllegalStateException(
        "OPA binary " + opaBinary + " " + how + "; command: " + String.join(" ", command())
            + "; stderr: " + (stderrText().isEmpty() ? "(empty)" : stderrText()));
  }

  // The stderr pump may still be reading OPA's last words when the process exits; let it finish.
  private int waitExitCode(Process p) {
    try {
      int code = p.waitFor();
      Thread pump = stderrPump;
      if (pump != null) {
        pump.join(1000);
      }
      return code;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private void startSupervisor() {
    supervisor = new Thread(this::supervise, "countersign-opa-supervisor");
    supervisor.setDaemon(true);
    supervisor.start();
  }

  private void supervise() {
    RestartBackoff backoff = new RestartBackoff(MIN_BACKOFF, MAX_BACKOFF, STABLE_AFTER);
    while (!closed) {
      Process p = process;
      long startedAt = System.nanoTime();
      int code;
      try {
        code = p.waitFor();
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (closed) {
        return;
      }
      Duration wait = backoff.after(Duration.ofNanos(System.nanoTime() - startedAt));
      log.error(
          "managed OPA (pid {}) exited unexpectedly with code {}; restarting on {} in {} ms;"
              + " last stderr: {}",
          p.pid(),
          code,
          url,
          wait.toMillis(),
          stderrText().isEmpty() ? "(empty)" : stderrText());
      if (!pause(wait)) {
        return;
      }
      lock.lock();
      try {
        if (closed) {
          return;
        }
        launch();
        restarts.incrementAndGet();
        log.warn("managed OPA restarted (pid {}) at {}", process.pid(), url);
      } catch (IllegalStateException e) {
        log.error("cannot restart managed OPA: {}", e.getMessage());
      } finally {
        lock.unlock();
      }
    }
  }

  // Waits out a backoff; returns false when close() ended supervision meanwhile.
  private boolean pause(Duration d) {
    lock.lock();
    try {
      long nanos = d.toNanos();
      while (!closed && nanos > 0) {
        nanos = closing.awaitNanos(nanos);
      }
      return !closed;
    } catch (InterruptedException e) {
      return !closed;
    } finally {
      lock.unlock();
    }
  }

  /** Stops supervision and the OPA process (SIGTERM, then SIGKILL after a grace period). */
  @Override
  public void close() {
    Process p;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      closing.signalAll();
      p = process;
    } finally {
      lock.unlock();
    }
    if (supervisor != null) {
      supervisor.interrupt();
    }
    if (p != null) {
      stop(p);
    }
    try {
      Files.deleteIfExists(authzFile);
    } catch (java.io.IOException e) {
      log.warn("cannot delete {}: {}", authzFile, e.toString());
    }
  }

  private static void stop(Process p) {
    p.destroy();
    try {
      p.onExit().get(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      log.warn("OPA (pid {}) ignored SIGTERM for {} ms; killing it", p.pid(), CLOSE_GRACE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (p.isAlive()) {
      p.destroyForcibly();
      try {
        p.onExit().get(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        log.error("OPA (pid {}) survived SIGKILL for {} ms", p.pid(), CLOSE_GRACE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int freeLoopbackPort() {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free loopback port", e);
    }
  }
}
