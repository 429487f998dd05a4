package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of a form or multipart body: the names as sent (the policy's {@code request.body}
 * for forms) and the same fields read as nested objects the way bracket-aware frameworks read
 * them ({@code request.body_nested}). Names that frameworks read differently are refused.
 *
 * <p>The name rule: a base of letters, digits, {@code _ - :} (PHP turns {@code .} and spaces in a
 * base name into {@code _}, and dotted names nest in Spring and qs, so {@code discount.pct} could
 * be {@code discount_pct} upstream), then at most five {@code [key]} groups (qs stops nesting
 * after five and keeps the rest as a literal key), keys without brackets or control characters;
 * {@code []} (append) only as the last group. A name that is both a value and a parent ({@code
 * a=1&a[b]=2}), or both an appended list and a value or object, is refused: frameworks keep one
 * or the other, or merge them, differently. Not thread-safe: one per body.
 */
final class FormFields {
  static final int MAX_FIELDS = 1000;
  private static final int MAX_GROUPS = 5;
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final String where;
  private final ObjectNode verbatim = NODES.objectNode();
  private final ObjectNode nested = NODES.objectNode();
  private final Map<String, Boolean> appendLeaves = new HashMap<>();
  private int count;

  /** @param where names the body in errors, e.g. "form" */
  FormFields(String where) {
    this.where = where;
  }

  /** Adds one field; {@code value} is a text node, or a file's description. */
  void add(String name, JsonNode value) throws RequestRejectedException {
    if (++count > MAX_FIELDS) {
      throw new RequestRejectedException(400, "body_too_many_fields", "the " + where + " body has"
          + " more than " + MAX_FIELDS + " fields; PHP (max_input_vars) and qs (parameterLimit)"
          + " ignore the rest, so the policy would judge fields the upstream never reads");
    }
    List<String> path = new ArrayList<>(MAX_GROUPS + 1);
    boolean append = parse(name, path);
    ObjectNode parent = nested;
    StringBuilder key = new StringBuilder();
    for (int i = 0; i < path.size() - 1; i++) {
      String seg = path.get(i);
      key.append('\u0000').append(seg);
      JsonNode child = parent.get(seg);
      if (child == null) {
        child = parent.putObject(seg);
      } else if (!child.isObject()) {
        throw conflict(name);
      }
      parent = (ObjectNode) child;
    }
    String last = path.get(path.size() - 1);
    key.append('\u0000').append(last);
    JsonNode existing = parent.get(last);
    if (existing == null) {
      parent.putArray(last).add(value);
      appendLeaves.put(key.toString(), append);
    } else if (existing.isArray() && appendLeaves.get(key.toString()) == append) {
      ((ArrayNode) existing).add(value);
    } else {
      throw conflict(name);
    }
    JsonNode list = verbatim.get(name);
    (list == null ? verbatim.putArray(name) : (ArrayNode) list).add(value);
  }

  /** Names as sent, to arrays of values. */
  ObjectNode verbatim() {
    return verbatim;
  }

  /** The nested reading. */
  ObjectNode nested() {
    return nested;
  }

  /**
   * Splits a name into its path (base, then keys; a final {@code []} is left out) and says whether
   * it ends in {@code []}.
   */
  private boolean parse(String name, List<String> path) throws RequestRejectedException {
    int i = 0;
    while (i < name.length() && name.charAt(i) != '[') {
      char c = name.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
          || c == '-' || c == ':')) {
        throw badName(name, "its base name holds '" + printable(c) + "'; use letters, digits,"
            + " '_', '-' and ':' (PHP reads '.' and ' ' as '_', Spring and qs read '.' as"
            + " nesting)");
      }
      i++;
    }
    if (i == 0) {
      throw badName(name, "it has no base name before its first '['");
    }
    path.add(name.substring(0, i));
    boolean append = false;
    int groups = 0;
    while (i < name.length()) {
      if (append) {
        throw badName(name, "'[]' stands before another group; it may only end a name");
      }
      if (name.charAt(i) != '[') {
        throw badName(name, "'" + printable(name.charAt(i)) + "' follows a ']'; only another"
            + " '[key]' may");
      }
      int close = name.indexOf(']', i + 1);
      if (close < 0) {
        throw badName(name, "a '[' is not closed (PHP reads it as '_')");
      }
      String key = name.substring(i + 1, close);
      for (int k = 0; k < key.length(); k++) {
        char c = key.charAt(k);
        if (c == '[' || c < 0x20 || c == 0x7f) {
          throw badName(name, "a key holds '" + printable(c) + "'");
        }
      }
      if (++groups > MAX_GROUPS) {
        throw badName(name, "it nests more than " + MAX_GROUPS + " levels deep (qs keeps deeper"
            + " keys as one literal key)");
      }
      if (key.isEmpty()) {
        append = true;
      } else {
        path.add(key);
      }
      i = close + 1;
    }
    return append;
  }

  private static String printable(char c) {
    return c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }

  private RequestRejectedException badName(String name, String why) {
    return new RequestRejectedException(400, "form_name_ambiguous", "the " + where + " field name '"
        + name + "' is read differently by different frameworks: " + why);
  }

  private RequestRejectedException conflict(String name) {
    return new RequestRejectedException(400, "form_name_ambiguous", "the " + where + " field '"
        + name + "' clashes with another field of the same name used as a value, a list or an"
        + " object (a=1 with a[b]=2, or a[]=1 with a=2); frameworks keep one or merge them"
        + " differently");
  }
}
