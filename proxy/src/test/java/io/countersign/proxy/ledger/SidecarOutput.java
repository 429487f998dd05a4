package io.countersign.proxy.ledger;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a started sidecar's output for its agent port, and calls it: shared by the process ITs. */
final class SidecarOutput {
  private static final Pattern LISTENING =
      Pattern.compile("agent port listening on /127\\.0\\.0\\.1:(\\d+)");

  private SidecarOutput() {}

  /** GET /crm/v3/deals/{n} on the agent port. */
  static HttpResponse<String> get(HttpClient client, int port, int n) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/crm/v3/deals/" + n))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Collects {@code p}'s output into {@code output} (on a daemon thread) and waits, up to 60 s, for
   * the line that names the agent port; fails with the output when the process ends first.
   */
  static int awaitPort(Process p, List<String> output) throws Exception {
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (output) {
            output.add(line);
          }
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (IOException e) {
        // the process ended
      }
      port.complete(-1);
    }, "sidecar-output");
    t.setDaemon(true);
    t.start();
    int got = port.get(60, TimeUnit.SECONDS);
    if (got < 0) {
      synchronized (output) {
        throw new AssertionError("the proxy did not start:\n" + String.join("\n", output));
      }
    }
    return got;
  }
}
