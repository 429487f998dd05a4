package io.countersign.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.countersign.proxy.config.ProxyConfig.Engine;
import io.countersign.proxy.support.Await;
import io.countersign.proxy.support.LoopbackUpstream;
import io.countersign.proxy.support.ProxyFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real launcher, bin/countersign, as an operator runs it. */
class CommandLineIT {
  private static final Path ROOT = ProxyFixture.regoDir().toAbsolutePath().getParent();

  private static Process launch(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ROOT.resolve("bin/countersign").toString());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(false).start();
  }

  private static String run(Process p, StringBuilder err) throws Exception {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the command ends");
    return out;
  }

  @Test
  void ledgerTailPrintsIntentAndOutcomeOfEveryExchangeAsJsonLines(@TempDir Path tmp) throws Exception {
    List<String> ids = new ArrayList<>();
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture proxy = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      ids.add(proxy.send("GET", "/crm/v3/deals/42", null).headers().firstValue("x-countersign-exchange-id").orElseThrow());
      ids.add(proxy.send("DELETE", "/crm/v3/deals/42", null).headers().firstValue("x-countersign-exchange-id").orElseThrow());
      ids.add(proxy.send("PATCH", "/crm/v3/deals/42", "{\"discount_pct\": 5}").headers().firstValue("x-countersign-exchange-id").orElseThrow());
    }
    StringBuilder err = new StringBuilder();
    Process p = launch("ledger", "tail", "--dir", tmp.resolve("ledger").toString());
    String out = run(p, err);
    assertEquals(0, p.exitValue(), err.toString());
    Map<String, List<String>> typesById = new HashMap<>();
    for (String line : out.split("\n")) {
      JsonNode e = ProxyFixture.json(line);
      assertTrue(e.has("index") && e.has("time") && e.path("v").asInt() == 1, line);
      typesById.computeIfAbsent(e.path("exchange_id").asText(), k -> new ArrayList<>()).add(e.path("type").asText());
    }
    for (String id : ids) {
      assertEquals(List.of("exchange.decided", "exchange.completed"), typesById.get(id), id);
    }

    Process one = launch("ledger", "tail", "--dir", tmp.resolve("ledger").toString(), "--exchange", ids.get(1));
    String only = run(one, new StringBuilder());
    assertEquals(2, only.strip().split("\n").length, only);
    assertTrue(only.contains("crm.deal_delete_forbidden"));
  }

  @Test
  void ledgerTailFollowPrintsNewExchangesAsTheyHappen(@TempDir Path tmp) throws Exception {
    try (LoopbackUpstream upstream = new LoopbackUpstream();
        ProxyFixture proxy = ProxyFixture.start(Engine.WASM, upstream, tmp)) {
      proxy.send("GET", "/crm/v3/deals/1", null);
      Process p = launch("ledger", "tail", "--follow", "--dir", tmp.resolve("ledger").toString());
      List<String> lines = new CopyOnWriteArrayList<>();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          for (String l; (l = r.readLine()) != null; ) {
            lines.add(l);
          }
        } catch (IOException e) {
          // the process was stopped
        }
      });
      reader.start();
      try {
        Await.until("the existing events", Duration.ofSeconds(30), () -> lines.size() >= 2);
        String id = proxy.send("GET", "/crm/v3/deals/2", null).headers().firstValue("x-countersign-exchange-id").orElseThrow();
        Await.until("the new exchange's events", Duration.ofSeconds(30),
            () -> lines.stream().filter(l -> l.contains(id)).count() == 2);
      } finally {
        p.destroy();
        p.waitFor(10, TimeUnit.SECONDS);
        reader.join(10_000);
      }
    }
  }

  @Test
  void aConfigErrorNamesTheFileTheKeyAndTheFix(@TempDir Path tmp) throws Exception {
    Path config = tmp.resolve("bad.yaml");
    Files.writeString(config, "agent_id: a\npolicy:\n  engine: rego-magic\nroutes: []\n");
    StringBuilder err = new StringBuilder();
    Process p = launch("run", "--config", config.toString());
    run(p, err);
    assertEquals(2, p.exitValue());
    assertTrue(err.toString().contains(config.toString()), err.toString());
    assertTrue(err.toString().contains("policy.engine"), err.toString());
    assertTrue(err.toString().contains("use opa or wasm"), err.toString());
  }

  @Test
  void aMissingLedgerIsReportedWithANonZeroExit(@TempDir Path tmp) throws Exception {
    StringBuilder err = new StringBuilder();
    Process p = launch("ledger", "tail", "--dir", tmp.resolve("nope").toString());
    run(p, err);
    assertEquals(2, p.exitValue());
    assertTrue(err.toString().contains("no ledger at"), err.toString());
  }
}
