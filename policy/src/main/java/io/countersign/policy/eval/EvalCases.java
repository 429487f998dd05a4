package io.countersign.policy.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.countersign.policy.PolicyInput;
import io.countersign.policy.PolicyJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a file of eval cases (already parsed from YAML or JSON into a tree). The format:
 *
 * <pre>{@code
 * defaults:                       # optional, applied to every short-form case
 *   caller: {agent: sales-assistant, workflow: quote-prep, account: acme}
 *   time: "2026-11-25T10:00:00Z"
 *   spend: {workflow_today: 3}
 * cases:
 *   - note: a discount at the limit
 *     request: PATCH crm /v3/deals/42      # METHOD ROUTE UPSTREAM_PATH[?QUERY]
 *     body: {discount_pct: 15}
 *     caller: {tool: update_deal}          # merged over defaults.caller
 *     want: {action: allow, risk: low, rule: crm.deal_update}
 *   - note: the whole input, as the proxy sends it
 *     input: {request: {...}, caller: {...}, context: {...}}
 *     want: {action: deny, rule: default_deny}
 * }</pre>
 *
 * <p>The short form is expanded the way the proxy builds an input: the path with the route prefix
 * is {@code /ROUTE + UPSTREAM_PATH}; headers default to {@code content-type: application/json}
 * when there is a body; {@code body_sha256} and {@code size} are those of the body's compact JSON;
 * caller fields not given are null. Unknown keys are errors, so a typo ({@code wnat}) never makes
 * a case pass silently.
 *
 * <p>Stateless and thread-safe.
 */
public final class EvalCases {
  /** The time of short-form cases that name none, so every run judges the same input. */
  public static final String DEFAULT_TIME = "2026-01-01T00:00:00Z";

  private static final Set<String> TOP_KEYS = Set.of("description", "defaults", "cases");
  private static final Set<String> DEFAULT_KEYS = Set.of("caller", "time", "spend");
  private static final Set<String> CASE_KEYS =
      Set.of("note", "input", "request", "body", "headers", "query", "caller", "time", "spend", "want");
  private static final Set<String> REQUEST_KEYS =
      Set.of("method", "route", "path", "query", "headers", "body");
  private static final Set<String> CALLER_KEYS =
      Set.of(
          "agent", "workflow", "run", "on_behalf_of", "account", "tool", "prompt_ref",
          "context_refs");
  private static final Set<String> WANT_KEYS = Set.of("action", "risk", "rule");

  private EvalCases() {}

  /**
   * Reads the cases of one file.
   *
   * @param source the file's name, for error messages
   * @param doc the parsed file
   * @throws IllegalArgumentException naming the file, the case (number and note) and the key when
   *     the file is not a valid case file
   */
  public static List<EvalCase> read(String source, JsonNode doc) {
    if (doc == null || !doc.isObject()) {
      throw new IllegalArgumentException(source + ": expected a mapping with a 'cases' list");
    }
    requireKeys(source, "the file", doc, TOP_KEYS);
    JsonNode defaults = doc.path("defaults");
    if (!defaults.isMissingNode()) {
      requireObject(source, "defaults", defaults);
      requireKeys(source, "defaults", defaults, DEFAULT_KEYS);
    }
    JsonNode cases = doc.path("cases");
    if (!cases.isArray() || cases.isEmpty()) {
      throw new IllegalArgumentException(source + ": 'cases' must be a non-empty list");
    }
    List<EvalCase> out = new ArrayList<>(cases.size());
    for (int i = 0; i < cases.size(); i++) {
      JsonNode c = cases.get(i);
      String where = "case " + (i + 1) + (c.path("note").isTextual() ? " (" + c.path("note").textValue() + ")" : "");
      try {
        out.add(readCase(c, defaults));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ": " + where + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static EvalCase readCase(JsonNode c, JsonNode defaults) {
    requireObject("", "the case", c);
    requireKeys(null, null, c, CASE_KEYS);
    JsonNode note = c.path("note");
    if (!note.isTextual() || note.textValue().isBlank()) {
      throw new IllegalArgumentException("'note' must say what the case is about");
    }
    Expectation want = expectation(c.path("want"));
    boolean full = c.has("input");
    if (full == c.has("request")) {
      throw new IllegalArgumentException("give either 'input' (the whole input) or 'request' (the short form)");
    }
    if (full) {
      for (String key : List.of("body", "headers", "query", "caller", "time", "spend")) {
        if (c.has(key)) {
          throw new IllegalArgumentException("'" + key + "' belongs to the short form; with 'input', put it inside the input");
        }
      }
      return new EvalCase(note.textValue(), fullInput(c.get("input")), want);
    }
    return new EvalCase(note.textValue(), expand(c, defaults), want);
  }

  private static Expectation expectation(JsonNode want) {
    if (!want.isObject()) {
      throw new IllegalArgumentException("'want' must be a mapping of action, risk and/or rule");
    }
    requireKeys(null, "want", want, WANT_KEYS);
    try {
      return new Expectation(text(want, "action"), text(want, "risk"), text(want, "rule"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'want' " + e.getMessage().replace("an expectation ", ""), e);
    }
  }

  private static PolicyInput fullInput(JsonNode input) {
    if (!input.isObject()) {
      throw new IllegalArgumentException("'input' must be a mapping with request, caller and context");
    }
    try {
      return PolicyJson.mapper().treeToValue(input, PolicyInput.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("'input' is not a policy input: " + e.getOriginalMessage(), e);
    }
  }

  private static PolicyInput expand(JsonNode c, JsonNode defaults) {
    JsonNode req = c.get("request");
    String method;
    String route;
    String target;
    JsonNode body = c.path("body");
    JsonNode headers = c.path("headers");
    JsonNode query = c.path("query");
    if (req.isTextual()) {
      String[] parts = req.textValue().trim().split("\\s+");
      if (parts.length != 3) {
        throw new IllegalArgumentException(
            "'request' must read 'METHOD ROUTE /upstream/path[?query]', got '" + req.textValue() + "'");
      }
      method = parts[0];
      route = parts[1];
      target = parts[2];
    } else if (req.isObject()) {
      requireKeys(null, "request", req, REQUEST_KEYS);
      for (String key : List.of("body", "headers", "query")) {
        if (req.has(key) && c.has(key)) {
          throw new IllegalArgumentException("'" + key + "' is given twice, in the case and in 'request'");
        }
      }
      method = required(req, "method");
      route = required(req, "route");
      target = required(req, "path");
      body = req.has("body") ? req.get("body") : body;
      headers = req.has("headers") ? req.get("headers") : headers;
      query = req.has("query") ? req.get("query") : query;
    } else {
      throw new IllegalArgumentException("'request' must be 'METHOD ROUTE /path' or a mapping");
    }
    int q = target.indexOf('?');
    String upstreamPath = q < 0 ? target : target.substring(0, q);
    if (!upstreamPath.startsWith("/")) {
      throw new IllegalArgumentException("the request path must start with '/', got '" + target + "'");
    }
    Map<String, List<String>> params = new LinkedHashMap<>(q < 0 ? Map.of() : QueryParameters.parse(target.substring(q + 1)));
    params.putAll(queryOf(query));
    JsonNode bodyValue = body.isMissingNode() ? null : body;
    if (bodyValue != null && bodyValue.isNull()) {
      bodyValue = null;
    }
    byte[] bytes = bodyValue == null ? new byte[0] : bodyValue.toString().getBytes(StandardCharsets.UTF_8);
    Map<String, String> headerMap = new LinkedHashMap<>();
    if (bodyValue != null) {
      headerMap.put("content-type", "application/json");
    }
    headerMap.putAll(stringMap("headers", headers));
    ObjectNode caller = JsonNodeFactory.instance.objectNode();
    merge(caller, defaults.path("caller"), "defaults.caller");
    merge(caller, c.path("caller"), "caller");
    JsonNode time = c.has("time") ? c.get("time") : defaults.path("time");
    JsonNode spend = c.has("spend") ? c.get("spend") : defaults.path("spend");
    return new PolicyInput(
        new PolicyInput.Request(
            method,
            route,
            "/" + route + upstreamPath,
            upstreamPath,
            params,
            headerMap,
            bodyValue,
            sha256(bytes),
            bytes.length),
        callerOf(caller),
        new PolicyInput.Context(time.isTextual() ? time.textValue() : DEFAULT_TIME, spendOf(spend)));
  }

  private static Map<String, List<String>> queryOf(JsonNode query) {
    if (query.isMissingNode() || query.isNull()) {
      return Map.of();
    }
    if (!query.isObject()) {
      throw new IllegalArgumentException("'query' must map names to a value or a list of values");
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : query.properties()) {
      List<String> values = new ArrayList<>();
      if (e.getValue().isArray()) {
        e.getValue().forEach(v -> values.add(v.asText()));
      } else {
        values.add(e.getValue().asText());
      }
      out.put(e.getKey(), List.copyOf(values));
    }
    return out;
  }

  private static Map<String, String> stringMap(String what, JsonNode node) {
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException("'" + what + "' must be a mapping");
    }
    Map<String, String> out = new LinkedHashMap<>();
    node.properties().forEach(e -> out.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue().asText()));
    return out;
  }

  private static void merge(ObjectNode into, JsonNode from, String what) {
    if (from.isMissingNode() || from.isNull()) {
      return;
    }
    if (!from.isObject()) {
      throw new IllegalArgumentException("'" + what + "' must be a mapping");
    }
    requireKeys(null, what, from, CALLER_KEYS);
    into.setAll((ObjectNode) from);
  }

  private static PolicyInput.Caller callerOf(ObjectNode c) {
    List<String> refs = null;
    JsonNode r = c.path("context_refs");
    if (r.isArray()) {
      refs = new ArrayList<>();
      for (JsonNode v : r) {
        refs.add(v.asText());
      }
    }
    return new PolicyInput.Caller(
        text(c, "agent"), text(c, "workflow"), text(c, "run"), text(c, "on_behalf_of"),
        text(c, "account"), text(c, "tool"), text(c, "prompt_ref"), refs);
  }

  static Map<String, Long> spendOf(JsonNode spend) {
    if (spend.isMissingNode() || spend.isNull()) {
      return Map.of();
    }
    if (!spend.isObject()) {
      throw new IllegalArgumentException("'spend' must map counters to numbers");
    }
    Map<String, Long> out = new LinkedHashMap<>();
    spend.properties().forEach(e -> {
      if (!e.getValue().canConvertToLong() || !e.getValue().isNumber()) {
        throw new IllegalArgumentException("spend counter '" + e.getKey() + "' must be a whole number");
      }
      out.put(e.getKey(), e.getValue().longValue());
    });
    return out;
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException("'" + key + "' must be a string, got " + v);
    }
    return v.textValue();
  }

  private static String required(JsonNode node, String key) {
    String v = text(node, key);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("'request." + key + "' is required");
    }
    return v;
  }

  private static void requireObject(String source, String what, JsonNode node) {
    if (!node.isObject()) {
      throw new IllegalArgumentException((source == null || source.isEmpty() ? "" : source + ": ") + what + " must be a mapping");
    }
  }

  private static void requireKeys(String source, String what, JsonNode node, Set<String> allowed) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        String prefix = source == null ? "" : source + ": ";
        String in = what == null ? "" : " in " + what;
        throw new IllegalArgumentException(
            prefix + "unknown key '" + key + "'" + in + " (expected one of " + new java.util.TreeSet<>(allowed) + ")");
      }
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
