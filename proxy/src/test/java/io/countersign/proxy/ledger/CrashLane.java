package io.countersign.proxy.ledger;

import io.countersign.proxy.support.ProxyFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One crash loop: start {@code bin/countersign run} on a ledger, load it, {@code kill -9} it at a
 * random moment, start it again on the same ledger; remember every exchange the agent got an
 * answer for. Also used by {@code bench/ledger-crash-soak.sh} through {@link #main}.
 */
final class CrashLane {
  /** Where bin/countersign is: the project, or a snapshot of its build (the soak script's). */
  private static final Path ROOT = Path.of(System.getProperty("countersign.crash.root",
      ProxyFixture.regoDir().toAbsolutePath().normalize().getParent().toString()));
  private static final Pattern LISTENING = Pattern.compile("agent port listening on /127\\.0\\.0\\.1:(\\d+)");
  private static final int CLIENTS = 3;

  /**
   * What a lane saw.
   *
   * @param ledgerDir its ledger
   * @param kills how many kill -9 it did
   * @param acknowledged exchange id to HTTP status of every answer received
   * @param killedUnderLoad kills that happened while requests were in flight
   */
  record Result(Path ledgerDir, int kills, Map<String, Integer> acknowledged, int killedUnderLoad) {}

  private final Path config;
  private final Path dir;
  private final Random random;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  CrashLane(Path config, Path dir, long seed) {
    this.config = config;
    this.dir = dir;
    this.random = new Random(seed);
  }

  static Path writeConfig(Path dir, String opaUrl, String upstreamUrl) throws IOException {
    Path config = dir.resolve("countersign.yaml");
    Files.writeString(config, String.join("\n",
        "agent_id: sales-assistant",
        "listen:",
        "  agent: 127.0.0.1:0",
        "  admin: 127.0.0.1:0",
        "policy:",
        "  engine: opa",
        "  opa_url: " + opaUrl,
        "  opa_binary: " + ProxyFixture.opaBinary().toAbsolutePath(),
        "  rego_dir: " + ProxyFixture.regoDir().toAbsolutePath(),
        "  timeout: PT2S",
        "ledger:",
        "  dir: " + dir.resolve("ledger").toAbsolutePath(),
        "routes:",
        "  - name: crm",
        "    prefix: /crm",
        "    upstream: " + upstreamUrl,
        ""));
    return config;
  }

  Path ledgerDir() {
    return dir.resolve("ledger");
  }

  Result run(int kills) throws Exception {
    Map<String, Integer> acked = new ConcurrentHashMap<>();
    int underLoad = 0;
    for (int k = 0; k < kills; k++) {
      Process p = start();
      CompletableFuture<Integer> port = watch(p);
      boolean loadPhase = k % 2 == 1;
      if (!loadPhase) {
        // A random moment after start: the JVM booting, the ledger opening, or just listening.
        Integer ready = awaitPort(port, p, 20 + random.nextInt(1500));
        if (ready != null) {
          fire(ready, acked, 1 + random.nextInt(4));
        }
      } else {
        Integer ready = awaitPort(port, p, 60_000);
        if (ready == null) {
          throw new AssertionError("the proxy did not start: " + tail(p));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger answers = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
          int id = c;
          Thread t = new Thread(() -> load(ready, id, acked, answers, stop), "crash-client-" + c);
          t.start();
          clients.add(t);
        }
        // Kill after a random number of answers: mid-stream, with requests in flight.
        int target = 1 + random.nextInt(40);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (answers.get() < target && System.nanoTime() < deadline && p.isAlive()) {
          Thread.onSpinWait();
        }
        kill(p);
        underLoad++;
        stop.set(true);
        for (Thread t : clients) {
          t.join(30_000);
        }
        continue;
      }
      kill(p);
    }
    return new Result(ledgerDir(), kills, Map.copyOf(acked), underLoad);
  }

  private Process start() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/countersign").toString(), "run",
        "--config", config.toString());
    pb.environment().put("COUNTERSIGN_JAVA_OPTS",
        "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m -XX:-UsePerfData");
    pb.redirectErrorStream(true);
    return pb.start();
  }

  private final Deque<String> lastLines = new ArrayDeque<>();

  private CompletableFuture<Integer> watch(Process p) {
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (lastLines) {
            lastLines.addLast(line);
            if (lastLines.size() > 40) {
              lastLines.removeFirst();
            }
          }
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (IOException e) {
        // the process died
      }
      port.complete(null);
    }, "crash-output");
    t.setDaemon(true);
    t.start();
    return port;
  }

  private String tail(Process p) {
    synchronized (lastLines) {
      return "alive=" + p.isAlive() + "\n" + String.join("\n", lastLines);
    }
  }

  private static Integer awaitPort(CompletableFuture<Integer> port, Process p, long millis)
      throws Exception {
    try {
      return port.get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    }
  }

  private static void kill(Process p) throws InterruptedException {
    p.destroyForcibly(); // SIGKILL: bin/countersign execs java, so this is the JVM itself
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the killed proxy did not exit");
    }
  }

  private void fire(int port, Map<String, Integer> acked, int n) {
    for (int i = 0; i < n; i++) {
      send(port, "GET", "/crm/v3/deals/" + i, acked);
    }
  }

  private void load(int port, int clientId, Map<String, Integer> acked, AtomicInteger answers,
      AtomicBoolean stop) {
    int i = 0;
    while (!stop.get()) {
      String method = (i % 5 == 4) ? "DELETE" : "GET";
      if (send(port, method, "/crm/v3/deals/" + clientId + "-" + i++, acked)) {
        answers.incrementAndGet();
      } else if (stop.get()) {
        return;
      }
    }
  }

  /** Sends one request; records the answer's exchange id. Returns whether an answer came. */
  private boolean send(int port, String method, String path, Map<String, Integer> acked) {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.noBody())
        .header("X-Countersign-Account", "acme")
        .build();
    try {
      HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
      r.headers().firstValue("x-countersign-exchange-id").ifPresent(id -> acked.put(id, r.statusCode()));
      return true;
    } catch (IOException e) {
      return false; // killed mid-request: no answer, no promise
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
