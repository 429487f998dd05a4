package io.countersign.proxy.canonical;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What a request on an MCP route asks for, read from the exact bytes forwarded: the JSON-RPC 2.0
 * messages of its body, and the session and protocol revision its headers name. The policy sees it
 * as {@code input.mcp} (docs/mcp.md).
 *
 * @param messages the body's messages in order: one for a single message, each of a batch, none
 *     for a request without a body (the GET that opens the server's event stream, the DELETE that
 *     ends a session)
 * @param batch whether the body was a JSON array of messages (a batch, which only revisions before
 *     2025-06-18 allow)
 * @param sessionId the {@code Mcp-Session-Id} header, or null
 * @param protocolVersion the {@code MCP-Protocol-Version} header, or null
 */
public record McpCall(List<Message> messages, boolean batch, String sessionId,
    String protocolVersion) {

  /** Copies the messages. */
  public McpCall {
    messages = List.copyOf(messages);
  }

  /** What a JSON-RPC message is. */
  public enum Kind {
    /** A method call that expects an answer: {@code method} and {@code id}. */
    REQUEST,
    /** A method call without an answer: {@code method}, no {@code id}. */
    NOTIFICATION,
    /** The client's answer to a server's request: {@code id} and {@code result} or {@code error}. */
    RESPONSE
  }

  /**
   * One JSON-RPC message.
   *
   * @param kind request, notification or response
   * @param method the method, e.g. {@code tools/call}; null for a response
   * @param id the request id (a string or an integer) as sent; null for a notification
   * @param tool for {@code tools/call}: {@code params.name}; else null
   * @param arguments for {@code tools/call} and {@code prompts/get}: {@code params.arguments} (an
   *     object), or null when absent
   * @param uri for {@code resources/read}, {@code resources/subscribe} and {@code
   *     resources/unsubscribe}: {@code params.uri}; else null
   * @param prompt for {@code prompts/get}: {@code params.name}; else null
   */
  public record Message(Kind kind, String method, JsonNode id, String tool, JsonNode arguments,
      String uri, String prompt) {

    /** Whether this message is a notification. */
    public boolean isNotification() {
      return kind == Kind.NOTIFICATION;
    }
  }

  /** The one message of a request that is not a batch, or null (a batch, or no body). */
  public Message single() {
    return !batch && messages.size() == 1 ? messages.get(0) : null;
  }
}
