# METADATA
# title: Workflow boundary
# description: |
#   Least privilege per agent: data.countersign.catalog.agents names, per
#   agent id, the routes the agent may use. An agent that is missing, not a
#   string or not listed, or a route not in the agent's list, is denied. The
#   agent id comes from the sidecar's own configuration, not from the agent.
package countersign.boundary

# METADATA
# description: Deny verdicts for requests outside the caller's boundary; empty when inside.
denials contains verdict if {
	not agent_id
	verdict := {
		"rule": "boundary.agent_missing",
		"action": "deny",
		"risk": "high",
		"reasons": ["the caller has no agent id; only agents listed in the catalog may call through the proxy"],
	}
}

denials contains verdict if {
	agent := agent_id
	not data.countersign.catalog.agents[agent]
	verdict := {
		"rule": "boundary.agent_unknown",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", ["agent ", agent, " is not listed in the catalog, so it may not call any route"])],
	}
}

denials contains verdict if {
	agent := agent_id
	data.countersign.catalog.agents[agent]
	route := request_route
	not route in allowed_routes(agent)
	verdict := {
		"rule": "boundary.route_not_allowed",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", ["agent ", agent, " may not use route ", describe(route), "; its routes are ", describe_routes(agent)])],
	}
}

# An agent listed without a list of routes may use none.
allowed_routes(agent) := routes if {
	routes := data.countersign.catalog.agents[agent].routes
	is_array(routes)
} else := []

describe_routes(agent) := concat(", ", sort(allowed_routes(agent))) if {
	count(allowed_routes(agent)) > 0
} else := "(none)"

# A helper rule, because "not is_string(input.caller.agent)" is undefined, not
# true, when the caller is null: call arguments are evaluated outside "not".
# METADATA
# description: The caller's agent id; undefined when the caller or the id is missing or not a string.
agent_id := agent if {
	agent := input.caller.agent
	is_string(agent)
}

# The route, or null when the request is missing or has no route.
request_route := route if {
	route := input.request.route
} else := null

describe(value) := value if is_string(value)

else := "(none)"
