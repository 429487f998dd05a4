package io.countersign.proxy.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each key of a YAML file is, so that a refusal names its line. Read from the parser's
 * token stream (the tree has no locations). Immutable once built.
 */
final class YamlLines {
  private final Map<String, Integer> lines = new HashMap<>();

  private YamlLines() {}

  /** The lines of {@code yaml}'s keys and values; empty for text that does not parse. */
  static YamlLines of(String yaml) {
    YamlLines l = new YamlLines();
    try (JsonParser p = new YAMLFactory().createParser(yaml)) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        String at = p.getParsingContext().pathAsPointer().toString();
        if (t == JsonToken.FIELD_NAME) {
          at = at.isEmpty() || at.endsWith("/" + p.currentName()) ? at : at + "/" + p.currentName();
        }
        l.lines.putIfAbsent(at, p.currentTokenLocation().getLineNr());
      }
    } catch (IOException e) {
      // the parse error is reported by the loader; keys keep no line
    }
    return l;
  }

  /** The line of the key at {@code path} (names and indexes), or of its nearest parent; 0 if none. */
  int lineOf(List<Object> path) {
    for (int n = path.size(); n >= 0; n--) {
      StringBuilder pointer = new StringBuilder();
      for (Object step : path.subList(0, n)) {
        pointer.append('/').append(String.valueOf(step).replace("~", "~0").replace("/", "~1"));
      }
      Integer line = lines.get(pointer.toString());
      if (line != null) {
        return line;
      }
    }
    return 0;
  }
}
