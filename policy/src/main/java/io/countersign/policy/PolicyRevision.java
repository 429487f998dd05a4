package io.countersign.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A stable, content-derived revision string for a policy ({@code sha256:} + 16 hex digits), which
 * the ledger stores beside every decision so an auditor can tell which policy judged a request.
 *
 * <p>For a directory the digest covers what OPA evaluates: every {@code *.rego} file except the
 * {@code *_test.rego} tests, and every {@code data.json} / {@code data.yaml} / {@code data.yml},
 * taken in sorted order of their relative paths (with {@code /} separators), each as its path, its
 * length and its bytes. Editing a test or adding a README therefore does not change the revision;
 * editing a rule or the data does. For a bundle file the digest covers its bytes.
 *
 * <p>Stateless and thread-safe; reads the files on each call.
 */
public final class PolicyRevision {
  private PolicyRevision() {}

  /**
   * The revision of a policy directory or a bundle file.
   *
   * @throws UncheckedIOException when the path cannot be read (naming the path)
   */
  public static String of(Path path) {
    return Files.isDirectory(path) ? ofDirectory(path) : ofBundle(path);
  }

  /**
   * The revision of the policy files under a directory.
   *
   * @throws UncheckedIOException when the directory cannot be read (naming the path)
   */
  public static String ofDirectory(Path dir) {
    MessageDigest sha = sha256();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files =
          walk.filter(Files::isRegularFile)
              .filter(PolicyRevision::isPolicyFile)
              .sorted((a, b) -> relative(dir, a).compareTo(relative(dir, b)))
              .collect(Collectors.toList());
      for (Path file : files) {
        byte[] name = relative(dir, file).getBytes(StandardCharsets.UTF_8);
        byte[] content = Files.readAllBytes(file);
        update(sha, name);
        update(sha, content);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read policy directory " + dir + ": " + e, e);
    }
    return format(sha.digest());
  }

  /**
   * The revision of a bundle file (its bytes).
   *
   * @throws UncheckedIOException when the file cannot be read (naming the path)
   */
  public static String ofBundle(Path bundle) {
    try {
      return ofBytes(Files.readAllBytes(bundle));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read policy bundle " + bundle + ": " + e, e);
    }
  }

  /** The revision of a bundle held in memory. */
  public static String ofBytes(byte[] bundle) {
    return format(sha256().digest(bundle));
  }

  static boolean isPolicyFile(Path file) {
    String name = file.getFileName().toString();
    if (name.endsWith(".rego")) {
      return !name.endsWith("_test.rego");
    }
    return name.equals("data.json") || name.equals("data.yaml") || name.equals("data.yml");
  }

  private static String relative(Path dir, Path file) {
    return dir.relativize(file).toString().replace('\\', '/');
  }

  // Length-prefixed, so moving bytes between a name and a content cannot give the same digest.
  private static void update(MessageDigest sha, byte[] bytes) {
    long n = bytes.length;
    for (int shift = 56; shift >= 0; shift -= 8) {
      sha.update((byte) (n >>> shift));
    }
    sha.update(bytes);
  }

  private static String format(byte[] digest) {
    return "sha256:" + HexFormat.of().formatHex(digest, 0, 8);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
