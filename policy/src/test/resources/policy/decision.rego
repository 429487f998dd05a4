# A small, data-dependent policy for the engine tests: the routes, their limits and the blocked
# agents all live in data.json, so an engine that loses its data answers differently.
package countersign

# The route the request matched, from data; undefined for an unknown route, which leaves the
# decision undefined (the engines must fail closed on that).
route := data.routes[input.request.route]

amount := object.get(input.request, ["body", "amount"], 0)

# METADATA
# entrypoint: true
decision := {
	"risk": "high",
	"action": "deny",
	"reasons": [sprintf("agent %s is blocked", [input.caller.agent])],
	"rule": "blocked_agent",
} if {
	route
	input.caller.agent in data.blocked_agents
} else := {
	"risk": "read_only",
	"action": "allow",
	"reasons": [],
	"rule": "read_methods",
	"record": {"body": "none"},
} if {
	input.request.method in route.read_methods
} else := {
	"risk": "high",
	"action": "hold",
	"reasons": [concat("", ["amount above ", format_int(route.max_amount, 10), " needs approval"])],
	"rule": "amount_limit",
	"approval": {"group": route.approval_group, "quorum": 1, "timeout": "PT30M", "on_timeout": "deny"},
	"rollback": {"method": "PATCH", "path": input.request.upstream_path, "body_from": "pre_image"},
	"cost": 2,
} if {
	input.request.method in route.write_methods
	amount > route.max_amount
} else := {
	"risk": "low",
	"action": "allow",
	"reasons": ["write within limits"],
	"rule": "small_write",
	"record": {"body": "digest"},
	"cost": 1,
} if {
	input.request.method in route.write_methods
} else := {
	"risk": "high",
	"action": "deny",
	"reasons": [concat(" ", ["method", input.request.method, "is not allowed on route", input.request.route])],
	"rule": "method_not_allowed",
} if {
	route
}
