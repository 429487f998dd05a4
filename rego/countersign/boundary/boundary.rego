# METADATA
# title: Workflow boundary and permission scopes
# description: |
#   Least privilege per agent and per workflow.
#
#   Agents (data.countersign.catalog.agents): per agent id, the routes it may
#   use, the workflows it may run ("workflows"), optionally the accounts it
#   may touch ("accounts") and whether every call must name a workflow
#   ("require_workflow"). An agent that is missing, not a string or not
#   listed, or a route not in the agent's list, is denied. The agent id comes
#   from the sidecar's own configuration, not from the agent.
#
#   Workflows (data.countersign.catalog.workflows): per workflow name, the
#   routes it may touch, optionally the catalog rules it may use ("rules":
#   the methods and paths, since every rule names one of each), the agent-side
#   tools it may call ("tools") and the accounts it may touch ("accounts").
#   A call that names a workflow is held to it: an unknown workflow, one the
#   agent may not run, or a route, rule, tool or account outside it, is
#   denied. A call that names no workflow is judged by the agent's own
#   boundary alone, unless the agent requires a workflow.
package countersign.boundary

import data.countersign.rules

catalog := data.countersign.catalog

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

denials contains verdict if {
	agent := agent_id
	catalog.agents[agent].require_workflow == true
	not workflow_id
	verdict := deny("boundary.workflow_missing", ["agent ", agent, " must name its workflow (X-Countersign-Workflow) on every call; this call names none"])
}

denials contains verdict if {
	agent := agent_id
	catalog.agents[agent]
	workflow := workflow_id
	not catalog.workflows[workflow]
	verdict := deny("boundary.workflow_unknown", ["workflow ", workflow, " is not in the catalog, so no call may run under it"])
}

denials contains verdict if {
	agent := agent_id
	catalog.agents[agent]
	workflow := workflow_id
	catalog.workflows[workflow]
	not workflow in listed(catalog.agents[agent], "workflows")
	verdict := deny("boundary.workflow_not_allowed", ["agent ", agent, " may not run workflow ", workflow, "; its workflows are ", describe_list(listed(catalog.agents[agent], "workflows"))])
}

denials contains verdict if {
	workflow := workflow_in_force
	route := request_route
	not route in listed(catalog.workflows[workflow], "routes")
	verdict := deny("boundary.workflow_route_not_allowed", ["workflow ", workflow, " may not use route ", describe(route), "; its routes are ", describe_list(listed(catalog.workflows[workflow], "routes"))])
}

# Deny verdicts need no permission: they refuse the call anyway, with their own reason.
denials contains verdict if {
	workflow := workflow_in_force
	allowed := catalog.workflows[workflow].rules
	is_array(allowed)
	some match in rules.matches
	match.action != "deny"
	not match.rule in allowed
	verdict := deny("boundary.workflow_rule_not_allowed", ["workflow ", workflow, " may not use rule ", match.rule, " (", match.reasons[0], ")"])
}

# A tool is what the agent says it is calling; an undeclared tool is not refused here.
denials contains verdict if {
	workflow := workflow_in_force
	tools := catalog.workflows[workflow].tools
	is_array(tools)
	tool := input.caller.tool
	is_string(tool)
	not tool in tools
	verdict := deny("boundary.tool_not_allowed", ["workflow ", workflow, " may not call tool ", tool, "; its tools are ", describe_list(tools)])
}

# A scope that lists accounts refuses calls for other accounts and calls that name none.
denials contains verdict if {
	some scope in account_scopes
	not account_in(scope.accounts)
	verdict := deny("boundary.account_not_allowed", [scope.holder, " may only touch accounts ", describe_list(scope.accounts), "; this call names ", describe_account])
}

account_scopes contains {"holder": concat("", ["agent ", agent]), "accounts": accounts} if {
	agent := agent_id
	accounts := catalog.agents[agent].accounts
	is_array(accounts)
}

account_scopes contains {"holder": concat("", ["workflow ", workflow]), "accounts": accounts} if {
	workflow := workflow_in_force
	accounts := catalog.workflows[workflow].accounts
	is_array(accounts)
}

account_in(accounts) if {
	account := input.caller.account
	is_string(account)
	account in accounts
}

describe_account := concat("", ["account ", input.caller.account]) if {
	is_string(input.caller.account)
} else := "no account"

deny(rule, parts) := {"rule": rule, "action": "deny", "risk": "high", "reasons": [concat("", parts)]}

# An agent listed without a list of routes may use none.
allowed_routes(agent) := listed(catalog.agents[agent], "routes")

describe_routes(agent) := describe_list(allowed_routes(agent))

# The list under key, or an empty list when it is missing or not a list.
listed(holder, key) := holder[key] if {
	is_array(holder[key])
} else := []

describe_list(values) := concat(", ", sort(values)) if {
	count(values) > 0
} else := "(none)"

# METADATA
# description: |
#   The workflow the call runs under, when the agent may run it; undefined
#   when the call names none, or one the agent may not run (already denied).
workflow_in_force := workflow if {
	agent := agent_id
	workflow := workflow_id
	catalog.workflows[workflow]
	workflow in listed(catalog.agents[agent], "workflows")
}

# METADATA
# description: The caller's workflow name; undefined when missing or not a string.
workflow_id := workflow if {
	workflow := input.caller.workflow
	is_string(workflow)
}

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
