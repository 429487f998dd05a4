package io.countersign.proxy.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** A copy of the project's rego/ with its catalog data changed, for tests that need other terms. */
public final class PolicyVariant {
  private PolicyVariant() {}

  /** Copies rego/ into {@code dir} and lets {@code change} edit the catalog's data.json. */
  public static Path of(Path dir, Consumer<ObjectNode> change) {
    Path src = ProxyFixture.regoDir();
    try (var paths = Files.walk(src)) {
      for (Path p : paths.toList()) {
        Path to = dir.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
      Path data = dir.resolve("countersign/catalog/data.json");
      ObjectMapper json = new ObjectMapper();
      ObjectNode catalog = (ObjectNode) json.readTree(data.toFile());
      change.accept(catalog);
      json.writerWithDefaultPrettyPrinter().writeValue(data.toFile(), catalog);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
