# METADATA
# title: Countersign decision
# description: |
#   The one entry point the proxy queries (data.countersign.decision), both on
#   an OPA server and in the WebAssembly build. It gathers the verdicts of the
#   workflow boundary and permission scopes (countersign.boundary), of the
#   route catalog (countersign.rules, which also denies mutations with a body
#   it cannot read, unless a rule accepts one), of the LLM price table
#   (countersign.llm), of the MCP catalog for MCP routes (countersign.mcp)
#   and of the cost limits (countersign.budgets), adds the default deny when
#   no catalog rule matched, and returns the most restrictive verdict: deny
#   over hold over allow, then the higher risk, then boundary before
#   unreadable bodies before unpriced LLM calls before catalog before MCP
#   before budget before default deny, then the smaller rule id, so the
#   choice never depends on evaluation order.
#   Only builtins that the wasm target implements natively are used here and
#   in the helper packages (see docs/policy-contract.md).
#
#   Cost: this runs on every request the proxy does not answer from its
#   cache, and in the wasm build every rule without arguments is computed
#   afresh per request and kept in a per-request table, which is not free. So
#   the helpers below are functions of the winning verdict, not rules of
#   their own.
package countersign

import data.countersign.boundary
import data.countersign.budgets
import data.countersign.llm
import data.countersign.mcp
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

decision := with_obligations(
	{
		"risk": winner.risk,
		"action": winner.action,
		"reasons": array.concat(winner.reasons, other_reasons(sources, winner)),
		"rule": winner.rule,
		"record": object.get(winner, "record", {"body": "full"}),
		"cost": cost(winner.risk),
		"cacheable": cacheable(winner),
	},
	object.union(object.union(object.union(approval(winner), rollback(winner)), llm.pricing(winner)), mcp.obligations),
) if {
	# The verdicts of each part of the policy, in the order that breaks ties
	# between equally restrictive verdicts: boundary, unreadable bodies,
	# unpriced LLM calls, catalog, MCP workflow tools, MCP catalog, budget,
	# default deny.
	sources := [
		boundary.denials, rules.opaque_denials, llm.denials, rules.matches,
		mcp.workflow_denials, mcp.verdicts, budgets.verdicts, default_deny,
	]
	winner := most_restrictive(sources)
}

# The decision with the winner's obligations (approval, rollback), if any.
# object.union copies both objects, so it is skipped when there is nothing to
# add, and it walks the small one: the keys never overlap.
with_obligations(decision, obligations) := decision if {
	count(obligations) == 0
} else := object.union(obligations, decision)

# Least privilege: a request that no catalog rule matches is denied (on an MCP
# route the MCP catalog denies what it does not list, with its own reason).
default_deny contains verdict if {
	count(rules.matches) == 0
	count(mcp.verdicts) == 0
	verdict := {
		"rule": "default_deny",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", ["no rule allows ", request_line])],
	}
}

# METADATA
# description: |
#   The most restrictive verdict: the one that ranks lowest on deny over hold
#   over allow, then the higher risk, then the source's place in sources,
#   then the smaller rule id, then the verdict itself, so the choice never
#   depends on evaluation order. A verdict with an unknown action or risk has
#   no rank. There are a handful of verdicts at most, so taking the minimum is
#   cheap; a verdict that several sources give ranks by the first of them.
most_restrictive(sources) := min([[action_rank(v.action), risk_rank(v.risk), origin, v.rule, v] |
	some origin, source in sources
	some v in source
])[4]

# Ranks, the most restrictive first; undefined for an unknown action or risk.
action_rank("deny") := 0

action_rank("hold") := 1

action_rank("allow") := 2

risk_rank("high") := 0

risk_rank("low") := 1

risk_rank("draft") := 2

risk_rank("read_only") := 3

cost("read_only") := 0

cost("draft") := 1

cost("low") := 1

cost("high") := 1

# Whether the proxy may reuse this decision for an identical request. Only
# read-only allows: they depend on the request and the caller alone, never
# on input.context (time, spend counters), which the proxy's cache key leaves out.
default cacheable(_) := false

cacheable(winner) if {
	winner.risk == "read_only"
	winner.action == "allow"
}

# Reasons of the other verdicts with the winning action, so a denial names every cause.
other_reasons(sources, winner) := sort({reason |
	some source in sources
	some v in source
	v.action == winner.action
	v.rule != winner.rule
	some reason in v.reasons
	not reason in winner.reasons
})

approval(winner) := {"approval": winner.approval} if winner.action == "hold"

else := {}

# A hold that is not the catalog's (a spend limit) still forwards the catalog
# rule's mutation once approved, so it carries that rule's rollback.
rollback(winner) := {"rollback": winner.rollback} if {
	winner.rollback
} else := {"rollback": catalog_rollback(rules.matches)} if {
	winner.action != "deny"
} else := {}

catalog_rollback(matches) := min([v.rollback | some v in matches; v.action != "deny"; v.rollback])

request_line := concat("", [input.request.method, " ", input.request.route, input.request.upstream_path]) if {
	is_string(input.request.method)
	is_string(input.request.route)
	is_string(input.request.upstream_path)
} else := "a request without a method, route and upstream path"
