# METADATA
# title: Catalog rules
# description: |
#   Turns the route catalog (data.countersign.catalog.routes) into verdicts for
#   the request: every rule of the request's route whose method, upstream path
#   pattern and optional body check match gives one verdict. Choosing among
#   verdicts is the entry point's job. A rule that is misconfigured is read in
#   the safe direction: an unknown action or a hold without an approval group
#   becomes a deny, an unknown risk becomes high.
package countersign.rules

import data.countersign.limits
import data.countersign.routes

actions := {"allow", "deny", "hold"}

risks := {"read_only", "draft", "low", "high"}

# METADATA
# description: One verdict per catalog rule that matches the request.
matches contains verdict if {
	some rule in data.countersign.catalog.routes[input.request.route].rules
	rule.method == input.request.method
	routes.path_matches(rule.path, input.request.upstream_path)
	check_passes(rule)
	verdict := verdict_of(rule)
}

check_passes(rule) if not rule.check

check_passes(rule) if {
	limits.band(rule.check, object.get(input.request, "body", null)) == rule.check.band
}

# METADATA
# description: The verdict a matching rule gives, with its obligations.
verdict_of(rule) := object.union(
	object.union(
		{
			"rule": rule.id,
			"action": action_of(rule),
			"risk": risk_of(rule),
			"reasons": [reason_of(rule)],
			"record": object.get(rule, "record", {"body": "full"}),
		},
		approval_of(rule),
	),
	rollback_of(rule),
)

action_of(rule) := "deny" if {
	rule.action == "hold"
	not has_approval_group(rule)
} else := rule.action if {
	rule.action in actions
} else := "deny"

# Kept apart: "not is_string(rule.approval.group)" would be undefined, not true,
# when the rule has no approval, because call arguments are evaluated outside "not".
has_approval_group(rule) if is_string(rule.approval.group)

risk_of(rule) := rule.risk if {
	rule.risk in risks
} else := "high"

reason_of(rule) := rule.reason if {
	is_string(rule.reason)
	rule.reason != ""
} else := concat("", ["rule ", rule.id, " matched"])

approval_of(rule) := {"approval": object.union(data.countersign.catalog.approval_defaults, rule.approval)} if {
	action_of(rule) == "hold"
} else := {}

# A deny forwards nothing, so there is nothing to roll back.
rollback_of(rule) := {"rollback": {key: fill(value) | some key, value in rule.rollback}} if {
	action_of(rule) != "deny"
	is_object(rule.rollback)
} else := {}

# "{upstream_path}" in a rollback template stands for the request's upstream path.
fill("{upstream_path}") := input.request.upstream_path

fill(value) := value if value != "{upstream_path}"
