package io.countersign.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The configuration schema is the one source of the file's keys: the records the file is bound
 * onto name exactly its keys, and the Helm chart's schema carries its rules for the keys the chart
 * passes through (scripts/helm-schema.py writes them).
 */
class ConfigSchemaTest {
  private static final PropertyNamingStrategies.SnakeCaseStrategy SNAKE =
      new PropertyNamingStrategies.SnakeCaseStrategy();

  @Test
  void theRecordsTheFileIsBoundOntoNameExactlyTheSchemasKeys() {
    List<String> mismatches = new ArrayList<>();
    compare(ConfigFile.class, List.of(), "", mismatches, ConfigSchema.CONFIG);
    compare(approversFileClass(), List.of(), "", mismatches, ConfigSchema.APPROVERS);
    assertEquals(List.of(), mismatches);
  }

  private static Class<?> approversFileClass() {
    for (Class<?> c : io.countersign.proxy.approval.ApproverDirectory.class.getDeclaredClasses()) {
      if (c.getSimpleName().equals("ApproversFile")) {
        return c;
      }
    }
    throw new AssertionError("ApproverDirectory.ApproversFile is gone");
  }

  private static void compare(Class<?> record, List<Object> path, String at, List<String> out,
      ConfigSchema schema) {
    JsonNode s = schema.subschema(path);
    TreeSet<String> keys = new TreeSet<>();
    s.path("properties").fieldNames().forEachRemaining(keys::add);
    TreeSet<String> components = new TreeSet<>();
    for (RecordComponent rc : record.getRecordComponents()) {
      JsonProperty named = rc.getAccessor().getAnnotation(JsonProperty.class);
      if (named == null) {
        named = rc.getAnnotation(JsonProperty.class);
      }
      String key = named != null ? named.value() : SNAKE.translate(rc.getName());
      components.add(key);
      Class<?> type = rc.getType();
      List<Object> child = new ArrayList<>(path);
      child.add(key);
      if (type == List.class) {
        Type arg = ((ParameterizedType) rc.getGenericType()).getActualTypeArguments()[0];
        if (arg instanceof Class<?> c && c.isRecord()) {
          child.add(0);
          compare(c, child, at + key + "[].", out, schema);
        }
      } else if (type.isRecord()) {
        compare(type, child, at + key + ".", out, schema);
      }
    }
    if (!keys.equals(components)) {
      out.add(at + "*: schema " + keys + " vs records " + components);
    }
  }

  @Test
  void theHelmChartCarriesTheProxysRulesForTheKeysItPassesThrough() throws Exception {
    Path root = Path.of(System.getProperty("countersign.rego.dir", "../rego")).toAbsolutePath()
        .getParent();
    Process p = new ProcessBuilder("python3", root.resolve("scripts/helm-schema.py").toString(),
        "--check").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }
}
