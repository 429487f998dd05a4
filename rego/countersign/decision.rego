# METADATA
# title: Countersign decision
# description: |
#   The one entry point the proxy queries (data.countersign.decision), both on
#   an OPA server and in the WebAssembly build. It gathers the verdicts of the
#   workflow boundary and permission scopes (countersign.boundary), of the
#   route catalog (countersign.rules) and of the cost limits
#   (countersign.budgets), adds the default deny when no catalog rule
#   matched, and returns the most restrictive verdict: deny over hold over
#   allow, then the higher risk, then boundary before catalog before budget
#   before default deny, then the smaller rule id, so the choice never
#   depends on evaluation order.
#   Only builtins that the wasm target implements natively are used here and
#   in the helper packages (see docs/policy-contract.md).
package countersign

import data.countersign.boundary
import data.countersign.budgets
import data.countersign.rules

# METADATA
# description: The decision for input; always defined, deny when anything is amiss.
# entrypoint: true
default decision := {
	"risk": "high",
	"action": "deny",
	"reasons": ["no rule allows this request: the policy could not form a decision from this input"],
	"rule": "default_deny",
	"record": {"body": "full"},
	"cost": 1,
}

decision := object.union(
	object.union(
		{
			"risk": winner.risk,
			"action": winner.action,
			"reasons": array.concat(winner.reasons, other_reasons),
			"rule": winner.rule,
			"record": object.get(winner, "record", {"body": "full"}),
			"cost": cost[winner.risk],
			"cacheable": cacheable,
		},
		approval,
	),
	rollback,
)

# METADATA
# description: |
#   Whether the proxy may reuse this decision for an identical request. Only
#   read-only allows: they depend on the request and the caller alone, never
#   on input.context (time, spend counters), which the proxy's cache key leaves out.
default cacheable := false

cacheable if {
	winner.risk == "read_only"
	winner.action == "allow"
}

severity := {"allow": 0, "hold": 1, "deny": 2}

risk_rank := {"read_only": 0, "draft": 1, "low": 2, "high": 3}

cost := {"read_only": 0, "draft": 1, "low": 1, "high": 1}

verdicts := ((boundary.denials | rules.matches) | budgets.verdicts) | default_deny

default_deny contains verdict if {
	count(rules.matches) == 0
	verdict := {
		"rule": "default_deny",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", ["no rule allows ", request_line])],
	}
}

# Sorting on (-severity, -risk, origin, rule id) puts the most restrictive verdict
# first; at equal severity and risk, the boundary names the cause before the catalog.
winner := sort([[0 - severity[v.action], 0 - risk_rank[v.risk], origin(v), v.rule, v] | some v in verdicts])[0][4]

origin(v) := 0 if {
	v in boundary.denials
} else := 1 if {
	v in rules.matches
} else := 2 if {
	v in budgets.verdicts
} else := 3

# Reasons of the other verdicts with the winning action, so a denial names every cause.
other_reasons := sort({reason |
	some v in verdicts
	v.action == winner.action
	v.rule != winner.rule
	some reason in v.reasons
	not reason in winner.reasons
})

approval := {"approval": winner.approval} if winner.action == "hold"

else := {}

# A hold that is not the catalog's (a spend limit) still forwards the catalog
# rule's mutation once approved, so it carries that rule's rollback.
rollback := {"rollback": winner.rollback} if {
	winner.rollback
} else := {"rollback": catalog_rollback} if {
	winner.action != "deny"
}

else := {}

catalog_rollback := sort([v.rollback | some v in rules.matches; v.action != "deny"; v.rollback])[0]

request_line := concat("", [input.request.method, " ", input.request.route, input.request.upstream_path]) if {
	is_string(input.request.method)
	is_string(input.request.route)
	is_string(input.request.upstream_path)
} else := "a request without a method, route and upstream path"
