package io.countersign.proxy.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.ledger.LedgerVerifier;
import io.countersign.policy.ManagedOpa;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart whose process gets the same PID as the one that died mid-append (PID 1 in a container;
 * here a fresh PID namespace from {@code unshare --pid --fork}, so the JVM is PID 1 both times).
 * Chronicle would see its own PID on the stale write lock, wait 15 s and fail with "Lock was held by
 * current process"; the ledger clears the stale lock because it holds the directory's OS file lock.
 */
class SamePidRestartIT {
  private static final Path ROOT = ProxyFixture.regoDir().toAbsolutePath().normalize().getParent();

  @TempDir Path tmp;

  @Test
  void aRestartWithTheSamePidAsTheKilledWriterServesAtOnce() throws Exception {
    Process probe = new ProcessBuilder("unshare", "--pid", "--fork", "sh", "-c", "echo $$")
        .redirectErrorStream(true).start();
    String pid = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    Assumptions.assumeTrue(probe.waitFor() == 0 && pid.equals("1"),
        "unshare --pid is not permitted here: " + pid);
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ManagedOpa opa = ManagedOpa.start(ProxyFixture.opaBinary(), ProxyFixture.regoDir())) {
      Path config = CrashLane.writeConfig(tmp, opa.url(), upstream.url());
      Path ledger = tmp.resolve("ledger");
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

      List<String> first = new ArrayList<>();
      Process p1 = startAsPid1(config);
      HttpResponse<String> r1 = SidecarOutput.get(client, SidecarOutput.awaitPort(p1, first), 1);
      assertEquals(200, r1.statusCode(), r1.body());
      p1.destroyForcibly();
      assertTrue(p1.waitFor(30, TimeUnit.SECONDS));
      awaitWriterGone(ledger);
      // What a kill in the middle of an append leaves: Chronicle's lock word holding the dead
      // writer's PID, which was 1, as the next one's will be.
      try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(ledger).build()) {
        q.tableStorePut("chronicle.write.lock", 1);
      }

      List<String> second = new ArrayList<>();
      Process p2 = startAsPid1(config);
      try {
        int port = SidecarOutput.awaitPort(p2, second);
        HttpResponse<String> r = SidecarOutput.get(client, port, 2);
        assertEquals(200, r.statusCode(), r.body());
        synchronized (second) {
          assertTrue(second.stream().anyMatch(l -> l.contains("clearing Chronicle's")),
              "the stale lock was cleared, and said so:\n" + String.join("\n", second));
        }
      } finally {
        p2.destroyForcibly();
        p2.waitFor(30, TimeUnit.SECONDS);
        awaitWriterGone(ledger);
      }
      assertTrue(LedgerVerifier.verify(ledger, null, null).intact());
    }
  }

  /** unshare --kill-child kills the JVM when unshare dies; wait until the JVM's file lock is gone. */
  private static void awaitWriterGone(Path ledger) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try (FileChannel ch = FileChannel.open(ledger.resolve("countersign-writer.lock"),
        StandardOpenOption.WRITE)) {
      while (true) {
        FileLock lock = ch.tryLock();
        if (lock != null) {
          lock.release();
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("the killed proxy still holds the ledger");
        }
        Thread.onSpinWait();
      }
    }
  }

  private static Process startAsPid1(Path config) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("unshare", "--pid", "--fork", "--kill-child",
        ROOT.resolve("bin/countersign").toString(), "run", "--config", config.toString())
        .redirectErrorStream(true);
    pb.environment().put("COUNTERSIGN_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m");
    return pb.start();
  }
}
