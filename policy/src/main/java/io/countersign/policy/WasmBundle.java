package io.countersign.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * A policy compiled to WebAssembly: the {@code policy.wasm} module and the {@code data.json} of
 * the bundle that {@code opa build -t wasm -e countersign/decision} writes, plus the bundle's
 * revision.
 *
 * <p>Immutable and thread-safe ({@link #policyWasm()} returns a copy).
 */
public final class WasmBundle {
  /** The entry point the bundle is built for and the engine evaluates. */
  public static final String ENTRYPOINT = "countersign/decision";

  /** How long {@link #build(Path, Path, Path)} lets {@code opa build} run. */
  public static final Duration DEFAULT_BUILD_DEADLINE = Duration.ofSeconds(60);

  private final byte[] policyWasm;
  private final JsonNode data;
  private final String revision;

  private WasmBundle(byte[] policyWasm, JsonNode data, String revision) {
    this.policyWasm = policyWasm;
    this.data = data;
    this.revision = revision;
  }

  /**
   * The {@code opa build} command line that compiles {@code regoDir} into {@code bundle}. Tests are
   * left out: they are not part of the policy and would only grow the module.
   */
  public static List<String> buildCommand(Path opaBinary, Path regoDir, Path bundle) {
    return List.of(
        opaBinary.toString(),
        "build",
        "-t",
        "wasm",
        "-e",
        ENTRYPOINT,
        "--ignore",
        "*_test.rego",
        "-o",
        bundle.toString(),
        regoDir.toString());
  }

  /** Runs {@code opa build} with the default deadline (60 s); see {@link #build(Path, Path, Path, Duration)}. */
  public static Path build(Path opaBinary, Path regoDir, Path outDir) {
    return build(opaBinary, regoDir, outDir, DEFAULT_BUILD_DEADLINE);
  }

  /**
   * Compiles a policy directory to a wasm bundle, {@code outDir/bundle.tar.gz}.
   *
   * @return the bundle's path
   * @throws IllegalStateException when the binary is missing, the build fails or overruns the
   *     deadline; the message names the command and carries OPA's output
   */
  public static Path build(Path opaBinary, Path regoDir, Path outDir, Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (!Files.isExecutable(opaBinary)) {
      throw new IllegalStateException("OPA binary " + opaBinary + " is missing or not executable");
    }
    Path bundle = outDir.resolve("bundle.tar.gz");
    List<String> command = buildCommand(opaBinary, regoDir, bundle);
    Path log = null;
    try {
      Files.createDirectories(outDir);
      // Output goes to a file, so a chatty build can never fill a pipe and hang.
      log = Files.createTempFile(outDir, "opa-build", ".log");
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      if (!p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "`" + String.join(" ", command) + "` did not finish within " + deadline.toMillis()
                + " ms; output: " + Files.readString(log, StandardCharsets.UTF_8));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "`" + String.join(" ", command) + "` failed with code " + p.exitValue() + ": "
                + Files.readString(log, StandardCharsets.UTF_8).strip());
      }
      return bundle;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run `" + String.join(" ", command) + "`: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running `" + String.join(" ", command) + "`", e);
    } finally {
      if (log != null) {
        try {
          Files.deleteIfExists(log);
        } catch (IOException ignored) {
          // a stray log file in outDir is harmless
        }
      }
    }
  }

  /**
   * Reads a bundle written by {@code opa build -t wasm}.
   *
   * @throws UncheckedIOException when the file cannot be read or is not a gzip'd tar
   * @throws IllegalArgumentException when it holds no {@code /policy.wasm} or its data is not JSON
   */
  public static WasmBundle read(Path tarGz) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(tarGz);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read wasm bundle " + tarGz + ": " + e, e);
    }
    byte[] wasm = null;
    byte[] data = null;
    try (InputStream gz = new GzipCompressorInputStream(new ByteArrayInputStream(bytes));
        TarArchiveInputStream tar = new TarArchiveInputStream(gz)) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        String name = entry.getName().replaceFirst("^/+", "");
        if (name.equals("policy.wasm")) {
          wasm = tar.readAllBytes();
        } else if (name.equals("data.json")) {
          data = tar.readAllBytes();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read wasm bundle " + tarGz + ": " + e, e);
    }
    if (wasm == null) {
      throw new IllegalArgumentException(
          "wasm bundle " + tarGz + " has no /policy.wasm (was it built with `opa build -t wasm`?)");
    }
    JsonNode dataNode;
    try {
      dataNode =
          data == null
              ? JsonNodeFactory.instance.objectNode()
              : PolicyJson.mapper().readTree(data);
    } catch (IOException e) {
      throw new IllegalArgumentException("wasm bundle " + tarGz + " has a malformed /data.json", e);
    }
    return new WasmBundle(wasm, dataNode, PolicyRevision.ofBytes(bytes));
  }

  /** The compiled module (a copy). */
  public byte[] policyWasm() {
    return policyWasm.clone();
  }

  byte[] policyWasmShared() {
    return policyWasm;
  }

  /** The bundle's base data document (an empty object when it has none); do not modify it. */
  public JsonNode data() {
    return data;
  }

  /** The revision of the bundle file, {@code sha256:} + 16 hex digits of its bytes. */
  public String revision() {
    return revision;
  }

  @Override
  public String toString() {
    return "WasmBundle[" + revision + ", " + policyWasm.length + " bytes of wasm]";
  }

  static List<String> entries(Path tarGz) throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream gz = new GzipCompressorInputStream(Files.newInputStream(tarGz));
        TarArchiveInputStream tar = new TarArchiveInputStream(gz)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        out.add(e.getName());
      }
    }
    return out;
  }
}
