package io.countersign.proxy.approval;

import java.util.List;
import java.util.Map;

/**
 * What an approved async request got from the upstream, kept for the agent's ticket.
 *
 * @param status the upstream's status, or the proxy's error status (502/504)
 * @param headers the response headers to give the agent
 * @param body the response body
 * @param error the proxy's error code when no upstream answer came, else null
 */
public record TicketResult(int status, List<Map.Entry<String, String>> headers, byte[] body, String error) {}
