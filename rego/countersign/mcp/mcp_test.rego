package countersign.mcp_test

import data.countersign
import data.countersign.mcp

# A POST on the support-mcp route carrying one JSON-RPC message, as the proxy
# builds the input (docs/mcp.md); the body is the message, input.mcp what the
# proxy read from it.
call(message) := {
	"request": {
		"method": "POST",
		"route": "support-mcp",
		"path": "/mcp",
		"upstream_path": "/mcp",
		"query": {},
		"headers": {"content-type": "application/json", "mcp-session-id": "s-1"},
		"body_kind": "json",
		"body": {"jsonrpc": "2.0"},
		"body_nested": null,
		"body_sha256": "0000",
		"size": 90,
	},
	"caller": {
		"agent": "support-bot",
		"workflow": null,
		"run": "r-1",
		"on_behalf_of": "ana@example.com",
		"account": "acme",
		"tool": null,
		"prompt_ref": null,
		"context_refs": null,
	},
	"context": {"time": "2026-11-25T10:00:00Z", "spend": {}},
	"mcp": object.union(
		{
			"method": null, "tool": null, "arguments": null, "request_id": 1,
			"session_id": "s-1", "protocol_version": "2025-06-18", "uri": null, "prompt": null,
			"is_notification": false, "is_response": false, "batch": null,
		},
		message,
	),
}

tool_call(tool, arguments) := call({"method": "tools/call", "tool": tool, "arguments": arguments})

# A request without a message: the GET event stream, the DELETE ending a session.
bodyless(method) := object.union(call({"request_id": null}), {"request": object.union(
	call({}).request,
	{"method": method, "headers": {"mcp-session-id": "s-1"}, "body_kind": "none", "body": null, "size": 0},
)})

batch(messages) := call({"request_id": null, "protocol_version": null, "batch": [object.union(
	{
		"method": null, "tool": null, "arguments": null, "request_id": 1, "uri": null,
		"prompt": null, "is_notification": false, "is_response": false,
	},
	m,
) |
	some m in messages
]})

in_workflow(input_doc, workflow) := object.union(input_doc, {"caller": object.union(input_doc.caller, {"workflow": workflow})})

summary(d) := {"action": d.action, "risk": d.risk, "rule": d.rule}

cases := [
	{
		"note": "a read-only tool is allowed",
		"input": tool_call("lookup_customer", {"id": "c-42"}),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.lookup_customer"},
	},
	{
		"note": "a read-only tool without arguments is allowed",
		"input": tool_call("list_orders", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.list_orders"},
	},
	{
		"note": "delete_customer is denied",
		"input": tool_call("delete_customer", {"id": "c-42"}),
		"want": {"action": "deny", "risk": "high", "rule": "support-mcp.delete_customer_forbidden"},
	},
	{
		"note": "a refund within the limit is allowed",
		"input": tool_call("issue_refund", {"amount": 200, "order": "o-1"}),
		"want": {"action": "allow", "risk": "low", "rule": "support-mcp.refund_small"},
	},
	{
		"note": "a refund above the limit is held",
		"input": tool_call("issue_refund", {"amount": 200.01, "order": "o-1"}),
		"want": {"action": "hold", "risk": "high", "rule": "support-mcp.refund_large"},
	},
	{
		"note": "a refund with a negative amount is denied",
		"input": tool_call("issue_refund", {"amount": -5}),
		"want": {"action": "deny", "risk": "high", "rule": "support-mcp.refund_invalid"},
	},
	{
		"note": "a refund without arguments is denied",
		"input": tool_call("issue_refund", null),
		"want": {"action": "deny", "risk": "high", "rule": "support-mcp.refund_invalid"},
	},
	{
		"note": "an unknown tool is denied",
		"input": tool_call("drop_tables", {}),
		"want": {"action": "deny", "risk": "high", "rule": "mcp.tool_not_allowed"},
	},
	{
		"note": "tools/list is allowed",
		"input": call({"method": "tools/list"}),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.list"},
	},
	{
		"note": "initialize is allowed",
		"input": call({"method": "initialize"}),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.protocol"},
	},
	{
		"note": "the initialized notification is allowed",
		"input": call({"method": "notifications/initialized", "request_id": null, "is_notification": true}),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.protocol"},
	},
	{
		"note": "an unlisted method is denied",
		"input": call({"method": "sampling/createMessage"}),
		"want": {"action": "deny", "risk": "high", "rule": "mcp.method_not_allowed"},
	},
	{
		"note": "the client's response to a server request is allowed",
		"input": call({"is_response": true, "request_id": "srv-1"}),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.client_response"},
	},
	{
		"note": "a customer record may be read",
		"input": call({"method": "resources/read", "uri": "crm://customers/42"}),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.read_customer_record"},
	},
	{
		"note": "another resource is denied",
		"input": call({"method": "resources/read", "uri": "crm://payroll/2026"}),
		"want": {"action": "deny", "risk": "high", "rule": "mcp.resource_not_allowed"},
	},
	{
		"note": "a listed prompt is allowed",
		"input": call({"method": "prompts/get", "prompt": "refund_letter", "arguments": {"tone": "warm"}}),
		"want": {"action": "allow", "risk": "draft", "rule": "support-mcp.refund_letter"},
	},
	{
		"note": "another prompt is denied",
		"input": call({"method": "prompts/get", "prompt": "jailbreak"}),
		"want": {"action": "deny", "risk": "high", "rule": "mcp.prompt_not_allowed"},
	},
	{
		"note": "the GET event stream passes as a request without a message",
		"input": bodyless("GET"),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.event_stream"},
	},
	{
		"note": "the DELETE ending a session passes",
		"input": bodyless("DELETE"),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.session_end"},
	},
	{
		"note": "another method without a message is denied",
		"input": bodyless("OPTIONS"),
		"want": {"action": "deny", "risk": "high", "rule": "mcp.request_not_allowed"},
	},
	{
		"note": "a batch of allowed messages is allowed",
		"input": batch([
			{"method": "tools/call", "tool": "lookup_customer", "arguments": {"id": "c-1"}},
			{"method": "notifications/cancelled", "request_id": null, "is_notification": true},
		]),
		"want": {"action": "allow", "risk": "read_only", "rule": "support-mcp.lookup_customer"},
	},
	{
		"note": "a batch with one denied message is denied",
		"input": batch([
			{"method": "tools/call", "tool": "lookup_customer", "arguments": {"id": "c-1"}},
			{"method": "tools/call", "tool": "delete_customer", "arguments": {"id": "c-1"}, "request_id": 2},
		]),
		"want": {"action": "deny", "risk": "high", "rule": "support-mcp.delete_customer_forbidden"},
	},
	{
		"note": "a batch with one held message is held",
		"input": batch([
			{"method": "tools/call", "tool": "issue_refund", "arguments": {"amount": 900}},
			{"method": "tools/call", "tool": "list_orders", "request_id": 2},
		]),
		"want": {"action": "hold", "risk": "high", "rule": "support-mcp.refund_large"},
	},
	{
		"note": "a tool outside the call's workflow is denied",
		"input": in_workflow(tool_call("delete_customer", {"id": "c-1"}), "support-escalation"),
		"want": {"action": "deny", "risk": "high", "rule": "mcp.workflow_tool_not_allowed"},
	},
	{
		"note": "a tool inside the call's workflow is judged by its rules",
		"input": in_workflow(tool_call("issue_refund", {"amount": 20}), "support-escalation"),
		"want": {"action": "allow", "risk": "low", "rule": "support-mcp.refund_small"},
	},
	{
		"note": "an agent without the MCP route is refused by the boundary",
		"input": object.union(tool_call("lookup_customer", {}), {"caller": object.union(tool_call("lookup_customer", {}).caller, {"agent": "sales-assistant"})}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.route_not_allowed"},
	},
]

test_mcp_decisions_match_the_table_when_evaluated if {
	every c in cases {
		summary(countersign.decision) == c.want with input as c.input
	}
}

test_mcp_case_notes_are_unique_when_listed if {
	count({c.note | some c in cases}) == count(cases)
}

test_mcp_hold_names_the_approvers_when_a_refund_is_large if {
	d := countersign.decision with input as tool_call("issue_refund", {"amount": 500})
	d.approval.group == "support-leads"
	d.approval.on_timeout == "deny"
	d.reasons[0] == "refunds above the refund limit need a support lead's approval"
	startswith(d.rollback.manual, "a refund is reversed by finance")
}

test_mcp_denial_names_the_tool_when_it_is_unknown if {
	d := countersign.decision with input as tool_call("drop_tables", {})
	d.reasons == ["no rule allows MCP tool drop_tables on support-mcp with these arguments"]
}

test_mcp_batch_denial_names_every_cause_when_two_messages_are_denied if {
	d := countersign.decision with input as batch([
		{"method": "tools/call", "tool": "delete_customer", "arguments": {}},
		{"method": "tools/call", "tool": "drop_tables", "arguments": {}, "request_id": 2},
	])
	d.action == "deny"
	"no rule allows MCP tool drop_tables on support-mcp with these arguments" in d.reasons
	"agents may not delete customers" in d.reasons
}

test_mcp_tools_list_names_the_listable_tools_when_decided if {
	d := countersign.decision with input as call({"method": "tools/list"})
	d.mcp == {"listable_tools": ["issue_refund", "list_orders", "lookup_customer"]}
	d.cacheable == true
}

test_mcp_listable_tools_stay_inside_the_workflow_when_it_lists_tools if {
	d := countersign.decision with input as in_workflow(call({"method": "tools/list"}), "support-escalation")
		with data.countersign.catalog.workflows["support-escalation"].mcp_tools as ["lookup_customer"]
	d.mcp.listable_tools == ["lookup_customer"]
}

test_mcp_listable_tools_are_all_allowed_ones_when_the_workflow_lists_none if {
	tools := mcp.listable_tools with input as in_workflow(call({"method": "tools/list"}), "support-escalation")
		with data.countersign.catalog.workflows["support-escalation"] as {"description": "d", "routes": ["support-mcp"]}
	tools == ["issue_refund", "list_orders", "lookup_customer"]
}

test_mcp_other_requests_carry_no_mcp_obligation_when_decided if {
	d := countersign.decision with input as tool_call("lookup_customer", {})
	not d.mcp
}

test_mcp_gives_no_verdicts_when_the_route_is_not_an_mcp_route if {
	plain := object.remove(tool_call("lookup_customer", {}), ["mcp"])
	mcp.verdicts == [] with input as plain
	mcp.obligations == {} with input as plain
	mcp.workflow_denials == [] with input as plain
}

test_mcp_route_the_catalog_does_not_list_falls_to_the_default_deny if {
	other := object.union(tool_call("lookup_customer", {}), {"request": object.union(call({}).request, {"route": "other-mcp"})})
	mcp.verdicts == [] with input as other
	d := countersign.decision with input as other
		with data.countersign.catalog.agents["support-bot"].routes as ["other-mcp"]
	d.rule == "default_deny"
}

test_mcp_responses_are_denied_when_the_server_lists_none if {
	d := countersign.decision with input as call({"is_response": true, "request_id": "srv-1"})
		with data.countersign.mcp_catalog.servers["support-mcp"].responses as null
	d.rule == "mcp.response_not_allowed"
}

test_mcp_resource_method_without_uri_is_an_unlisted_method_when_judged if {
	d := countersign.decision with input as call({"method": "resources/subscribe"})
	d.rule == "mcp.method_not_allowed"
	d.reasons == ["MCP method resources/subscribe is not allowed on support-mcp"]
}

test_mcp_unnamed_tool_is_described_as_none_when_denied if {
	d := countersign.decision with input as call({"method": "tools/call"})
	d.reasons == ["no rule allows MCP tool (none) on support-mcp with these arguments"]
}

test_mcp_tool_calls_count_against_spend_limits_when_a_workflow_is_spent if {
	spent := object.union(
		in_workflow(tool_call("issue_refund", {"amount": 20}), "support-escalation"),
		{"context": {"time": "2026-11-25T10:00:00Z", "spend": {"account_today": 3}}},
	)
	d := countersign.decision with input as spent
	d.rule == "budget.account_today"
	d.action == "hold"
	d.approval.group == "finance"
}

test_mcp_read_only_tool_calls_cost_nothing_when_a_workflow_is_spent if {
	spent := object.union(
		in_workflow(tool_call("lookup_customer", {"id": "c-1"}), "support-escalation"),
		{"context": {"time": "2026-11-25T10:00:00Z", "spend": {"account_today": 3}}},
	)
	d := countersign.decision with input as spent
	d.rule == "support-mcp.lookup_customer"
	d.cost == 0
}

test_mcp_batch_with_a_tools_list_carries_the_listable_tools_when_decided if {
	d := countersign.decision with input as batch([
		{"method": "tools/list"},
		{"method": "notifications/cancelled", "request_id": null, "is_notification": true},
	])
	d.mcp.listable_tools == ["issue_refund", "list_orders", "lookup_customer"]
}
