# METADATA
# title: Cost limits
# description: |
#   Spend limits per agent and per workflow. The proxy counts the cost of
#   past decisions and sends the counters in input.context.spend, e.g.
#   {"workflow_today": 3, "agent_today": 10, "account_today": 2}; a counter
#   that is absent counts as 0. An agent or workflow in the catalog may list
#   "spend_limits", each {"counter", "limit", "action", "approval"?,
#   "reason"?}: a call that costs something (any catalog rule that matched is
#   not read_only) when the counter is already at or above the limit gives a
#   deny or hold verdict, as the limit says. Reads cost nothing, so a spent
#   budget never blocks them.
#
#   Read in the safe direction: a limit that is not a number counts as spent,
#   an unknown action becomes deny, a hold without an approval group becomes
#   deny.
package countersign.budgets

import data.countersign.boundary
import data.countersign.rules

# METADATA
# description: One verdict per spend limit in force that the call would exceed.
verdicts contains verdict if {
	costs_something
	some scoped in limits_in_force
	spent(scoped.limit)
	verdict := verdict_of(scoped)
}

limits_in_force contains {"holder": concat("", ["agent ", agent]), "limit": limit} if {
	agent := boundary.agent_id
	some limit in boundary.listed(data.countersign.catalog.agents[agent], "spend_limits")
}

limits_in_force contains {"holder": concat("", ["workflow ", workflow]), "limit": limit} if {
	workflow := boundary.workflow_in_force
	some limit in boundary.listed(data.countersign.catalog.workflows[workflow], "spend_limits")
}

costs_something if {
	some match in rules.matches
	match.risk != "read_only"
}

spent(limit) if not is_number(limit.limit)

spent(limit) if counter(limit.counter) >= limit.limit

# METADATA
# description: The value of a spend counter; 0 when absent or not a number.
counter(name) := value if {
	value := input.context.spend[name]
	is_number(value)
} else := 0

verdict_of(scoped) := object.union(
	{
		"rule": concat("", ["budget.", describe(scoped.limit.counter)]),
		"action": action_of(scoped.limit),
		"risk": "high",
		"reasons": [reason_of(scoped)],
	},
	approval_of(scoped.limit),
)

action_of(limit) := "hold" if {
	limit.action == "hold"
	is_string(limit.approval.group)
} else := "deny"

approval_of(limit) := {"approval": object.union(data.countersign.catalog.approval_defaults, limit.approval)} if {
	action_of(limit) == "hold"
} else := {}

reason_of(scoped) := scoped.limit.reason if {
	is_string(scoped.limit.reason)
	scoped.limit.reason != ""
} else := concat("", [scoped.holder, " is over its ", describe(scoped.limit.counter), " spend limit"])

describe(value) := value if is_string(value)

else := "(unnamed counter)"
