#!/usr/bin/env python3
"""A small stand-in business API (a CRM and a billing service) for the quick start.

Serves JSON on loopback and answers 401 unless the request carries the credential the proxy
injects, which shows that the agent itself never needs it. Standard library only.
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEALS = {"42": {"id": "42", "name": "Acme renewal", "amount": 12000, "discount_pct": 5}}
NOTES = {}
REFUNDS = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "example-business-api"

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else None

    def _authorized(self):
        want = {"/v3": "Bearer " + self.server.crm_token, "/v1": "Bearer " + self.server.billing_token}
        for prefix, value in want.items():
            if self.path.startswith(prefix):
                if self.headers.get("Authorization") == value:
                    return True
        self._send(401, {"error": "missing or wrong credential"})
        return False

    def do_GET(self):
        if not self._authorized():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["v3", "deals"] and len(parts) == 3:
            with LOCK:
                deal = DEALS.get(parts[2])
            return self._send(200, deal) if deal else self._send(404, {"error": "no such deal"})
        if parts[:2] == ["v3", "deals"]:
            with LOCK:
                return self._send(200, {"deals": list(DEALS.values())})
        return self._send(200, {"path": self.path})

    do_HEAD = do_GET

    def do_PATCH(self):
        if not self._authorized():
            return
        parts = self.path.strip("/").split("/")
        body = self._body() or {}
        with LOCK:
            deal = DEALS.setdefault(parts[-1], {"id": parts[-1]})
            pre = dict(deal)
            deal.update(body)
        return self._send(200, {"deal": deal, "pre_image": pre})

    def do_POST(self):
        if not self._authorized():
            return
        body = self._body() or {}
        with LOCK:
            if self.path.startswith("/v3/notes"):
                note = dict(body, id=str(len(NOTES) + 1))
                NOTES[note["id"]] = note
                return self._send(201, note)
            if self.path.startswith("/v1/refunds"):
                refund = dict(body, id="rf-" + str(len(REFUNDS) + 1), status="issued")
                REFUNDS[refund["id"]] = refund
                return self._send(201, refund)
        return self._send(404, {"error": "unknown endpoint"})

    def do_DELETE(self):
        if not self._authorized():
            return
        return self._send(204, {})

    def log_message(self, fmt, *args):
        print("business-api:", fmt % args, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--crm-token", default="demo-crm-token")
    ap.add_argument("--billing-token", default="demo-billing-token")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.crm_token = args.crm_token
    server.billing_token = args.billing_token
    print(f"business-api: listening on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
