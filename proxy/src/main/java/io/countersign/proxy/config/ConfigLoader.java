package io.countersign.proxy.config;

import java.nio.file.Path;

/**
 * Reads the sidecar's YAML configuration once, at startup: checked against the schema and bound
 * onto {@link ConfigFile} ({@link CheckedYaml}), then the rules that span keys or touch the file
 * system ({@link ConfigValidator}). Every refusal names the file, the line, the key and the fix.
 * The reference is {@code docs/configuration.md}.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /**
   * Loads and validates a config file.
   *
   * @throws ConfigException naming the file, the line, the key and the fix
   */
  public static ProxyConfig load(Path file) {
    CheckedYaml.Read<ConfigFile> read = CheckedYaml.read(file, "config file", ConfigSchema.CONFIG,
        ConfigFile.class, "start from examples/countersign.yaml");
    try {
      return new ConfigValidator(file).validate(read.value());
    } catch (ConfigValidator.Refusal r) {
      throw new ConfigException(read.where().of(r.path) + r.getMessage());
    }
  }
}
