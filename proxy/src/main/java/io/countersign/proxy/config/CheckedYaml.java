package io.countersign.proxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

/**
 * Reads a YAML file the proxy trusts only once checked: parse (each key once), check against its
 * {@link ConfigSchema} (unknown keys, types, ranges, patterns), fill the defaults, and bind it onto
 * records (snake_case keys). A key set to nothing (YAML {@code null}) takes its default. Every
 * refusal is a {@link ConfigException} naming the file, the line, the key and the fix.
 */
public final class CheckedYaml {
  private static final ObjectMapper YAML =
      new ObjectMapper(
              YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /**
   * A file read and bound.
   *
   * @param value the records
   * @param where says where a key is, for refusals found later (rules the schema cannot say)
   */
  public record Read<T>(T value, Where where) {}

  /** Names the file and line of a key, for a refusal found after the schema's checks. */
  public interface Where {
    /** {@code FILE: line N: } for the key at {@code path} (property names and list indexes). */
    String of(List<Object> path);
  }

  private CheckedYaml() {}

  /**
   * Reads {@code file}.
   *
   * @param what what the file is, for the message when it cannot be read ("config file")
   * @param topFix the fix when the file is not a mapping at all
   * @throws ConfigException naming the file, the line, the key and the fix
   */
  public static <T> Read<T> read(Path file, String what, ConfigSchema schema, Class<T> type,
      String topFix) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the " + what + ": " + e.getMessage(), e);
    }
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      String line = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
      throw new ConfigException(
          file + ": " + e.getOriginalMessage() + line + "; fix the YAML (each key once)", e);
    }
    if (!(root instanceof ObjectNode tree)) {
      throw new ConfigException(file + ": (top level) must be a YAML mapping; " + topFix);
    }
    YamlLines lines = YamlLines.of(text);
    Where where = path -> {
      int line = lines.lineOf(path);
      return file + ": " + (line > 0 ? "line " + line + ": " : "");
    };
    dropNulls(tree);
    List<ConfigSchema.Problem> problems = new ArrayList<>(schema.check(tree));
    if (!problems.isEmpty()) {
      problems.sort(Comparator.comparingInt((ConfigSchema.Problem p) -> lines.lineOf(steps(p.key())))
          .thenComparing(ConfigSchema.Problem::key));
      ConfigSchema.Problem first = problems.get(0);
      String more = problems.size() == 1 ? "" : " (and " + (problems.size() - 1) + " more)";
      throw new ConfigException(where.of(steps(first.key())) + first.key() + " " + first.problem()
          + "; " + first.fix() + more);
    }
    schema.applyDefaults(tree);
    try {
      return new Read<>(YAML.treeToValue(tree, type), where);
    } catch (JsonProcessingException e) {
      // the schema let through what the records do not take: they drifted apart (a bug)
      throw new IllegalStateException("the schema and " + type.getSimpleName() + " disagree: "
          + e.getMessage(), e);
    }
  }

  /** A key set to nothing means "the default": remove it before the checks. */
  private static void dropNulls(JsonNode n) {
    if (n instanceof ObjectNode o) {
      List<String> nulls = new ArrayList<>();
      for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (o.get(k).isNull()) {
          nulls.add(k);
        } else {
          dropNulls(o.get(k));
        }
      }
      nulls.forEach(o::remove);
    } else if (n instanceof ArrayNode a) {
      a.forEach(CheckedYaml::dropNulls);
    }
  }

  /** The steps of a key as messages name it ({@code routes[0].name}). */
  static List<Object> steps(String key) {
    List<Object> out = new ArrayList<>();
    if (key.equals("(top level)")) {
      return out;
    }
    for (String part : key.split("\\.")) {
      int bracket = part.indexOf('[');
      String name = bracket < 0 ? part : part.substring(0, bracket);
      if (!name.isEmpty()) {
        out.add(name);
      }
      while (bracket >= 0) {
        int close = part.indexOf(']', bracket);
        out.add(Integer.parseInt(part.substring(bracket + 1, close)));
        bracket = part.indexOf('[', close);
      }
    }
    return out;
  }
}
