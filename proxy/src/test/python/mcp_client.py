"""Drives an MCP server through Countersign with the official MCP Python SDK's own client.

Prints one JSON line per step, flushed at once, so a test can follow (and act on) what the
client saw while it runs.

Usage: mcp_client.py URL SCENARIO
  support   initialize, list the tools, call lookup_customer, delete_customer (denied) and
            issue_refund 950 (held: the test approves it while the call waits)
  timeouts  the client's default timeouts, then a held call with a 2 s HTTP read timeout and
            one with a 2 s session read timeout (nobody approves them)
"""

import asyncio
import json
import sys
import time

import httpx2
from mcp import MCPError
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


def text_of(result) -> dict:
    return {"is_error": result.is_error,
            "text": [c.text for c in result.content if getattr(c, "type", None) == "text"]}


async def attempt(step: str, call) -> None:
    """Runs one call and prints its result or what the SDK raised, with the time it took."""
    started = time.monotonic()
    try:
        result = await call()
        say(step=step, ok=True, seconds=round(time.monotonic() - started, 3), **text_of(result))
    except MCPError as e:
        say(step=step, ok=False, seconds=round(time.monotonic() - started, 3),
            exception=type(e).__name__, code=e.error.code, message=str(e),
            data=e.error.data if isinstance(e.error.data, (dict, list, str, int, float)) else None)
    except Exception as e:  # what the transport raised: the test reports its type and text
        say(step=step, ok=False, seconds=round(time.monotonic() - started, 3),
            exception=type(e).__name__, message=str(e))


async def support(url: str) -> None:
    async with Client(url) as client:
        say(step="initialize", protocol_version=client.protocol_version,
            server=client.server_info.name if client.server_info else None)
        tools = await client.list_tools()
        say(step="list_tools", tools=[t.name for t in tools.tools])
        await attempt("lookup_customer", lambda: client.call_tool("lookup_customer", {"id": "c-42"}))
        await attempt("delete_customer", lambda: client.call_tool("delete_customer", {"id": "c-42"}))
        say(step="issue_refund_sent")
        await attempt("issue_refund", lambda: client.call_tool(
            "issue_refund", {"amount": 950, "order": "o-7"}))
    say(step="closed")


async def timeouts(url: str) -> None:
    default = create_mcp_http_client()
    say(step="defaults", http_read=default.timeout.read, http_connect=default.timeout.connect,
        session_read=Client(url).read_timeout_seconds)
    await default.aclose()
    # a read timeout of the HTTP client fails in the transport's own task, which ends the whole
    # connection (an ExceptionGroup out of the client's context), not just the one call
    started = time.monotonic()
    short = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=2.0))
    try:
        async with short, Client(streamable_http_client(url, http_client=short)) as client:
            await attempt("http_read_2s_call", lambda: client.call_tool(
                "issue_refund", {"amount": 951, "order": "o-8"}))
        say(step="http_read_2s", ok=True, seconds=round(time.monotonic() - started, 3))
    except BaseExceptionGroup as group:
        say(step="http_read_2s", ok=False, seconds=round(time.monotonic() - started, 3),
            exception=type(group).__name__, causes=leaves(group))
    async with Client(url, read_timeout_seconds=2.0) as client:
        await attempt("session_read_2s", lambda: client.call_tool(
            "issue_refund", {"amount": 952, "order": "o-9"}))


def leaves(group: BaseExceptionGroup) -> list:
    out = []
    for e in group.exceptions:
        out.extend(leaves(e) if isinstance(e, BaseExceptionGroup) else [type(e).__module__ + "." + type(e).__name__])
    return out

if __name__ == "__main__":
    target, scenario = sys.argv[1], sys.argv[2]
    asyncio.run({"support": support, "timeouts": timeouts}[scenario](target))
