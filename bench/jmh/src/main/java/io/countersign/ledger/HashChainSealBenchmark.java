package io.countersign.ledger;

import io.countersign.bench.jmh.SampleExchange;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The hash-chain seal alone: what an append adds to each event, under the ledger's lock, before it
 * copies the line into the journal, for the {@code exchange.decided} event of {@link
 * SampleExchange}.
 *
 * <p>The one benchmark that uses package-private code ({@code HashChain}'s constructor and {@code
 * seal}), which is why it lives in this package; when that class changes, this is the only file
 * to adapt.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HashChainSealBenchmark {
  private static final byte[] PREV =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
          .getBytes(StandardCharsets.US_ASCII);

  /**
   * {@code sha256}: the default chain; {@code hmac}: a keyed chain ({@code hmac_key_file}), measured
   * on request ({@code -p chain=sha256,hmac}) to keep the default run short.
   */
  @Param({"sha256"})
  public String chain;

  private HashChain hashChain;
  private byte[] unsealed;
  private final LineBuffer line = new LineBuffer(4096);
  private long seq;

  /** Encodes the event as an append does before it takes the lock. */
  @Setup(Level.Trial)
  public void setUp() {
    unsealed = LedgerEventCodec.toUtf8(SampleExchange.decidedEvent(), java.util.List.of());
    hashChain =
        new HashChain(
            chain.equals("hmac")
                ? "bench-ledger-hmac-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8)
                : null);
  }

  /** Seals one event into the chain. */
  @Benchmark
  public byte[] seal() {
    return hashChain.seal(unsealed, seq++, PREV, line);
  }
}
