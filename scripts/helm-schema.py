#!/usr/bin/env python3
"""Writes into the Helm chart's values.schema.json the rules of the proxy's configuration schema
for the keys the chart passes through to the proxy unchanged (limits, upstream, route names,
prefixes, upstreams and kinds, the policy timeout, the agent id), so that a value the proxy would refuse
is refused by `helm install` already. The proxy's schema
(proxy/src/main/resources/io/countersign/proxy/config/countersign-config.schema.json) is the one
source; ConfigSchemaTest fails when the chart's copy drifts from it.

Usage: scripts/helm-schema.py [--check]   (--check: exit 1 and say what differs, change nothing)
"""
import copy
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROXY = os.path.join(ROOT, "proxy/src/main/resources/io/countersign/proxy/config/countersign-config.schema.json")
CHART = os.path.join(ROOT, "helm/countersign/values.schema.json")

# chart JSON pointer -> proxy key path (the subschema there, resolved and stripped)
MAPPED = {
    "/properties/agentId": ["agent_id"],
    "/properties/limits": ["limits"],
    "/properties/upstream/properties/connect_timeout": ["upstream", "connect_timeout"],
    "/properties/upstream/properties/response_timeout": ["upstream", "response_timeout"],
    "/properties/upstream/properties/max_response_bytes": ["upstream", "max_response_bytes"],
    "/properties/upstream/properties/max_connections_per_event_loop": ["upstream", "max_connections_per_event_loop"],
    "/properties/routes/items/properties/name": ["routes", "[]", "name"],
    "/properties/routes/items/properties/prefix": ["routes", "[]", "prefix"],
    "/properties/routes/items/properties/upstream": ["routes", "[]", "upstream"],
    "/properties/routes/items/properties/kind": ["routes", "[]", "kind"],
    "/properties/policy/properties/timeout": ["policy", "timeout"],
}

# what the chart does not take over: defaults (values.yaml leaves proxy keys unset), the proxy's
# message hints, and the chart's own descriptions
DROPPED = ("default", "description", "$comment")


def resolve(schema, node):
    if "$ref" in node:
        target = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        merged = copy.deepcopy(target)
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return resolve(schema, merged)
    return node


def strip(schema, node):
    node = resolve(schema, node)
    out = {}
    for k, v in node.items():
        if k in DROPPED or k.startswith("x-"):
            continue
        if k == "properties":
            out[k] = {name: strip(schema, sub) for name, sub in v.items()}
        elif k == "items" and isinstance(v, dict):
            out[k] = strip(schema, v)
        else:
            out[k] = v
    return out


def subschema(schema, path):
    node = resolve(schema, schema)
    for step in path:
        node = resolve(schema, node["items"] if step == "[]" else node["properties"][step])
    return strip(schema, node)


def pointer_get(doc, pointer):
    node = doc
    for part in pointer.lstrip("/").split("/"):
        node = node[part]
    return node


def main():
    check = "--check" in sys.argv[1:]
    proxy = json.load(open(PROXY))
    chart = json.load(open(CHART))
    drift = []
    for pointer, path in MAPPED.items():
        want = subschema(proxy, path)
        parent = pointer_get(chart, pointer.rsplit("/", 1)[0])
        name = pointer.rsplit("/", 1)[1]
        have = parent.get(name, {})
        description = have.get("description")
        kept = {k: v for k, v in have.items() if k != "description"}
        if kept != want:
            drift.append(pointer)
            if not check:
                parent[name] = dict(want, **({"description": description} if description else {}))
    if check:
        for p in drift:
            print("helm/countersign/values.schema.json%s differs from the proxy's schema; run scripts/helm-schema.py" % p)
        sys.exit(1 if drift else 0)
    if drift:
        with open(CHART, "w") as f:
            json.dump(chart, f, indent=2)
            f.write("\n")
        print("updated: " + ", ".join(drift))


if __name__ == "__main__":
    main()
