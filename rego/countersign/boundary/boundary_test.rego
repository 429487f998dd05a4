package countersign.boundary_test

import data.countersign.boundary

agents := {
	"sales-assistant": {"routes": ["crm", "billing"]},
	"support-bot": {"routes": ["billing"]},
}

request_as(agent, route) := {
	"request": {"method": "GET", "route": route, "upstream_path": "/v1/invoices"},
	"caller": {"agent": agent},
}

rules_of(denials) := {d.rule | some d in denials}

test_denials_are_empty_when_the_agent_may_use_the_route if {
	count(boundary.denials) == 0 with input as request_as("support-bot", "billing")
		with data.countersign.catalog.agents as agents
}

test_denials_name_the_route_when_the_agent_may_not_use_it if {
	denials := boundary.denials with input as request_as("support-bot", "crm")
		with data.countersign.catalog.agents as agents
	rules_of(denials) == {"boundary.route_not_allowed"}
	some d in denials
	d.reasons == ["agent support-bot may not use route crm; its routes are billing"]
}

test_denials_say_none_when_the_route_is_null if {
	denials := boundary.denials with input as request_as("sales-assistant", null)
		with data.countersign.catalog.agents as agents
	some d in denials
	d.reasons == ["agent sales-assistant may not use route (none); its routes are billing, crm"]
}

test_denials_name_the_agent_when_it_is_not_listed if {
	denials := boundary.denials with input as request_as("rogue-bot", "crm")
		with data.countersign.catalog.agents as agents
	rules_of(denials) == {"boundary.agent_unknown"}
	some d in denials
	d.reasons == ["agent rogue-bot is not listed in the catalog, so it may not call any route"]
}

test_denials_flag_a_missing_agent_when_the_agent_is_null if {
	rules_of(boundary.denials) == {"boundary.agent_missing"} with input as request_as(null, "crm")
		with data.countersign.catalog.agents as agents
}

test_denials_flag_a_missing_agent_when_the_caller_is_null if {
	rules_of(boundary.denials) == {"boundary.agent_missing"} with input as {"request": {"route": "crm"}, "caller": null}
		with data.countersign.catalog.agents as agents
}

test_denials_flag_a_missing_agent_when_the_agent_is_not_a_string if {
	rules_of(boundary.denials) == {"boundary.agent_missing"} with input as request_as(42, "crm")
		with data.countersign.catalog.agents as agents
}

test_denials_say_none_when_the_request_is_null if {
	denials := boundary.denials with input as {"request": null, "caller": {"agent": "support-bot"}}
		with data.countersign.catalog.agents as agents
	some d in denials
	d.reasons == ["agent support-bot may not use route (none); its routes are billing"]
}

test_denials_name_no_routes_when_the_agent_is_listed_without_routes if {
	denials := boundary.denials with input as request_as("idle-bot", "billing")
		with data.countersign.catalog.agents as {"idle-bot": {}}
	some d in denials
	d.rule == "boundary.route_not_allowed"
	d.reasons == ["agent idle-bot may not use route billing; its routes are (none)"]
}

# ---- workflows and account scopes ----

catalog := {
	"agents": {
		"sales-assistant": {"routes": ["crm", "billing"], "workflows": ["quote-prep"]},
		"ops-assistant": {"routes": ["billing"], "workflows": ["invoice-exceptions"], "require_workflow": true, "accounts": ["acme", "globex"]},
	},
	"workflows": {
		"quote-prep": {"routes": ["crm"], "rules": ["crm.read"], "tools": ["update_deal"]},
		"invoice-exceptions": {"routes": ["billing"], "accounts": ["acme"]},
		"onboarding": {"routes": ["onboarding"]},
	},
	"routes": {"crm": {"rules": {
		"GET": {"/v3/**": [{"id": "crm.read", "risk": "read_only", "action": "allow", "reason": "reads"}]},
		"PATCH": {"/v3/deals/*": [{"id": "crm.deal_update", "risk": "low", "action": "allow", "reason": "updates"}]},
		"DELETE": {"/v3/deals/*": [{"id": "crm.deal_delete_forbidden", "risk": "high", "action": "deny", "reason": "no deletes"}]},
	}}},
}

call(agent, workflow, method, route, path, extra) := {
	"request": {"method": method, "route": route, "upstream_path": path, "body": {}},
	"caller": object.union({"agent": agent, "workflow": workflow, "tool": null, "account": "acme"}, extra),
}

denials_for(call_input) := denials if {
	denials := boundary.denials with input as call_input
		with data.countersign.catalog as catalog
}

test_denials_are_empty_when_the_call_stays_inside_its_workflow if {
	count(denials_for(call("sales-assistant", "quote-prep", "GET", "crm", "/v3/deals/1", {"tool": "update_deal"}))) == 0
}

test_denials_are_empty_when_the_call_names_no_workflow if {
	count(denials_for(call("sales-assistant", null, "PATCH", "crm", "/v3/deals/1", {}))) == 0
}

test_denials_flag_a_missing_workflow_when_the_agent_requires_one if {
	denials := denials_for(call("ops-assistant", null, "GET", "billing", "/v1/invoices", {}))
	rules_of(denials) == {"boundary.workflow_missing"}
	some d in denials
	d.reasons == ["agent ops-assistant must name its workflow (X-Countersign-Workflow) on every call; this call names none"]
}

test_denials_name_the_workflow_when_it_is_not_in_the_catalog if {
	denials := denials_for(call("sales-assistant", "bench-sync", "GET", "crm", "/v3/deals/1", {}))
	rules_of(denials) == {"boundary.workflow_unknown"}
	some d in denials
	d.reasons == ["workflow bench-sync is not in the catalog, so no call may run under it"]
}

test_denials_name_the_agents_workflows_when_the_agent_may_not_run_the_workflow if {
	denials := denials_for(call("sales-assistant", "onboarding", "GET", "crm", "/v3/deals/1", {}))
	rules_of(denials) == {"boundary.workflow_not_allowed"}
	some d in denials
	d.reasons == ["agent sales-assistant may not run workflow onboarding; its workflows are quote-prep"]
}

test_denials_name_the_route_when_the_workflow_may_not_use_it if {
	denials := denials_for(call("sales-assistant", "quote-prep", "GET", "billing", "/v1/invoices", {}))
	rules_of(denials) == {"boundary.workflow_route_not_allowed"}
	some d in denials
	d.reasons == ["workflow quote-prep may not use route billing; its routes are crm"]
}

test_denials_name_the_rule_when_the_workflow_may_not_use_it if {
	denials := denials_for(call("sales-assistant", "quote-prep", "PATCH", "crm", "/v3/deals/1", {}))
	rules_of(denials) == {"boundary.workflow_rule_not_allowed"}
	some d in denials
	d.reasons == ["workflow quote-prep may not use rule crm.deal_update (updates)"]
}

test_denials_leave_deny_rules_to_the_catalog_when_the_workflow_does_not_list_them if {
	count(denials_for(call("sales-assistant", "quote-prep", "DELETE", "crm", "/v3/deals/1", {}))) == 0
}

test_denials_name_the_tool_when_the_workflow_may_not_call_it if {
	denials := denials_for(call("sales-assistant", "quote-prep", "GET", "crm", "/v3/deals/1", {"tool": "export_all"}))
	rules_of(denials) == {"boundary.tool_not_allowed"}
	some d in denials
	d.reasons == ["workflow quote-prep may not call tool export_all; its tools are update_deal"]
}

test_denials_name_both_scopes_when_the_account_is_outside_agent_and_workflow if {
	denials := denials_for(call("ops-assistant", "invoice-exceptions", "GET", "billing", "/v1/invoices", {"account": "initech"}))
	rules_of(denials) == {"boundary.account_not_allowed"}
	{d.reasons[0] | some d in denials} == {
		"agent ops-assistant may only touch accounts acme, globex; this call names account initech",
		"workflow invoice-exceptions may only touch accounts acme; this call names account initech",
	}
}

test_denials_flag_the_workflow_scope_when_only_the_agent_allows_the_account if {
	denials := denials_for(call("ops-assistant", "invoice-exceptions", "GET", "billing", "/v1/invoices", {"account": "globex"}))
	{d.reasons[0] | some d in denials} == {"workflow invoice-exceptions may only touch accounts acme; this call names account globex"}
}

test_denials_say_no_account_when_a_scoped_call_names_none if {
	denials := denials_for(call("ops-assistant", "invoice-exceptions", "GET", "billing", "/v1/invoices", {"account": null}))
	some d in denials
	d.reasons == ["agent ops-assistant may only touch accounts acme, globex; this call names no account"]
}

test_denials_refuse_any_named_workflow_when_the_catalog_lists_none if {
	rules_of(boundary.denials) == {"boundary.workflow_unknown"} with input as call("support-bot", "anything", "GET", "billing", "/v1/x", {})
		with data.countersign.catalog as {"agents": agents}
}
