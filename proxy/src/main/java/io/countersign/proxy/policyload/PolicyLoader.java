package io.countersign.proxy.policyload;

import io.countersign.policy.CachingPolicyEngine;
import io.countersign.policy.ManagedOpa;
import io.countersign.policy.OpaServerEngine;
import io.countersign.policy.PolicyEngine;
import io.countersign.policy.PolicyRevision;
import io.countersign.policy.WasmEngine;
import io.countersign.proxy.config.ProxyConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds a policy engine for a folder of Rego, as configured: a managed OPA or an external one
 * behind the OPA-server engine, or the wasm build; behind a decision cache when configured. A
 * candidate is first checked with {@code opa check --strict}, so a broken file is refused with
 * OPA's own message (file and line) before anything is started. Blocking: never on an event loop.
 */
public final class PolicyLoader {
  private final ProxyConfig.Policy config;
  private final Clock clock;

  /**
   * @param config the policy settings
   * @param clock stamps loads
   */
  public PolicyLoader(ProxyConfig.Policy config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  /** Whether reloads are possible (an external OPA is reloaded by whoever runs it). */
  public boolean reloadable() {
    return config.opaUrl() == null;
  }

  /**
   * Checks and loads the policy in {@code dir}.
   *
   * @throws PolicyLoadException naming the file and line when the policy does not compile
   */
  public LoadedPolicy load(Path dir) {
    if (config.engine() == ProxyConfig.Engine.WASM) {
      return loadWasm(dir);
    }
    if (config.opaUrl() == null) {
      check(dir);
    }
    String revision = PolicyRevision.ofDirectory(dir);
    ManagedOpa opa = null;
    PolicyEngine engine;
    try {
      String url = config.opaUrl();
      if (url == null) {
        opa = ManagedOpa.start(config.opaBinary(), dir);
        url = opa.url();
      }
      engine = new OpaServerEngine(url, revision, config.timeout(), 8, 4096);
    } catch (RuntimeException e) {
      if (opa != null) {
        opa.close();
      }
      throw new PolicyLoadException("cannot load the policy in " + dir + ": " + e.getMessage(), e);
    }
    return cached(engine, opa, revision);
  }

  /**
   * The wasm build, with {@code opa check --strict} running beside it (two processes at once,
   * not one after the other: this is on the start path). The check's verdict still comes first:
   * when it fails, its message is the error, whatever the build did.
   */
  private LoadedPolicy loadWasm(Path dir) {
    PolicyEngine engine = null;
    RuntimeException buildFailure = null;
    Runnable awaitCheck = startCheck(dir);
    String revision = PolicyRevision.ofDirectory(dir);
    try {
      Path work = Files.createTempDirectory("countersign-wasm");
      try {
        engine = WasmEngine.fromDirectory(config.opaBinary(), dir, work);
      } finally {
        deleteTree(work); // the bundle is in memory now
      }
    } catch (IOException | RuntimeException e) {
      buildFailure = new PolicyLoadException("cannot load the policy in " + dir + ": " + e.getMessage(), e);
    }
    try {
      awaitCheck.run();
    } catch (RuntimeException e) {
      closeQuietly(engine);
      throw e;
    }
    if (buildFailure != null) {
      throw buildFailure;
    }
    return cached(engine, null, revision);
  }

  private LoadedPolicy cached(PolicyEngine engine, ManagedOpa opa, String revision) {
    if (config.cacheMaxEntries() > 0) {
      engine = new CachingPolicyEngine(engine, config.cacheMaxEntries(), config.cacheTtl());
    }
    return new LoadedPolicy(engine, opa, revision, clock.instant());
  }

  private static void closeQuietly(PolicyEngine engine) {
    if (engine != null) {
      try {
        engine.close();
      } catch (Exception ignored) {
        // refused anyway; the check's message is what the operator needs
      }
    }
  }

  /** Runs {@code opa check --strict} on {@code dir}; its message names the file and line. */
  private void check(Path dir) {
    startCheck(dir).run();
  }

  /**
   * Starts {@code opa check --strict} on {@code dir}; the returned task waits for it and throws
   * {@link PolicyLoadException} with OPA's message (file and line) when the policy is refused.
   */
  private Runnable startCheck(Path dir) {
    Path out;
    Process p;
    try {
      out = Files.createTempFile("countersign-opa-check", ".txt");
    } catch (IOException e) {
      throw new PolicyLoadException("cannot run opa check on " + dir + ": " + e.getMessage(), e);
    }
    try {
      p = new ProcessBuilder(List.of(config.opaBinary().toString(), "check", "--strict",
              dir.toString()))
          .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    } catch (IOException e) {
      deleteQuietly(out);
      throw new PolicyLoadException("cannot run opa check on " + dir + ": " + e.getMessage(), e);
    }
    return () -> awaitCheck(p, out, dir);
  }

  private static void awaitCheck(Process p, Path out, Path dir) {
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new PolicyLoadException("opa check did not finish within 60 s on " + dir, null);
      }
      if (p.exitValue() != 0) {
        String msg = Files.readString(out, StandardCharsets.UTF_8).strip();
        throw new PolicyLoadException("the policy in " + dir + " does not compile: " + msg, null);
      }
    } catch (IOException e) {
      throw new PolicyLoadException("cannot run opa check on " + dir + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PolicyLoadException("interrupted while checking " + dir, e);
    } finally {
      deleteQuietly(out);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a temp file; the OS cleans it
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
