# METADATA
# title: Cost limits
# description: |
#   Spend limits per agent and per workflow. The proxy counts the cost of
#   past decisions and sends the counters in input.context.spend, e.g.
#   {"workflow_today": 3, "agent_today": 10, "account_today": 2}; a counter
#   that is absent counts as 0. An agent or workflow in the catalog may list
#   "spend_limits", each {"counter", "limit", "action", "approval"?,
#   "reason"?}: a call that costs something (any catalog rule, or on an MCP
#   route any MCP catalog rule, that matched is not read_only) when the counter is already at or above the limit gives a
#   deny or hold verdict, as the limit says. Reads cost nothing, so a spent
#   budget never blocks them.
#
#   Read in the safe direction: a limit that is not a number counts as spent,
#   an unknown action becomes deny, a hold without an approval group becomes
#   deny.
package countersign.budgets

import data.countersign.boundary
import data.countersign.mcp
import data.countersign.rules

# METADATA
# description: One verdict per spend limit in force that the call would exceed.
verdicts contains verdict if {
	costs_something(paid_verdicts)
	agent := boundary.agent_id
	some limit in boundary.listed(boundary.agent_spec, "spend_limits")
	spent(limit)
	verdict := verdict_of(concat("", ["agent ", agent]), limit)
}

verdicts contains verdict if {
	costs_something(paid_verdicts)
	workflow := boundary.workflow_in_force
	some limit in boundary.listed(boundary.workflow_spec, "spend_limits")
	spent(limit)
	verdict := verdict_of(concat("", ["workflow ", workflow]), limit)
}

# A function of the matches, not a rule of its own: cheaper to walk the few
# matches twice than to keep one more per-request result.
# The catalog's verdicts, and on an MCP route the MCP catalog's: a tool call
# costs as a catalog rule does.
paid_verdicts := array.concat(rules.matches, mcp.verdicts)

costs_something(matches) if {
	some match in matches
	match.risk != "read_only"
}

spent(limit) if not is_number(limit.limit)

else := counter(limit.counter) >= limit.limit

# METADATA
# description: The value of a spend counter; 0 when absent or not a number.
counter(name) := value if {
	value := input.context.spend[name]
	is_number(value)
} else := 0

verdict_of(holder, limit) := object.union(
	{
		"rule": concat("", ["budget.", describe(limit.counter)]),
		"action": action_of(limit),
		"risk": "high",
		"reasons": [reason_of(holder, limit)],
	},
	approval_of(limit),
)

action_of(limit) := "hold" if {
	limit.action == "hold"
	is_string(limit.approval.group)
} else := "deny"

approval_of(limit) := {"approval": object.union(data.countersign.catalog.approval_defaults, limit.approval)} if {
	action_of(limit) == "hold"
} else := {}

reason_of(holder, limit) := limit.reason if {
	is_string(limit.reason)
	limit.reason != ""
} else := concat("", [holder, " is over its ", describe(limit.counter), " spend limit"])

describe(value) := value if is_string(value)

else := "(unnamed counter)"
