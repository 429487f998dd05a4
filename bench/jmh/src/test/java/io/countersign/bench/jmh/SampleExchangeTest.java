package io.countersign.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.countersign.ledger.LedgerEventCodec;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.WasmEngine;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.Canonicalizer;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmarks' inputs stay what they claim to be: requests the proxy accepts, decisions the
 * repository's policy allows, and an event of the size the target speaks of. Runs in the
 * normal build, so a change elsewhere that would make a benchmark measure something else fails here
 * first.
 */
class SampleExchangeTest {

  @Test
  void bothRequestsAreCanonicalizedWithTheirCallerAndBody() {
    Canonicalizer canonicalizer = SampleExchange.canonicalizer();
    FullHttpRequest get = SampleExchange.get();
    FullHttpRequest patch = SampleExchange.patch();
    try {
      CanonicalRequest g = SampleExchange.canonical(canonicalizer, get);
      CanonicalRequest p = SampleExchange.canonical(canonicalizer, patch);
      try {
        assertEquals("crm", g.route().name());
        assertEquals("quote-prep", g.caller().workflow());
        assertEquals("/v3/deals/42?fields=amount,stage", g.upstreamTarget());
        assertEquals("update_deal", p.caller().tool());
        assertEquals("negotiation", p.bodyJson().path("stage").asText());
        int size = p.size();
        assertTrue(size >= 150 && size <= 250, "the PATCH body is ~200 bytes, not " + size);
      } finally {
        g.release();
        p.release();
      }
    } finally {
      get.release();
      patch.release();
    }
  }

  @Test
  void theDecidedEventIsBetweenOneAndOneAndAHalfKilobytes() {
    int bytes =
        LedgerEventCodec.toJson(SampleExchange.decidedEvent())
            .getBytes(StandardCharsets.UTF_8)
            .length;
    assertTrue(bytes >= 1000 && bytes <= 1600, "exchange.decided is " + bytes + " bytes");
  }

  @Test
  void theRepositoryPolicyAllowsBothRequestsInWasm(@TempDir Path work) {
    Canonicalizer canonicalizer = SampleExchange.canonicalizer();
    FullHttpRequest get = SampleExchange.get();
    FullHttpRequest patch = SampleExchange.patch();
    try (WasmEngine engine =
        WasmEngine.fromDirectory(RepoPaths.opaBinary(), RepoPaths.regoDir(), work)) {
      PolicyInput g = SampleExchange.policyInput(canonicalizer, get);
      PolicyInput p = SampleExchange.policyInput(canonicalizer, patch);
      SampleExchange.requireDecision(engine.evaluate(p).toCompletableFuture().join(), "crm.deal_update");
      SampleExchange.requireDecision(engine.evaluate(g).toCompletableFuture().join(), "crm.read");
    } finally {
      get.release();
      patch.release();
    }
  }
}
