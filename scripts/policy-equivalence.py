#!/usr/bin/env python3
"""Checks that a policy change decides every request exactly as before.

For a refactoring of rego/ (a speed-up, a cleanup) that must not change a single decision: builds a
few thousand inputs from the catalog (every route, method, path pattern, body check, touched field,
agent, workflow, tool, account and spend limit, at and around each edge), from the eval files in
examples/evals/, from the MCP catalog (every server's tools, methods, resources, prompts, batches)
and from seeded random variations, then evaluates data.countersign.decision with
both the base revision's rego/ and the working tree's, and compares the whole decision objects.

    scripts/policy-equivalence.py [--base REV] [--count N] [--seed S] [--keep DIR]

Exit 0 when every decision is identical, 1 when some differ (the first few are printed), 2 on a
usage or evaluation error. Needs the pinned OPA (scripts/install-tools.sh opa) and PyYAML. It runs
OPA's Go evaluator; the wasm build compiles the same Rego, and the proxy's engine parity tests
cover the two engines agreeing.

Not a substitute for replay (docs/policy-guide.md, section 7): replay shows what a *meant* change
does to real traffic; this shows that a change meant to change nothing changes nothing.
"""
import argparse
import copy
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPA = os.path.join(ROOT, ".tools", "bin", "opa")
CATALOG = os.path.join("rego", "countersign", "catalog", "data.json")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"]
TIME = "2026-11-25T10:00:00.000Z"


def request(method, route, upstream_path, body, query=None):
    raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    headers = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    if body is not None:
        headers["content-type"] = "application/json"
    path = "/" + route + upstream_path if isinstance(route, str) and isinstance(upstream_path, str) else None
    return {"method": method, "route": route, "path": path, "upstream_path": upstream_path,
            "query": query or {}, "headers": headers, "body": body,
            "body_sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}


def caller(agent, workflow=None, account="acme", tool=None):
    return {"agent": agent, "workflow": workflow, "run": "r-1", "on_behalf_of": "ana@example.com",
            "account": account, "tool": tool, "prompt_ref": None, "context_refs": None}


def whole(req, who, spend=None):
    return {"request": req, "caller": who, "context": {"time": TIME, "spend": spend or {}}}


def flat_rules(rules):
    """A route's rules as a list of rules naming their method and path, from either layout: a list
    of such rules, or rules listed by method, then path pattern."""
    if isinstance(rules, list):
        return rules
    return [dict(r, method=method, path=path)
            for method, by_path in rules.items() for path, listed in by_path.items() for r in listed]


class Catalog:
    """What the inputs are built from: the union of the base's and the working tree's catalogs."""

    def __init__(self, catalogs):
        self.agents, self.workflows, self.rules, self.limits = {}, {}, [], []
        self.routes = set()
        for c in catalogs:
            self.agents.update(c.get("agents", {}))
            self.workflows.update(c.get("workflows", {}))
            for route, spec in c.get("routes", {}).items():
                self.routes.add(route)
                self.rules += [(route, r) for r in flat_rules(spec.get("rules", []))]
            self.limits += [v for v in c.get("limits", {}).values() if isinstance(v, (int, float))]
        self.rules.sort(key=lambda rr: (rr[0], str(rr[1].get("id"))))
        self.tools = sorted({t for w in self.workflows.values() for t in w.get("tools", [])})
        self.accounts = sorted({a for h in list(self.agents.values()) + list(self.workflows.values())
                                for a in h.get("accounts", [])})
        self.fields = sorted({f for _, r in self.rules for f in r.get("touches", [])}
                             | {r["check"]["field"] for _, r in self.rules if "check" in r})
        spend_limits = [l for h in list(self.agents.values()) + list(self.workflows.values())
                        for l in h.get("spend_limits", [])]
        self.spends = [{}, {"agent_today": 0, "workflow_today": 0, "account_today": 0}]
        for l in spend_limits:
            if isinstance(l.get("limit"), (int, float)):
                for delta in (-1, 0, 1):
                    self.spends.append({l["counter"]: l["limit"] + delta})
        self.spends.append({"workflow_today": "lots", "agent_today": None})


def instances(pattern, rng):
    """Paths a pattern should and should not match: wildcards filled in, then mutated."""
    segments = pattern.split("/")
    filled = []
    for fill_star, fill_tail in (("42", ""), ("acme", "deals"), ("x-1", "deals/42/notes"), ("", "")):
        out = []
        for s in segments:
            out.append(fill_star if s == "*" else s)
        path = "/".join(out)
        if path.endswith("/**"):
            path = path[:-3] + ("/" + fill_tail if fill_tail else "")
        filled.append(path)
    base = filled[0]
    mutated = [base + "/", base + "/extra", base.replace("/", "/../", 1), base + "/.", base + "/..",
               base.lstrip("/"), base.replace("/", "//", 1), base.upper(),
               "/" + "/".join(base.split("/")[2:]) if base.count("/") > 1 else "/",
               base.replace("v1", "v2").replace("v3", "v1")]
    return filled + rng.sample(mutated, 4)


def bodies(rule, catalog, rng):
    out = [None, {}, [{"x": 1}], "text", {"stage": "won"}]
    check = rule.get("check")
    if check:
        f = check["field"]
        values = [0, -1, 1, "10", None, True] + [l + d for l in catalog.limits for d in (-0.01, 0, 0.01)]
        out += [{f: v} for v in rng.sample(values, 6)] + [{"other": 1}]
    for f in rule.get("touches", []):
        out.append({f: rng.choice(["x", None, False, 0, {"a": 1}])})
        if check:
            out.append({check["field"]: rng.choice([5, 50]), f: "y"})
    return out


def random_body(catalog, rng):
    kind = rng.random()
    if kind < 0.1:
        return rng.choice([None, [], "x", 3, {}])
    fields = rng.sample(catalog.fields + ["stage", "note"], rng.randint(1, 3))
    values = [rng.choice([0, -5, 10, 15, 15.01, 16, 199.99, 200, 200.01, 500, "10", None, False, "x"]) for _ in fields]
    return dict(zip(fields, values))


def caller_for(catalog, rng, route, rule_id):
    """Mostly a caller that may make the call (an agent on the route, in a workflow that lists the
    rule, with one of its tools and accounts), so that the catalog rules decide; sometimes not."""
    if rng.random() < 0.25:
        return any_caller(catalog, rng)
    agents = sorted(a for a, spec in catalog.agents.items() if route in spec.get("routes", []))
    if not agents:
        return any_caller(catalog, rng)
    agent = rng.choice(agents)
    own = [w for w in catalog.agents[agent].get("workflows", []) if route in catalog.workflows.get(w, {}).get("routes", [])]
    listing = [w for w in own if rule_id in catalog.workflows[w].get("rules", [])]
    r = rng.random()
    workflow = rng.choice(listing) if listing and r < 0.6 else rng.choice(own) if own and r < 0.8 else None
    spec = catalog.workflows.get(workflow, {}) if workflow else catalog.agents[agent]
    tools = spec.get("tools", [])
    tool = rng.choice(tools) if tools and rng.random() < 0.85 else rng.choice([None, "export_all"])
    accounts = spec.get("accounts", []) or catalog.agents[agent].get("accounts", []) or ["acme", "globex"]
    account = rng.choice(accounts) if rng.random() < 0.9 else rng.choice([None, "umbrella"])
    return caller(agent, workflow, account, tool)


def any_caller(catalog, rng):
    """Any mix of agent, workflow, tool and account, listed or not."""
    agent = rng.choice(sorted(catalog.agents) + ["rogue-bot", None, 42])
    workflow = rng.choice(sorted(catalog.workflows) + [None, None, "nope", 7])
    tool = rng.choice(catalog.tools + [None, "export_all"])
    account = rng.choice(catalog.accounts + ["acme", "umbrella", None, 5])
    return caller(agent, workflow, account, tool)


def spend(catalog, rng):
    """Mostly counters under every limit; a third of the time at or around one limit's edge."""
    return rng.choice(catalog.spends) if rng.random() < 0.35 else rng.choice(catalog.spends[:2])


def generated(catalog, count, seed):
    rng = random.Random(seed)
    out = []
    # Every rule with each of its path instances, a few bodies and callers.
    for route, rule in catalog.rules:
        for path in instances(rule["path"], rng):
            for body in rng.sample(bodies(rule, catalog, rng), 3):
                method = rule["method"] if rng.random() < 0.8 else rng.choice(METHODS)
                out.append(whole(request(method, route, path, body), caller_for(catalog, rng, route, rule["id"]),
                                 spend(catalog, rng)))
    # Every coherent agent/workflow/tool, and every spend edge, on every rule.
    for name, agent in sorted(catalog.agents.items()):
        for workflow in [None] + agent.get("workflows", []) + ["nope"]:
            tools = [None] + catalog.workflows.get(workflow, {}).get("tools", []) if workflow else [None, "read_crm"]
            for route, rule in catalog.rules:
                path = instances(rule["path"], rng)[0]
                body = rng.choice(bodies(rule, catalog, rng))
                out.append(whole(request(rule["method"], route, path, body),
                                 caller(name, workflow, rng.choice(["acme", "umbrella", None]), rng.choice(tools)),
                                 spend(catalog, rng)))
    # Random requests against the catalog's routes and some that are not in it.
    routes = sorted(catalog.routes) + ["hr", None]
    while len(out) < count:
        route, rule = rng.choice(catalog.rules)
        if rng.random() < 0.05:
            route = rng.choice(routes)
        method = rule["method"] if rng.random() < 0.7 else rng.choice(METHODS)
        paths = instances(rule["path"], rng)
        path = rng.choice(paths[:3]) if rng.random() < 0.7 else rng.choice(paths)
        out.append(whole(request(method, route, path, random_body(catalog, rng), {"limit": ["10"]}),
                         caller_for(catalog, rng, route, rule["id"]), spend(catalog, rng)))
    return out


MCP_CATALOG = os.path.join("rego", "countersign", "mcp_catalog", "data.json")


def mcp_input(route, http_method, message, who, spend_now, batch=None):
    """An input on an MCP route as the proxy builds it (docs/mcp.md): input.mcp beside the request."""
    fields = {"method": None, "tool": None, "arguments": None, "request_id": None, "uri": None,
              "prompt": None, "is_notification": False, "is_response": False}
    top = dict(fields, session_id="s-1", protocol_version="2025-06-18", batch=None)
    if batch is not None:
        top.update(protocol_version=None, batch=[dict(fields, **m) for m in batch])
    elif message is not None:
        top.update(message)
    body = None if message is None and batch is None else {"jsonrpc": "2.0"}
    req = request(http_method, route, "/mcp", body)
    req["headers"]["mcp-session-id"] = "s-1"
    return {"request": req, "caller": who, "context": {"time": TIME, "spend": spend_now}, "mcp": top}


def mcp_generated(servers, catalog, seed):
    """Inputs for every MCP server of the MCP catalogs: each tool with arguments around its checks'
    limits, each listed method and some that are not, resources in and out of each prefix, prompts,
    client responses, the bodyless GET and DELETE, and batches, from callers that may use the route
    and callers that may not."""
    rng = random.Random(seed + 1)  # apart from the HTTP inputs, which stay as they were
    out = []
    for route, server in sorted(servers.items()):
        messages = [{"method": m, "request_id": 1, "is_notification": m.startswith("notifications/")}
                    for m in sorted(server.get("methods", {}))]
        messages += [{"method": m, "request_id": 1} for m in ("sampling/createMessage", "logging/setLevel", "tools/List")]
        messages += [{"is_response": True, "request_id": "srv-1"}]
        for tool, rules in sorted(server.get("tools", {}).items()):
            args = [None, {}, {"id": "c-1"}]
            for r in rules:
                if "check" in r:
                    f = r["check"]["field"]
                    args += [{f: v} for v in [0, -1, "10", None, True] + [l + d for l in catalog.limits for d in (-0.01, 0, 0.01)]]
            messages += [{"method": "tools/call", "tool": t, "arguments": a, "request_id": 1}
                         for t in (tool, tool.upper()) for a in args]
        messages += [{"method": "tools/call", "tool": t, "arguments": {}, "request_id": 1} for t in ("drop_tables", None)]
        for r in server.get("resources", []):
            prefix = r.get("uri_prefix", "")
            for uri in (prefix + "42", prefix, prefix.upper() + "42", "x" + prefix + "42"):
                messages.append({"method": "resources/read", "uri": uri, "request_id": 1})
        for name in sorted(server.get("prompts", {})) + ["jailbreak"]:
            messages.append({"method": "prompts/get", "prompt": name, "arguments": {"tone": "warm"}, "request_id": 1})
        agents = sorted(a for a, spec in catalog.agents.items() if route in spec.get("routes", []))
        callers = [caller(a, w, "acme", None) for a in agents
                   for w in [None] + [w for w in catalog.agents[a].get("workflows", [])]]
        callers += [caller("sales-assistant", None, "acme", None), caller(None, None, "acme", None)]
        for m in messages:
            out.append(mcp_input(route, "POST", m, rng.choice(callers), spend(catalog, rng)))
        for http_method in ("GET", "DELETE", "OPTIONS", "HEAD"):
            out.append(mcp_input(route, http_method, None, rng.choice(callers), {}))
        for _ in range(40):
            out.append(mcp_input(route, "POST", None, rng.choice(callers), spend(catalog, rng),
                                 batch=rng.sample(messages, rng.randint(1, 3))))
    return out


def malformed():
    ok = request("GET", "crm", "/v3/deals", None)
    return [
        {}, {"request": None}, {"request": None, "caller": None},
        {"request": {"method": 1}, "caller": {"agent": "sales-assistant"}},
        {"request": ok, "caller": None, "context": None},
        {"request": ok, "caller": {"agent": "sales-assistant"}},
        {"request": ok, "caller": {"agent": "sales-assistant"}, "context": {"spend": None}},
        {"request": {"method": "PATCH", "route": "crm", "upstream_path": "/v3/deals/1"}, "caller": {"agent": "sales-assistant"}},
        {"request": {"method": "GET", "route": "crm"}, "caller": {"agent": "sales-assistant"}},
        {"request": {"method": "GET", "route": "crm", "upstream_path": 5}, "caller": {"agent": "sales-assistant"}},
        {"request": {"method": "GET", "route": ["crm"], "upstream_path": "/v3/x"}, "caller": {"agent": "sales-assistant"}},
    ]


def eval_files():
    """The cases of examples/evals/*.yaml, expanded the way `countersign policy eval` does."""
    import yaml
    out = []
    folder = os.path.join(ROOT, "examples", "evals")
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".yaml", ".yml", ".json")):
            continue
        with open(os.path.join(folder, name)) as f:
            doc = yaml.safe_load(f)
        defaults = doc.get("defaults", {})
        for case in doc["cases"]:
            if "input" in case:
                out.append(case["input"])
                continue
            method, route, target = case["request"].split(" ")
            path, _, query = target.partition("?")
            who = dict(caller(None, account=None))
            who.update(defaults.get("caller", {}))
            who.update(case.get("caller", {}))
            req = request(method, route, path, case.get("body"), {k: [v] for k, v in
                          (p.split("=", 1) for p in query.split("&") if "=" in p)})
            out.append({"request": req, "caller": who,
                        "context": {"time": defaults.get("time", TIME), "spend": case.get("spend", {})}})
    return out


def decisions(opa, rego_dir, inputs_file):
    query = "[d | some x in data.equivalence_inputs; d := data.countersign.decision with input as x]"
    result = subprocess.run([opa, "eval", "--format", "json", "-d", rego_dir, "-d", inputs_file, query],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"opa eval on {rego_dir} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)["result"][0]["expressions"][0]["value"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="main", help="git revision whose rego/ is the reference (default: main)")
    p.add_argument("--count", type=int, default=4000, help="number of generated inputs (default: 4000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--keep", help="write the inputs and both decision lists to this directory")
    args = p.parse_args()
    if not os.access(OPA, os.X_OK):
        sys.exit(f"{OPA} is missing: run scripts/install-tools.sh opa")
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = os.path.join(tmp, "base")
        os.makedirs(base_dir)
        archive = subprocess.run(["git", "-C", ROOT, "archive", args.base, "rego"], capture_output=True)
        if archive.returncode != 0:
            sys.exit(f"cannot read rego/ at {args.base}: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", base_dir], input=archive.stdout, check=True)
        catalogs = []
        for folder in (base_dir, ROOT):
            with open(os.path.join(folder, CATALOG)) as f:
                catalogs.append(json.load(f))
        servers = {}
        for folder in (base_dir, ROOT):
            path = os.path.join(folder, MCP_CATALOG)
            if os.path.exists(path):
                with open(path) as f:
                    servers.update(json.load(f).get("servers", {}))
        inputs = (eval_files() + malformed() + generated(Catalog(catalogs), args.count, args.seed)
                  + mcp_generated(servers, Catalog(catalogs), args.seed))
        inputs_file = os.path.join(args.keep or tmp, "equivalence-inputs.json")
        os.makedirs(os.path.dirname(inputs_file), exist_ok=True)
        with open(inputs_file, "w") as f:
            json.dump({"equivalence_inputs": inputs}, f)
        before = decisions(OPA, os.path.join(base_dir, "rego"), inputs_file)
        after = decisions(OPA, os.path.join(ROOT, "rego"), inputs_file)
    if args.keep:
        for name, value in (("before", before), ("after", after)):
            with open(os.path.join(args.keep, f"decisions-{name}.json"), "w") as f:
                json.dump(value, f, indent=1)
    if len(before) != len(inputs) or len(after) != len(inputs):
        sys.exit(f"expected {len(inputs)} decisions, got {len(before)} (base) and {len(after)} (working tree)")
    differ = [i for i in range(len(inputs)) if before[i] != after[i]]
    actions = {}
    for d in before:
        actions[d["action"]] = actions.get(d["action"], 0) + 1
    rules = len({d["rule"] for d in before})
    print(f"{len(inputs)} inputs ({', '.join(f'{n} {a}' for a, n in sorted(actions.items()))}; {rules} distinct rules): "
          f"{len(differ)} decisions differ between {args.base} and the working tree")
    for i in differ[:5]:
        print(json.dumps({"input": inputs[i], "before": before[i], "after": after[i]}, indent=1))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
