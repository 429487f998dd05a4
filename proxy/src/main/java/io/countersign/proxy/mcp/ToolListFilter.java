package io.countersign.proxy.mcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Takes out of a {@code tools/list} result the tools the policy would never let the agent call,
 * so the model is not offered them. The policy names the listable tools in the decision for the
 * {@code tools/list} request: the obligation {@code "mcp": {"listable_tools": [...]}}
 * (docs/mcp.md); a decision without it lists no tool (fail closed).
 *
 * <p>Applied to the one JSON-RPC message that answers the {@code tools/list} request (matched by
 * its id): a plain {@code application/json} answer, or the {@code data} of one SSE event. An
 * error response passes unchanged; a message that lists nothing to remove is returned as the same
 * bytes; otherwise the message is written again with the same members in the same order, less
 * the removed tools. Immutable and thread-safe.
 */
public final class ToolListFilter {
  private static final ObjectMapper JSON = new ObjectMapper(
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  private final Predicate<String> listable;

  /** @param listable whether the agent may see the tool of this name */
  public ToolListFilter(Predicate<String> listable) {
    this.listable = listable;
  }

  /**
   * The filter a decision asks for: the tools its {@code mcp.listable_tools} names (strings only);
   * none when the obligation is missing or malformed.
   *
   * @param obligations the decision's obligations (the decision object as the policy returned it)
   */
  public static ToolListFilter fromDecision(JsonNode obligations) {
    JsonNode names = obligations == null ? null : obligations.path("mcp").path("listable_tools");
    Set<String> allowed = new HashSet<>();
    if (names != null && names.isArray()) {
      names.forEach(n -> {
        if (n.isTextual()) {
          allowed.add(n.textValue());
        }
      });
    }
    return new ToolListFilter(Set.copyOf(allowed)::contains);
  }

  /**
   * The result of filtering one message.
   *
   * @param message the bytes to pass on (the input itself when nothing was removed)
   * @param removed the names of the tools taken out, in the order listed (a tool without a
   *     string name as {@code null})
   */
  public record Filtered(byte[] message, List<String> removed) {
    /** Copies the removed names. */
    public Filtered {
      removed = java.util.Collections.unmodifiableList(new ArrayList<>(removed));
    }
  }

  /** A message that cannot be a {@code tools/list} answer: the proxy answers 502, failing closed. */
  public static final class UnreadableToolList extends Exception {
    private static final long serialVersionUID = 1L;

    UnreadableToolList(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Filters one JSON-RPC message answering {@code tools/list}.
   *
   * @throws UnreadableToolList when the bytes are not one JSON object (duplicate names refused),
   *     or a result without a {@code tools} array
   */
  public Filtered filter(byte[] message) throws UnreadableToolList {
    JsonNode root;
    try (JsonParser p = JSON.getFactory().createParser(message)) {
      root = JSON.readTree(p);
      if (p.nextToken() != null) {
        throw new UnreadableToolList("the tools/list answer has content after its JSON value");
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UnreadableToolList("the tools/list answer is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UnreadableToolList("the tools/list answer cannot be read: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new UnreadableToolList("the tools/list answer is not a JSON-RPC message (an object)");
    }
    if (root.has("error") && !root.has("result")) {
      return new Filtered(message, List.of());
    }
    JsonNode tools = root.path("result").path("tools");
    if (!tools.isArray()) {
      throw new UnreadableToolList("the tools/list answer has no result.tools array");
    }
    List<String> removed = new ArrayList<>();
    ArrayNode kept = JSON.createArrayNode();
    for (JsonNode tool : tools) {
      JsonNode name = tool.path("name");
      if (name.isTextual() && listable.test(name.textValue())) {
        kept.add(tool);
      } else {
        removed.add(name.isTextual() ? name.textValue() : null);
      }
    }
    if (removed.isEmpty()) {
      return new Filtered(message, List.of());
    }
    ((ObjectNode) root.get("result")).set("tools", kept);
    try {
      return new Filtered(JSON.writeValueAsBytes(root), removed);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a JSON tree", e);
    }
  }
}
