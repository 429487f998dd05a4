"""Streams a chat completion with the official openai client, directly and through the proxy, and
prints one JSON line: the time to the first chunk each way (median of RUNS), the text each way,
and what the client raised on a last call (a money budget spent by then).

Usage: openai_stream.py DIRECT_BASE_URL PROXY_BASE_URL RUNS   (run by OpenAiStreamIT)
"""
import json
import statistics
import sys
import time

import openai


def stream(client):
    started = time.perf_counter()
    first = None
    text = []
    usage = None
    for chunk in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "say hello"}],
            stream=True, stream_options={"include_usage": True}):
        if first is None:
            first = (time.perf_counter() - started) * 1000
        for choice in chunk.choices:
            if choice.delta.content:
                text.append(choice.delta.content)
        if chunk.usage is not None:
            usage = chunk.usage.total_tokens
    return first, "".join(text), usage


def main():
    direct_url, proxy_url, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    direct = openai.OpenAI(api_key="sk-direct-test", base_url=direct_url, max_retries=0, timeout=30)
    proxied = openai.OpenAI(api_key="sk-agent-has-no-real-key", base_url=proxy_url, max_retries=0,
                            timeout=30)
    firsts = {"direct": [], "proxy": []}
    texts = {}
    usage = {}
    for _ in range(runs):
        for name, client in (("direct", direct), ("proxy", proxied)):
            first, text, total = stream(client)
            firsts[name].append(first)
            texts[name] = text
            usage[name] = total
    refused = None
    try:
        stream(proxied)
    except openai.APIStatusError as e:
        refused = {"exception": type(e).__name__, "status": e.status_code, "message": str(e)}
    print(json.dumps({
        "first_chunk_ms": {k: statistics.median(v) for k, v in firsts.items()},
        "first_chunk_ms_max": {k: max(v) for k, v in firsts.items()},
        "text": texts, "usage": usage, "refused": refused}))


if __name__ == "__main__":
    main()
