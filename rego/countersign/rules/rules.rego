# METADATA
# title: Catalog rules
# description: |
#   Turns the route catalog (data.countersign.catalog.routes) into verdicts for
#   the request. A route lists its rules by method, then by upstream path
#   pattern:
#     routes.<route>.rules.<METHOD>.<path pattern> = [rule, ...]
#   Every rule listed under the request's route and method, under a pattern
#   that matches the upstream path, whose optional body check and optional
#   field list match, gives one verdict. Choosing among verdicts is the entry
#   point's job.
#
#   The layout is the index: the request's route and method are looked up, so
#   a request only ever tries the patterns of its own method, and each pattern
#   once, however many rules share it (one per band, one per list of fields)
#   and however large the catalog grows.
#
#   Field-level limits: a rule with "touches" (a list of top-level body
#   fields) matches when the body holds at least one of them, whatever its
#   kind (countersign.bodies: JSON, form and multipart fields alike), and
#   also when the body holds no fields that can be listed (text, opaque, a
#   JSON array), since then none can be ruled out. So a route can list
#   "fields the agent may not change" as its own
#   deny or hold rule beside the rule that allows the rest of the update; the
#   most restrictive verdict wins and its reason names the fields touched. A
#   rule that is misconfigured is read in the safe direction: an unknown action
#   or a hold without an approval group becomes a deny, an unknown risk becomes
#   high.
package countersign.rules

import data.countersign.bodies
import data.countersign.limits
import data.countersign.routes

# METADATA
# description: |
#   One verdict per catalog rule that matches the request. A list, not a set:
#   a set hashes every verdict it holds, which the callers do not need.
matches := [verdict |
	# Checked once per request: a path that is not absolute or still holds
	# dot-segments matches no pattern (see countersign.routes).
	path := input.request.upstream_path
	routes.safe_path(path)
	body := bodies.fields
	some pattern, listed in data.countersign.catalog.routes[input.request.route].rules[input.request.method]
	routes.pattern_matches(pattern, path)
	some rule in listed
	check_passes(rule, body)
	touches_pass(rule, body)
	verdict := verdict_of(rule, body)
]

check_passes(rule, body) if not rule.check

else := limits.band(rule.check, body) == rule.check.band

touches_pass(rule, body) if not rule.touches

else if bodies.unlisted_fields

else := touches_any(rule.touches, body)

default touches_any(_, _) := false

touches_any(fields, body) if {
	is_object(body)
	some field in fields
	limits.has_field(body, field)
}

# The rule's listed fields that the body holds (any value, null included).
touched(rule, body) := sort([field |
	is_object(body)
	some field in rule.touches
	limits.has_field(body, field)
])

# METADATA
# description: The verdict a matching rule gives, with its obligations.
verdict_of(rule, body) := with_obligations(
	{
		"rule": rule.id,
		"action": action,
		"risk": risk_of(rule),
		"reasons": [reason_of(rule, body)],
		"record": object.get(rule, "record", {"body": "full"}),
	},
	obligations(rule, action),
) if {
	action := action_of(rule)
}

# object.union copies both objects, so it is skipped when there is nothing to
# add, and it walks the small one: the keys never overlap.
with_obligations(verdict, obligations) := verdict if {
	count(obligations) == 0
} else := object.union(obligations, verdict)

# A deny forwards nothing: there is no approval to ask for and nothing to roll back.
obligations(_, "deny") := {}

obligations(rule, "allow") := rollback_of(rule)

obligations(rule, "hold") := object.union(approval_of(rule), rollback_of(rule))

action_of(rule) := "deny" if {
	rule.action == "hold"
	not has_approval_group(rule)
} else := rule.action if {
	known_action(rule.action)
} else := "deny"

known_action("allow")

known_action("deny")

known_action("hold")

# Kept apart: "not is_string(rule.approval.group)" would be undefined, not true,
# when the rule has no approval, because call arguments are evaluated outside "not".
has_approval_group(rule) if is_string(rule.approval.group)

risk_of(rule) := rule.risk if {
	known_risk(rule.risk)
} else := "high"

known_risk("read_only")

known_risk("draft")

known_risk("low")

known_risk("high")

reason_of(rule, body) := concat("", [base_reason(rule), " (fields: ", concat(", ", touched(rule, body)), ")"]) if {
	rule.touches
	not bodies.unlisted_fields
} else := concat("", [base_reason(rule), " (the ", bodies.kind, " body has no fields to list, so none of ", concat(", ", rule.touches), " can be ruled out)"]) if {
	rule.touches
} else := base_reason(rule)

# METADATA
# description: |
#   A mutation whose body the proxy could not read (body_kind "opaque", on a
#   route that forwards opaque bodies) is denied unless a catalog rule that
#   matches the request accepts opaque bodies ("opaque_body": "allow"): no
#   rule can check what such a body changes.
opaque_denials contains verdict if {
	bodies.kind == "opaque"
	not input.request.method in {"GET", "HEAD", "OPTIONS"}
	not opaque_allowed
	verdict := {
		"rule": "body.opaque",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", [
			"the body (", object.get(input.request.headers, "content-type", "no Content-Type"),
			") is opaque to the policy, so no rule can check what it changes; a catalog rule must accept opaque bodies",
		])],
	}
}

opaque_allowed if {
	path := input.request.upstream_path
	routes.safe_path(path)
	some pattern, listed in data.countersign.catalog.routes[input.request.route].rules[input.request.method]
	routes.pattern_matches(pattern, path)
	some rule in listed
	rule.opaque_body == "allow"
}

base_reason(rule) := rule.reason if {
	is_string(rule.reason)
	rule.reason != ""
} else := concat("", ["rule ", rule.id, " matched"])

# The catalog's approval defaults, overridden by the rule's own terms.
approval_of(rule) := {"approval": approval} if {
	approval := object.union(data.countersign.catalog.approval_defaults, rule.approval)
} else := {}

rollback_of(rule) := {"rollback": {key: fill(value) | some key, value in rule.rollback}} if {
	is_object(rule.rollback)
} else := {}

# "{upstream_path}" in a rollback value stands for the request's upstream path,
# alone ("{upstream_path}") or in a template ("{upstream_path}/{response.id}").
# Joining the pieces around the placeholder with the path replaces every
# occurrence without the non-native "replace" builtin.
fill(value) := concat(input.request.upstream_path, split(value, "{upstream_path}")) if {
	contains(value, "{upstream_path}")
} else := value
