/**
 * The answer side of MCP routes: what the agent may see of an MCP server's answers. Pure
 * functions of bytes, free of Netty and of the exchange flow, so the streaming answer path can
 * apply them per message: {@link io.countersign.proxy.mcp.ToolListFilter} (a {@code tools/list}
 * result without the tools the policy would never let the agent call) and the Server-Sent Events
 * framing the streamable HTTP transport answers in ({@link io.countersign.proxy.mcp.SseParser},
 * {@link io.countersign.proxy.mcp.SseEvent}).
 */
package io.countersign.proxy.mcp;
