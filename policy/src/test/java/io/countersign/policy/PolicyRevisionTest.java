package io.countersign.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyRevisionTest {
  @TempDir Path dir;

  private void write(String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  @Test
  void revisionIsStableAndChangesWhenARegoFileOrTheDataChangeButNotATest() throws IOException {
    write("decision.rego", "package countersign\n");
    write("lib/helpers.rego", "package countersign.lib\n");
    write("decision_test.rego", "package countersign_test\n");
    write("data.json", "{\"limit\": 1}");
    write("README.md", "notes");

    String first = PolicyRevision.ofDirectory(dir);
    assertTrue(first.matches("sha256:[0-9a-f]{16}"), first);
    assertEquals(first, PolicyRevision.ofDirectory(dir), "stable for the same files");
    assertEquals(first, PolicyRevision.of(dir), "of() picks the directory form");

    write("decision_test.rego", "package countersign_test\n# more tests\n");
    write("README.md", "other notes");
    assertEquals(first, PolicyRevision.ofDirectory(dir), "tests and docs do not count");

    write("lib/helpers.rego", "package countersign.lib\nx := 1\n");
    String second = PolicyRevision.ofDirectory(dir);
    assertNotEquals(first, second, "a rego change is a new revision");

    write("data.json", "{\"limit\": 2}");
    assertNotEquals(second, PolicyRevision.ofDirectory(dir), "a data change is a new revision");
  }

  @Test
  void aBundleRevisionIsTheDigestOfItsBytes() throws IOException {
    Path bundle = dir.resolve("bundle.tar.gz");
    Files.write(bundle, new byte[] {1, 2, 3});
    String a = PolicyRevision.of(bundle);
    assertEquals(PolicyRevision.ofBytes(new byte[] {1, 2, 3}), a);
    Files.write(bundle, new byte[] {1, 2, 4});
    assertNotEquals(a, PolicyRevision.ofBundle(bundle));
  }
}
