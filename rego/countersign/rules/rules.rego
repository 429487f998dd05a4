# METADATA
# title: Catalog rules
# description: |
#   Turns the route catalog (data.countersign.catalog.routes) into verdicts for
#   the request: every rule of the request's route whose method, upstream path
#   pattern, optional body check and optional field list match gives one
#   verdict. Choosing among verdicts is the entry point's job.
#
#   Field-level limits: a rule with "touches" (a list of top-level body
#   fields) matches only when the body is a JSON object holding at least one
#   of them, so a route can list "fields the agent may not change" as its own
#   deny or hold rule beside the rule that allows the rest of the update; the
#   most restrictive verdict wins and its reason names the fields touched. A rule that is misconfigured is read in
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
	touches_pass(rule)
	verdict := verdict_of(rule)
}

check_passes(rule) if not rule.check

check_passes(rule) if {
	limits.band(rule.check, object.get(input.request, "body", null)) == rule.check.band
}

touches_pass(rule) if not rule.touches

touches_pass(rule) if count(touched(rule)) > 0

# The rule's listed fields that the body holds (any value, null included).
touched(rule) := sort([field |
	body := object.get(input.request, "body", null)
	is_object(body)
	some field in rule.touches
	field in object.keys(body)
])

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

reason_of(rule) := concat("", [base_reason(rule), " (fields: ", concat(", ", touched(rule)), ")"]) if {
	rule.touches
} else := base_reason(rule)

base_reason(rule) := rule.reason if {
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

# "{upstream_path}" in a rollback value stands for the request's upstream path,
# alone ("{upstream_path}") or in a template ("{upstream_path}/{response.id}").
# Joining the pieces around the placeholder with the path replaces every
# occurrence without the non-native "replace" builtin.
fill(value) := concat(input.request.upstream_path, split(value, "{upstream_path}")) if {
	is_string(value)
} else := value
