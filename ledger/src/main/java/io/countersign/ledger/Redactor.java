package io.countersign.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.countersign.ledger.event.ExchangeDecided;
import io.countersign.ledger.event.ExchangeOutcome;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes secrets from an event before it is encoded, so they never reach the disk.
 *
 * <ul>
 *   <li>Headers: the values of the configured names in the header maps a body declares ({@link
 *       io.countersign.ledger.event.EventBody#redactableHeaders()}: {@code request.headers.NAME},
 *       {@code response.headers.NAME}).
 *   <li>Policy-named paths: the decision may name body paths in {@code
 *       decision.obligations.redact}, e.g. {@code ["request.body.card_number",
 *       "response.body.token"]}; a segment {@code *} matches every key of an object or element of
 *       an array. The paths apply to the {@code exchange.decided} event that carries the decision
 *       and to the later events of the same exchange (the response).
 * </ul>
 *
 * <p>Values are replaced by {@value #MARKER}; the concrete paths replaced are returned so the event
 * records them. The typed body is never changed: a redacted event is written from a copy of its
 * JSON tree, built only when something is to be redacted.
 *
 * <p>Threading: thread-safe; the remembered paths per exchange are guarded by this object.
 */
final class Redactor {

  /** What a redacted value is replaced with. */
  static final String MARKER = "[redacted]";

  /** Exchanges remembered at once (a crash of an exchange must not leak memory without bound). */
  private static final int MAX_REMEMBERED = 65_536;

  private final Set<String> headers;
  private final Map<String, List<String>> pathsByExchange =
      new LinkedHashMap<>(256, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
          return size() > MAX_REMEMBERED;
        }
      };

  Redactor(Set<String> headers) {
    this.headers = headers;
  }

  /**
   * What to write instead of an event's body, and the paths redacted in it.
   *
   * @param body the body with secrets replaced, or null when nothing was redacted (the event's own
   *     body is written)
   * @param redacted the paths replaced
   */
  record Result(ObjectNode body, List<String> redacted) {
    static final Result NONE = new Result(null, List.of());
  }

  Result redact(LedgerEvent event) {
    List<String> policyPaths = policyPaths(event);
    Map<String, Map<String, String>> headerMaps = event.body().redactableHeaders();
    if (!hasSecretHeader(headerMaps) && policyPaths.isEmpty()) {
      return Result.NONE;
    }
    ObjectNode copy = LedgerEventCodec.tree(event.body());
    List<String> done = new ArrayList<>();
    for (String side : headerMaps.keySet()) {
      redactHeaders(copy, side, done);
    }
    for (String path : policyPaths) {
      redactPath(copy, path.split("\\."), 0, "", done);
    }
    if (done.isEmpty()) {
      return Result.NONE;
    }
    return new Result(copy, List.copyOf(done));
  }

  private List<String> policyPaths(LedgerEvent event) {
    String id = event.exchangeId();
    if (event.body() instanceof ExchangeDecided decided) {
      JsonNode obligations = decided.decision() == null ? null : decided.decision().obligations();
      JsonNode named = obligations == null ? null : obligations.path("redact");
      if (named == null || !named.isArray() || named.isEmpty()) {
        return List.of();
      }
      List<String> paths = new ArrayList<>();
      named.forEach(p -> {
        if (p.isTextual() && !p.textValue().isBlank()) {
          paths.add(p.textValue().strip());
        }
      });
      synchronized (this) {
        pathsByExchange.put(id, List.copyOf(paths));
      }
      return paths;
    }
    synchronized (this) {
      List<String> paths =
          event.body() instanceof ExchangeOutcome ? pathsByExchange.remove(id) : pathsByExchange.get(id);
      return paths == null ? List.of() : paths;
    }
  }

  private boolean hasSecretHeader(Map<String, Map<String, String>> headerMaps) {
    for (Map<String, String> h : headerMaps.values()) {
      for (Map.Entry<String, String> e : h.entrySet()) {
        if (isSecret(e.getKey()) && !MARKER.equals(e.getValue())) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean isSecret(String name) {
    return headers.contains(name) || headers.contains(name.toLowerCase(java.util.Locale.ROOT));
  }

  private void redactHeaders(ObjectNode body, String side, List<String> done) {
    JsonNode h = body.path(side).path("headers");
    if (!h.isObject()) {
      return;
    }
    ObjectNode o = (ObjectNode) h;
    List<String> names = new ArrayList<>();
    o.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      if (isSecret(name) && !MARKER.equals(o.get(name).asText())) {
        o.set(name, TextNode.valueOf(MARKER));
        done.add(side + ".headers." + name);
      }
    }
  }

  private static void redactPath(JsonNode node, String[] segs, int i, String at, List<String> done) {
    if (i == segs.length - 1) {
      String last = segs[i];
      if (node instanceof ObjectNode o) {
        if ("*".equals(last)) {
          List<String> names = new ArrayList<>();
          o.fieldNames().forEachRemaining(names::add);
          for (String n : names) {
            o.set(n, TextNode.valueOf(MARKER));
            done.add(at + n);
          }
        } else if (o.has(last)) {
          o.set(last, TextNode.valueOf(MARKER));
          done.add(at + last);
        }
      } else if (node instanceof ArrayNode a) {
        for (int k = 0; k < a.size(); k++) {
          if ("*".equals(last) || last.equals(Integer.toString(k))) {
            a.set(k, TextNode.valueOf(MARKER));
            done.add(at + k);
          }
        }
      }
      return;
    }
    String seg = segs[i];
    if (node instanceof ObjectNode o) {
      if ("*".equals(seg)) {
        o.properties().forEach(e -> redactPath(e.getValue(), segs, i + 1, at + e.getKey() + ".", done));
      } else if (o.has(seg)) {
        redactPath(o.get(seg), segs, i + 1, at + seg + ".", done);
      }
    } else if (node instanceof ArrayNode a) {
      for (int k = 0; k < a.size(); k++) {
        if ("*".equals(seg) || seg.equals(Integer.toString(k))) {
          redactPath(a.get(k), segs, i + 1, at + k + ".", done);
        }
      }
    }
  }
}
