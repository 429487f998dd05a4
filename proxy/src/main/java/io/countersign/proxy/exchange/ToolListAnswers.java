package io.countersign.proxy.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.countersign.policy.Decision;
import io.countersign.proxy.canonical.CanonicalRequest;
import io.countersign.proxy.canonical.McpCall;
import io.countersign.proxy.mcp.SseEvent;
import io.countersign.proxy.mcp.SseParser;
import io.countersign.proxy.mcp.ToolListFilter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The answer to an MCP {@code tools/list} request, with the tools the policy would never let the
 * agent call taken out ({@link ToolListFilter}, the decision's {@code mcp.listable_tools}), so
 * the model is not offered them. The one message whose id is the request's is filtered: a plain
 * JSON answer, or the {@code data} of an event of a {@code text/event-stream} answer (how MCP
 * servers usually answer a POST). Other messages pass unchanged. Not thread-safe: one per answer.
 */
final class ToolListAnswers {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The longest event of a tools/list stream read; a longer one cuts the stream. */
  private static final int MAX_EVENT = 4 << 20;

  private final ToolListFilter filter;
  private final Set<String> ids; // the tools/list requests' ids, as JSON text
  private SseParser parser;
  private int removed;

  private ToolListAnswers(ToolListFilter filter, Set<String> ids) {
    this.filter = filter;
    this.ids = ids;
  }

  /** The filter for {@code r}'s answer, or null when it asks for no tool list. */
  static ToolListAnswers of(CanonicalRequest r, Decision d) {
    McpCall mcp = r.mcp();
    if (mcp == null) {
      return null;
    }
    Set<String> ids = new HashSet<>();
    for (McpCall.Message m : mcp.messages()) {
      if (m.kind() == McpCall.Kind.REQUEST && "tools/list".equals(m.method()) && m.id() != null) {
        ids.add(m.id().toString());
      }
    }
    return ids.isEmpty() ? null
        : new ToolListAnswers(ToolListFilter.fromDecision(d.obligations()), Set.copyOf(ids));
  }

  /** How many tools were taken out so far. */
  int removed() {
    return removed;
  }

  /**
   * A whole JSON answer with the tool list filtered: {@code body} itself when nothing was taken
   * out, else new bytes. A batch answer (an array) has each of its tools/list answers filtered.
   *
   * @throws ToolListFilter.UnreadableToolList when the answer to the tools/list is not one
   */
  byte[] whole(byte[] body) throws ToolListFilter.UnreadableToolList {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new ToolListFilter.UnreadableToolList("the tools/list answer is not JSON: "
          + e.getMessage());
    }
    if (root == null || !root.isArray()) {
      return message(body, root);
    }
    boolean changed = false;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write('[');
    for (int i = 0; i < root.size(); i++) {
      byte[] one;
      try {
        one = JSON.writeValueAsBytes(root.get(i));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      byte[] filtered = message(one, root.get(i));
      changed |= filtered != one;
      out.write(filtered, 0, filtered.length);
      if (i + 1 < root.size()) {
        out.write(',');
      }
    }
    out.write(']');
    return changed ? out.toByteArray() : body;
  }

  /**
   * The next piece of an event-stream answer, as it is passed on: every complete event, the
   * tools/list answer among them filtered (an event not yet complete waits for the next piece).
   * Takes ownership of {@code piece}.
   */
  ByteBuf stream(ByteBuf piece) throws ToolListFilter.UnreadableToolList, SseParser.EventTooLarge {
    try {
      parser = parser == null ? new SseParser(MAX_EVENT) : parser;
      return events(parser.feed(ByteBufUtil.getBytes(piece)));
    } finally {
      piece.release();
    }
  }

  private ByteBuf events(List<SseEvent> events) throws ToolListFilter.UnreadableToolList {
    if (events.isEmpty()) {
      return Unpooled.EMPTY_BUFFER;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (SseEvent e : events) {
      SseEvent passed = e;
      if (e.data() != null && e.data().contains("\"tools\"")) {
        byte[] data = e.data().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        JsonNode root;
        try {
          root = JSON.readTree(data);
        } catch (IOException notJson) {
          root = null; // not a JSON-RPC message: not the tool list
        }
        byte[] filtered = root == null ? data : message(data, root);
        if (filtered != data) {
          passed = e.withData(new String(filtered, java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      byte[] bytes = passed.encode();
      out.write(bytes, 0, bytes.length);
    }
    return Unpooled.wrappedBuffer(out.toByteArray());
  }

  /** One JSON-RPC message: filtered when it answers a tools/list request, else as it is. */
  private byte[] message(byte[] bytes, JsonNode root) throws ToolListFilter.UnreadableToolList {
    if (root == null || !root.isObject() || !root.has("id") || !ids.contains(root.get("id").toString())) {
      return bytes;
    }
    ToolListFilter.Filtered f = filter.filter(bytes);
    removed += f.removed().size();
    return f.message();
  }
}
