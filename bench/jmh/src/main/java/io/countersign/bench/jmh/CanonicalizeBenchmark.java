package io.countersign.bench.jmh;

import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.Canonicalizer;
import io.countersign.proxy.canonical.RequestRejectedException;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link Canonicalizer#canonicalize} of the {@link SampleExchange} requests.
 *
 * <p>Measured: one {@code canonicalize} (method and path checks, path and query canonicalization,
 * route match, identity headers, forwarded headers, JSON body parse with the I-JSON checks, body
 * SHA-256) plus the {@link CanonicalRequest#release()} that ends every exchange. Not measured:
 * building the Netty request, which is done once in setup; {@code canonicalize} only reads it (it
 * moves no buffer index and changes no header), so the same request is judged on every call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CanonicalizeBenchmark {
  private Canonicalizer canonicalizer;
  private FullHttpRequest get;
  private FullHttpRequest patch;
  private FullHttpRequest formPatch;

  /** Builds the canonicalizer and the two requests. */
  @Setup(Level.Trial)
  public void setUp() {
    canonicalizer = SampleExchange.canonicalizer();
    get = SampleExchange.get();
    patch = SampleExchange.patch();
    formPatch = SampleExchange.formPatch();
  }

  /** Releases the requests' buffers. */
  @TearDown(Level.Trial)
  public void tearDown() {
    get.release();
    patch.release();
    formPatch.release();
  }

  /** {@code GET /crm/v3/deals/42?fields=amount,stage}, no body. */
  @Benchmark
  public CanonicalRequest get() throws RequestRejectedException {
    return canonicalizeAndRelease(get);
  }

  /** {@code PATCH /crm/v3/deals/42} with the ~200-byte JSON body. */
  @Benchmark
  public CanonicalRequest patch() throws RequestRejectedException {
    return canonicalizeAndRelease(patch);
  }

  /** The same update as a form ({@link SampleExchange#FORM_BODY}): parse, names, nested reading. */
  @Benchmark
  public CanonicalRequest formPatch() throws RequestRejectedException {
    return canonicalizeAndRelease(formPatch);
  }

  private CanonicalRequest canonicalizeAndRelease(FullHttpRequest request)
      throws RequestRejectedException {
    CanonicalRequest c = canonicalizer.canonicalize(request);
    c.release();
    return c;
  }
}
