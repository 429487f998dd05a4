"""The support team's MCP server, built with the official MCP Python SDK (mcp 2.x MCPServer).

Serves the support-mcp business tools of rego/countersign/mcp_catalog/data.json over streamable
HTTP on 127.0.0.1:PORT at /mcp, with the SDK's defaults (stateful sessions, POST answers as SSE).
Every tool call the server runs is appended as one JSON line to CALLS_FILE, so a test can tell
which calls reached it.

Usage: mcp_support_server.py PORT CALLS_FILE
"""

import json
import sys

from mcp.server.mcpserver import MCPServer

port = int(sys.argv[1])
calls_file = sys.argv[2]
server = MCPServer("support-mcp", log_level="WARNING")


def record(tool: str, arguments: dict) -> None:
    with open(calls_file, "a", encoding="utf-8") as f:
        f.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")


@server.tool()
def lookup_customer(id: str) -> str:
    """Looks up a customer by id."""
    record("lookup_customer", {"id": id})
    return json.dumps({"id": id, "name": "Ada Lovelace", "tier": "gold"})


@server.tool()
def list_orders(customer: str) -> str:
    """Lists a customer's orders."""
    record("list_orders", {"customer": customer})
    return json.dumps([{"order": "o-7", "customer": customer, "total": 950}])


@server.tool()
def issue_refund(amount: float, order: str) -> str:
    """Refunds an amount on an order."""
    record("issue_refund", {"amount": amount, "order": order})
    return f"refunded {amount:g} on {order}"


@server.tool()
def delete_customer(id: str) -> str:
    """Deletes a customer (the policy forbids it to agents)."""
    record("delete_customer", {"id": id})
    return f"deleted {id}"


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=port)
