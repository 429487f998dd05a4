package io.countersign.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.NonValidationKeyword;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The JSON Schema of a file the proxy reads at startup, beside this class: the one source of its
 * keys, types, ranges, patterns and defaults ({@link #CONFIG}: the configuration file; {@link
 * #APPROVERS}: the approvers file). It checks a parsed file, saying what is wrong in the words of
 * {@link ConfigException} (the key, the problem, the fix: from the schema's {@code x-fix}, or from
 * its ranges), and fills in the defaults. Thread-safe and immutable.
 */
public final class ConfigSchema {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The configuration file's schema. */
  public static final ConfigSchema CONFIG = new ConfigSchema("countersign-config.schema.json");

  /** The approvers file's schema. */
  public static final ConfigSchema APPROVERS = new ConfigSchema("approvers.schema.json");

  private final JsonNode root;
  private final Schema schema;

  /**
   * One thing wrong with a file.
   *
   * @param key the key's path, e.g. {@code routes[1].credential.header} ({@code (top level)} for
   *     the file itself)
   * @param problem what is wrong, e.g. {@code is not a known key}
   * @param fix what to do
   */
  record Problem(String key, String problem, String fix) {}

  private ConfigSchema(String resource) {
    try (InputStream in = ConfigSchema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the schema " + resource + " is missing from the build");
      }
      root = JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the config schema", e);
    }
    // the hints refusals quote are ours, not validation keywords
    Dialect dialect = Dialect.builder(Dialects.getDraft202012())
        .keyword(new NonValidationKeyword("x-fix"))
        .keyword(new NonValidationKeyword("x-problem"))
        .keyword(new NonValidationKeyword("x-missing"))
        .build();
    schema = SchemaRegistry.withDefaultDialect(dialect).getSchema(root);
  }

  /** The schema itself (for tests and the Helm chart's generator). */
  public JsonNode tree() {
    return root;
  }

  /** Every problem of {@code file} (nulls already removed), in no particular order. */
  List<Problem> check(JsonNode file) {
    List<Problem> out = new ArrayList<>();
    for (Error e : schema.validate(file)) {
      out.add(problem(e, file));
    }
    return out;
  }

  private Problem problem(Error e, JsonNode file) {
    List<Object> at = elements(e.getInstanceLocation());
    String keyword = e.getKeyword() == null ? "" : e.getKeyword();
    if ("additionalProperties".equals(keyword) || "required".equals(keyword)) {
      JsonNode parent = subschema(at);
      String name = e.getProperty();
      List<Object> child = new ArrayList<>(at);
      child.add(name);
      if ("required".equals(keyword)) {
        JsonNode s = subschema(child);
        return new Problem(key(child), "is missing", text(s, "x-missing", "set it"));
      }
      TreeSet<String> known = new TreeSet<>();
      parent.path("properties").fieldNames().forEachRemaining(known::add);
      return new Problem(key(child), "is not a known key", "remove it or use one of " + known);
    }
    JsonNode s = subschema(at);
    JsonNode value = e.getInstanceNode() != null ? e.getInstanceNode() : valueAt(file, at);
    String key = key(at);
    switch (keyword) {
      case "type" -> {
        String type = s.path("type").asText();
        return switch (type) {
          case "integer" -> new Problem(key, "is not a whole number", range(s));
          case "string" -> new Problem(key, "is not a string", "quote the value");
          case "object" -> new Problem(key, "is not a mapping",
              text(s, "x-fix", "write it as a YAML mapping"));
          case "array" -> new Problem(key, "is not a list", text(s, "x-fix", "write a YAML list"));
          case "boolean" -> new Problem(key, "is not true or false", text(s, "x-fix", "write true or false"));
          default -> new Problem(key, "has the wrong type", e.getMessage());
        };
      }
      case "minimum", "maximum" -> {
        return new Problem(key, "is " + value.asText(), range(s));
      }
      default -> {
        String problem = s.has("x-problem") ? s.path("x-problem").asText()
            : "is '" + (value == null ? "" : value.asText()) + "'";
        return new Problem(key, problem, text(s, "x-fix", e.getMessage()));
      }
    }
  }

  private static String range(JsonNode s) {
    return "use a number from " + s.path("minimum").asText() + " to " + s.path("maximum").asText();
  }

  private static String text(JsonNode s, String field, String dflt) {
    return s.hasNonNull(field) ? s.path(field).asText() : dflt;
  }

  /**
   * The schema of the value at {@code path} (names and indexes), with {@code $ref}s resolved and the
   * referring node's own members (description, default, x-fix) taking precedence.
   */
  JsonNode subschema(List<Object> path) {
    JsonNode s = resolved(root);
    for (Object step : path) {
      s = resolved(step instanceof Integer ? s.path("items") : s.path("properties").path((String) step));
    }
    return s;
  }

  private JsonNode resolved(JsonNode s) {
    if (!s.has("$ref")) {
      return s;
    }
    String ref = s.path("$ref").asText();
    JsonNode target = root.at(ref.substring(1)); // "#/$defs/x" -> "/$defs/x"
    ObjectNode merged = target.deepCopy();
    s.properties().forEach(f -> {
      if (!f.getKey().equals("$ref")) {
        merged.set(f.getKey(), f.getValue());
      }
    });
    return merged;
  }

  /**
   * Fills in every default the schema names, for absent keys of the objects present in {@code
   * file} (a section whose default is {@code {}} is created, so that its keys' defaults apply).
   */
  void applyDefaults(ObjectNode file) {
    defaults(file, resolved(root));
  }

  private void defaults(JsonNode value, JsonNode s) {
    if (value instanceof ObjectNode o) {
      for (Map.Entry<String, JsonNode> p : s.path("properties").properties()) {
        JsonNode ps = resolved(p.getValue());
        if (!o.has(p.getKey()) && ps.has("default")) {
          o.set(p.getKey(), ps.path("default").deepCopy());
        }
        if (o.has(p.getKey())) {
          defaults(o.get(p.getKey()), ps);
        }
      }
    } else if (value instanceof ArrayNode a) {
      JsonNode items = resolved(s.path("items"));
      a.forEach(v -> defaults(v, items));
    }
  }

  /** The path's steps: property names (String) and array indexes (Integer). */
  static List<Object> elements(NodePath p) {
    List<Object> out = new ArrayList<>();
    for (int i = 0; i < p.getNameCount(); i++) {
      out.add(p.getElement(i));
    }
    return out;
  }

  /** The key as messages name it: {@code routes[0].credential.header}. */
  static String key(List<Object> path) {
    StringBuilder k = new StringBuilder();
    for (Object step : path) {
      if (step instanceof Integer i) {
        k.append('[').append(i).append(']');
      } else {
        if (k.length() > 0) {
          k.append('.');
        }
        k.append(step);
      }
    }
    return k.length() == 0 ? "(top level)" : k.toString();
  }

  private static JsonNode valueAt(JsonNode file, List<Object> path) {
    JsonNode n = file;
    for (Object step : path) {
      n = step instanceof Integer i ? n.path(i) : n.path((String) step);
    }
    return n;
  }
}
