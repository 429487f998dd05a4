package io.countersign.bench.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where the repository's policy, its OPA binary and scratch space are, seen from a forked benchmark
 * JVM. {@code bench/jmh.sh} passes {@code -Dcountersign.repo.root}; without it the repository is
 * found by walking up from the working directory. {@code countersign.opa.binary} and {@code
 * countersign.rego.dir} (the properties the root pom gives the tests) override the derived paths.
 */
public final class RepoPaths {
  private RepoPaths() {}

  /** The repository's root: the nearest folder holding {@code pom.xml} and the rego policy. */
  public static Path root() {
    String property = System.getProperty("countersign.repo.root");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath();
    }
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("pom.xml"))
          && Files.isRegularFile(dir.resolve("rego/countersign/decision.rego"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "cannot find the Countersign repository above "
            + start
            + " (no pom.xml beside rego/countersign/decision.rego); run from inside it or pass"
            + " -jvmArgsPrepend -Dcountersign.repo.root=/path/to/repo");
  }

  /** The policy directory the proxy would load: {@code rego/}. */
  public static Path regoDir() {
    String property = System.getProperty("countersign.rego.dir");
    return property != null && !property.isBlank() ? Path.of(property) : root().resolve("rego");
  }

  /** The OPA binary that {@code scripts/install-tools.sh opa} installs. */
  public static Path opaBinary() {
    String property = System.getProperty("countersign.opa.binary");
    Path opa =
        property != null && !property.isBlank()
            ? Path.of(property)
            : root().resolve(".tools/bin/opa");
    if (!Files.isExecutable(opa)) {
      throw new IllegalStateException(
          "OPA binary " + opa + " is missing or not executable; run scripts/install-tools.sh opa");
    }
    return opa;
  }

  /**
   * A new empty directory on disk for one benchmark's files: under {@code bench/jmh/target} when
   * the module has been built there, else under {@code java.io.tmpdir}. Delete it with {@link
   * #delete}.
   */
  public static Path scratch(String prefix) {
    try {
      Path target = null;
      try {
        target = root().resolve("bench/jmh/target");
      } catch (IllegalStateException notInRepository) {
        // run from elsewhere: the temp dir will do
      }
      return target != null && Files.isDirectory(target)
          ? Files.createTempDirectory(target, prefix)
          : Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a scratch directory: " + e, e);
    }
  }

  /** Deletes {@code dir} and everything in it; a missing directory is fine. */
  public static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir + ": " + e, e);
    }
  }
}
