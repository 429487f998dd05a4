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
#
#   Every check runs on every request, so each rule below starts with the
#   condition that fails soonest for a call inside its boundary, and the few
#   facts every check needs (agent_spec, workflow_spec, workflow_in_force)
#   are looked up once.
package countersign.boundary

import data.countersign.rules

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
	not agent_spec
	agent := agent_id
	verdict := {
		"rule": "boundary.agent_unknown",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", ["agent ", agent, " is not listed in the catalog, so it may not call any route"])],
	}
}

# An agent listed without a list of routes may use none.
denials contains verdict if {
	agent_spec
	route := request_route(input)
	routes := listed(agent_spec, "routes")
	not route in routes
	verdict := {
		"rule": "boundary.route_not_allowed",
		"action": "deny",
		"risk": "high",
		"reasons": [concat("", ["agent ", agent_id, " may not use route ", describe(route), "; its routes are ", describe_list(routes)])],
	}
}

denials contains verdict if {
	agent_spec.require_workflow == true
	not workflow_id
	verdict := deny("boundary.workflow_missing", ["agent ", agent_id, " must name its workflow (X-Countersign-Workflow) on every call; this call names none"])
}

denials contains verdict if {
	workflow := workflow_id
	not workflow_spec
	agent_spec
	verdict := deny("boundary.workflow_unknown", ["workflow ", workflow, " is not in the catalog, so no call may run under it"])
}

denials contains verdict if {
	workflow := workflow_id
	not workflow_in_force
	workflow_spec
	agent_spec
	workflows := listed(agent_spec, "workflows")
	verdict := deny("boundary.workflow_not_allowed", ["agent ", agent_id, " may not run workflow ", workflow, "; its workflows are ", describe_list(workflows)])
}

denials contains verdict if {
	workflow := workflow_in_force
	route := request_route(input)
	routes := listed(workflow_spec, "routes")
	not route in routes
	verdict := deny("boundary.workflow_route_not_allowed", ["workflow ", workflow, " may not use route ", describe(route), "; its routes are ", describe_list(routes)])
}

# Deny verdicts need no permission: they refuse the call anyway, with their own reason.
denials contains verdict if {
	workflow := workflow_in_force
	allowed := workflow_spec.rules
	is_array(allowed)
	some match in rules.matches
	match.action != "deny"
	not match.rule in allowed
	verdict := deny("boundary.workflow_rule_not_allowed", ["workflow ", workflow, " may not use rule ", match.rule, " (", match.reasons[0], ")"])
}

# A tool is what the agent says it is calling; an undeclared tool is not refused here.
denials contains verdict if {
	workflow := workflow_in_force
	tools := workflow_spec.tools
	is_array(tools)
	tool := input.caller.tool
	is_string(tool)
	not tool in tools
	verdict := deny("boundary.tool_not_allowed", ["workflow ", workflow, " may not call tool ", tool, "; its tools are ", describe_list(tools)])
}

# A scope that lists accounts refuses calls for other accounts and calls that name none.
denials contains verdict if {
	accounts := agent_spec.accounts
	is_array(accounts)
	not account_in(accounts)
	verdict := deny_account(concat("", ["agent ", agent_id]), accounts)
}

denials contains verdict if {
	workflow := workflow_in_force
	accounts := workflow_spec.accounts
	is_array(accounts)
	not account_in(accounts)
	verdict := deny_account(concat("", ["workflow ", workflow]), accounts)
}

deny_account(holder, accounts) := deny("boundary.account_not_allowed", [holder, " may only touch accounts ", describe_list(accounts), "; this call names ", describe_account])

account_in(accounts) if {
	account := input.caller.account
	is_string(account)
	account in accounts
}

describe_account := concat("", ["account ", input.caller.account]) if {
	is_string(input.caller.account)
} else := "no account"

deny(rule, parts) := {"rule": rule, "action": "deny", "risk": "high", "reasons": [concat("", parts)]}

# The list under key, or an empty list when it is missing or not a list.
listed(holder, key) := value if {
	value := holder[key]
	is_array(value)
} else := []

describe_list(values) := concat(", ", sort(values)) if {
	count(values) > 0
} else := "(none)"

# A helper rule, because "not is_string(input.caller.agent)" is undefined, not
# true, when the caller is null: call arguments are evaluated outside "not".
# METADATA
# description: The caller's agent id; undefined when the caller or the id is missing or not a string.
agent_id := agent if {
	agent := input.caller.agent
	is_string(agent)
}

# METADATA
# description: The caller's agent's catalog entry; undefined when the agent is missing or not listed.
agent_spec := data.countersign.catalog.agents[agent_id]

# METADATA
# description: The caller's workflow name; undefined when missing or not a string.
workflow_id := workflow if {
	workflow := input.caller.workflow
	is_string(workflow)
}

# METADATA
# description: The named workflow's catalog entry; undefined when none is named or it is not listed.
workflow_spec := data.countersign.catalog.workflows[workflow_id]

# METADATA
# description: |
#   The workflow the call runs under, when the agent may run it; undefined
#   when the call names none, or one the agent may not run (already denied).
#   When it is defined, workflow_spec is its catalog entry.
workflow_in_force := workflow if {
	workflow := workflow_id
	workflow_spec
	workflow in listed(agent_spec, "workflows")
}

# The route of the call (the whole input), or null when the request is
# missing or has no route.
request_route(call) := route if {
	route := call.request.route
} else := null

describe(value) := value if is_string(value)

else := "(none)"
