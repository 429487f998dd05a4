package io.countersign.bench.jmh;

import io.countersign.ledger.ChronicleLedger;
import io.countersign.ledger.LedgerEvent;
import io.countersign.ledger.LedgerOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@link ChronicleLedger#append} of the {@link SampleExchange#decidedEvent() exchange.decided}
 * event of the PATCH, with the default options (SHA-256 chain, header redaction, free-space floor),
 * on a real Chronicle Queue on disk.
 *
 * <p>{@code appendAndWait} is what an exchange waits for before it forwards: redact and encode on
 * the calling thread, then, under the ledger's lock, seal into the hash chain and copy into the
 * mapped file; the stage is complete when append returns. {@code appendAndWaitTwoThreads} is the
 * same from two threads at once (the proxy's two event loops on 2 cores), so it includes waiting
 * for the lock.
 *
 * <p>Each iteration gets a new ledger directory (opened in setup, closed and deleted in teardown,
 * neither measured), so a run never holds more than one iteration's journal on disk.
 */
@State(Scope.Benchmark)
// Chronicle Queue's JDK-internal access on Java 17: the root pom's chronicle.jvm.flags.
@Fork(
    jvmArgsAppend = {
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
      "-Dchronicle.analytics.disable=true",
      "-Dchronicle.announcer.disable=true"
    })
public class LedgerAppendBenchmark {
  private LedgerEvent event;
  private Path dir;
  private ChronicleLedger ledger;

  /** Builds the event once. */
  @Setup(Level.Trial)
  public void buildEvent() {
    event = SampleExchange.decidedEvent();
  }

  /** Opens a fresh ledger. */
  @Setup(Level.Iteration)
  public void open() {
    dir = RepoPaths.scratch("ledger-");
    ledger = ChronicleLedger.open(dir, LedgerOptions.defaults());
  }

  /** Closes the ledger and deletes its files. */
  @TearDown(Level.Iteration)
  public void closeAndDelete() {
    ledger.close();
    RepoPaths.delete(dir);
  }

  /** One append, waiting until it is written. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Long appendAndWait() {
    return ledger.append(event).toCompletableFuture().join();
  }

  /** The same from two threads at once, contending for the ledger's lock. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Threads(2)
  public Long appendAndWaitTwoThreads() {
    return ledger.append(event).toCompletableFuture().join();
  }
}
