package io.countersign.bench.jmh;

import io.countersign.policy.CachingPolicyEngine;
import io.countersign.policy.Decision;
import io.countersign.policy.PolicyEngine;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.PolicyJson;
import io.countersign.policy.WasmEngine;
import io.countersign.proxy.canonical.Canonicalizer;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.file.Path;
import java.time.Duration;
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
 * Embedded policy evaluation: the repository's {@code rego/} compiled with {@code opa build -t wasm}
 * ({@link WasmEngine#fromDirectory}, as the proxy's {@code engine: wasm} loads it) and judged in
 * process, on the {@link SampleExchange} inputs exactly as the proxy builds them.
 *
 * <p>{@code wasm*} call {@link WasmEngine#evaluate} directly, without the decision cache: input to
 * JSON, the wasm evaluation, the result set read back into a {@link Decision}. {@code cachedGetHit}
 * is the same GET through {@link CachingPolicyEngine} (the proxy's {@code policy.cache}) when the
 * decision is cached: the key is a SHA-256 of the input's JSON tree. {@code serializePatchInput} is
 * only {@link PolicyJson#toJson}, the first step of every evaluation, to show its share.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PolicyBenchmark {

  /** The two policy inputs. */
  @State(Scope.Benchmark)
  public static class Inputs {
    PolicyInput get;
    PolicyInput patch;

    /** Canonicalizes the sample requests and builds their inputs. */
    @Setup(Level.Trial)
    public void setUp() {
      Canonicalizer canonicalizer = SampleExchange.canonicalizer();
      FullHttpRequest g = SampleExchange.get();
      FullHttpRequest p = SampleExchange.patch();
      try {
        get = SampleExchange.policyInput(canonicalizer, g);
        patch = SampleExchange.policyInput(canonicalizer, p);
      } finally {
        g.release();
        p.release();
      }
    }
  }

  /** A wasm engine built from {@code rego/}, without a cache. */
  @State(Scope.Benchmark)
  public static class Wasm {
    Path work;
    WasmEngine engine;

    /** Builds the bundle and checks that the policy allows both inputs. */
    @Setup(Level.Trial)
    public void setUp(Inputs in) {
      work = RepoPaths.scratch("wasm-");
      engine = WasmEngine.fromDirectory(RepoPaths.opaBinary(), RepoPaths.regoDir(), work);
      SampleExchange.requireDecision(decide(engine, in.patch), "crm.deal_update");
      SampleExchange.requireDecision(decide(engine, in.get), "crm.read");
    }

    /** Closes the engine and deletes the bundle. */
    @TearDown(Level.Trial)
    public void tearDown() {
      engine.close();
      RepoPaths.delete(work);
    }
  }

  /** The same engine behind the decision cache, with the proxy's default cache settings. */
  @State(Scope.Benchmark)
  public static class Cached {
    Path work;
    CachingPolicyEngine engine;

    /** Builds the engine and caches the GET's decision. */
    @Setup(Level.Trial)
    public void setUp(Inputs in) {
      work = RepoPaths.scratch("wasm-cached-");
      engine =
          new CachingPolicyEngine(
              WasmEngine.fromDirectory(RepoPaths.opaBinary(), RepoPaths.regoDir(), work),
              10_000,
              Duration.ofMinutes(5));
      SampleExchange.requireDecision(decide(engine, in.get), "crm.read");
      long hits = engine.hits();
      decide(engine, in.get);
      if (engine.hits() != hits + 1) {
        throw new IllegalStateException(
            "the GET's decision is not cached (is crm.read still \"cacheable\": true?)");
      }
    }

    /** Closes the engine and deletes the bundle. */
    @TearDown(Level.Trial)
    public void tearDown() {
      engine.close();
      RepoPaths.delete(work);
    }
  }

  /** The PATCH (a low-risk allow by {@code crm.deal_update}) through the wasm engine. */
  @Benchmark
  public Decision wasmPatch(Wasm wasm, Inputs in) {
    return decide(wasm.engine, in.patch);
  }

  /** The GET (a read-only allow by {@code crm.read}) through the wasm engine. */
  @Benchmark
  public Decision wasmGet(Wasm wasm, Inputs in) {
    return decide(wasm.engine, in.get);
  }

  /** The GET answered from the decision cache. */
  @Benchmark
  public Decision cachedGetHit(Cached cached, Inputs in) {
    return decide(cached.engine, in.get);
  }

  /** Only the PATCH's input serialized to the JSON an engine evaluates. */
  @Benchmark
  public byte[] serializePatchInput(Inputs in) {
    return PolicyJson.toJson(in.patch);
  }

  private static Decision decide(PolicyEngine engine, PolicyInput input) {
    return engine.evaluate(input).toCompletableFuture().join();
  }
}
