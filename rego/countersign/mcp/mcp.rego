# METADATA
# title: MCP servers
# description: |
#   Verdicts for requests on MCP routes (routes with kind: mcp), from the MCP
#   catalog (data.countersign.mcp_catalog.servers, keyed by route name). The
#   proxy reads each JSON-RPC message of such a request into input.mcp
#   (docs/mcp.md): one message's method, tool, arguments, uri and prompt at
#   the top, or a batch's messages in input.mcp.batch; a request without a
#   body (the GET event stream, the DELETE that ends a session) has none.
#
#   Each message gets verdicts of its own, and a batch is judged as the most
#   restrictive of its messages' verdicts (the entry point's choice): one
#   denied message refuses the whole batch, one held message holds it.
#
#     requests.<HTTP method>   a request without a message (GET, DELETE)
#     methods.<method>         protocol methods and notifications (initialize, tools/list ...)
#     responses                the client's answers to the server's requests
#     tools.<name>             tools/call: rules with an optional check on the arguments
#     resources                resources/read|subscribe|unsubscribe: rules by uri_prefix
#     prompts.<name>           prompts/get: rules with an optional check on the arguments
#
#   Rules read as catalog rules do (countersign.rules): id, action, risk,
#   reason, check (a band of a numeric argument against a catalog limit),
#   approval. What no rule allows is denied with a reason naming it: an
#   unknown tool, resource, prompt or method. A workflow with an "mcp_tools"
#   list (data.countersign.catalog.workflows) also limits the MCP tools the
#   call may use.
#
#   Which tools a tools/list answer may show: listable_tools, the tools with
#   a rule that is not a deny, inside the workflow's mcp_tools; the entry point
#   returns it as the decision's "mcp" obligation for a tools/list request.
package countersign.mcp

import data.countersign.boundary
import data.countersign.rules

# METADATA
# description: The catalog entry of the request's MCP route; undefined off MCP routes.
server := data.countersign.mcp_catalog.servers[input.request.route] if input.mcp

# The messages to judge: the batch's, else the one message; none without a body.
messages := input.mcp.batch if {
	is_array(input.mcp.batch)
} else := [input.mcp] if {
	has_message(input.mcp)
} else := []

has_message(m) if m.method != null

has_message(m) if m.is_response == true

# METADATA
# description: |
#   The verdicts for the request on an MCP route: for each message, the
#   verdicts of the catalog rules that match it, or one deny when none does;
#   for a request without a message, the rule for its HTTP method. Empty off
#   MCP routes, and for an MCP route the catalog does not list (the default
#   deny then refuses it).
verdicts := array.concat(message_verdicts, request_verdicts) if {
	server
} else := []

message_verdicts := [verdict |
	some m in messages
	some verdict in verdicts_of(m)
]

request_verdicts := [verdict_of(rule, {})] if {
	count(messages) == 0
	rule := server.requests[input.request.method]
} else := [deny("mcp.request_not_allowed", ["the MCP route ", input.request.route, " takes no ", input.request.method, " requests without a message"])] if {
	count(messages) == 0
} else := []

verdicts_of(m) := found if {
	found := matching(m)
	count(found) > 0
} else := [unmatched(m)]

matching(m) := [verdict_of(rule, {})] if {
	m.is_response == true
	rule := server.responses
} else := [verdict_of(server.methods[m.method], {})] if {
	server.methods[m.method]
} else := [verdict |
	some rule in server.tools[m.tool]
	some verdict in checked(rule, arguments(m))
] if {
	m.method == "tools/call"
} else := [verdict |
	some rule in server.prompts[m.prompt]
	some verdict in checked(rule, arguments(m))
] if {
	m.method == "prompts/get"
} else := [verdict_of(rule, {}) |
	some rule in server.resources
	startswith(m.uri, rule.uri_prefix)
] if {
	m.method in {"resources/read", "resources/subscribe", "resources/unsubscribe"}
} else := []

# A rule with a check applies when the arguments fall in its band.
checked(rule, args) := [verdict_of(rule, args)] if {
	rules.check_passes(rule, args)
} else := []

arguments(m) := m.arguments if is_object(m.arguments)

else := {}

verdict_of(rule, args) := rules.verdict_of(rule, args)

unmatched(m) := deny("mcp.response_not_allowed", ["the MCP route ", input.request.route, " does not take the client's responses"]) if {
	m.is_response == true
} else := deny("mcp.tool_not_allowed", ["no rule allows MCP tool ", describe(m.tool), " on ", input.request.route, " with these arguments"]) if {
	m.method == "tools/call"
} else := deny("mcp.prompt_not_allowed", ["no rule allows MCP prompt ", describe(m.prompt), " on ", input.request.route]) if {
	m.method == "prompts/get"
} else := deny("mcp.resource_not_allowed", ["no rule allows MCP resource ", describe(m.uri), " on ", input.request.route]) if {
	startswith(m.method, "resources/")
	is_string(m.uri)
} else := deny("mcp.method_not_allowed", ["MCP method ", describe(m.method), " is not allowed on ", input.request.route])

# METADATA
# description: |
#   Deny verdicts for MCP tools outside the workflow the call runs under,
#   when that workflow lists its MCP tools ("mcp_tools").
workflow_denials := [verdict |
	workflow := boundary.workflow_in_force
	tools := workflow_tools
	some m in messages
	m.method == "tools/call"
	not m.tool in tools
	verdict := deny("mcp.workflow_tool_not_allowed", ["workflow ", workflow, " may not call MCP tool ", m.tool, "; its MCP tools are ", boundary.describe_list(tools)])
] if {
	server
} else := []

# METADATA
# description: |
#   The tools a tools/list answer may show: those with at least one rule
#   that is not a deny (so a call can succeed, held or not), inside the
#   workflow's mcp_tools when the call runs under a workflow that lists them.
listable_tools := sort({name |
	some name, listed in server.tools
	some rule in listed
	rules.action_of(rule) != "deny"
	in_workflow(name)
})

in_workflow(_) if not workflow_tools

in_workflow(name) if name in workflow_tools

# The MCP tools of the workflow in force; undefined when there is none, or it lists none.
workflow_tools := tools if {
	boundary.workflow_in_force
	tools := boundary.workflow_spec.mcp_tools
	is_array(tools)
}

# METADATA
# description: |
#   The decision's "mcp" obligation: for a request holding a tools/list
#   message (alone or in a batch), the tools its answer may show (the proxy
#   filters the answer to that message by it). Empty otherwise.
obligations := {"mcp": {"listable_tools": listable_tools}} if {
	server
	some m in messages
	m.method == "tools/list"
} else := {}

deny(rule, parts) := {"rule": rule, "action": "deny", "risk": "high", "reasons": [concat("", parts)]}

describe(value) := value if is_string(value)

else := "(none)"
