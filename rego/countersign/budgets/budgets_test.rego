package countersign.budgets_test

import data.countersign.budgets

catalog := {
	"agents": {"sales-assistant": {
		"routes": ["crm"],
		"workflows": ["quote-prep"],
		"spend_limits": [{"counter": "agent_today", "limit": 10, "action": "deny", "reason": "agent budget spent"}],
	}},
	"workflows": {"quote-prep": {"routes": ["crm"], "spend_limits": [
		{"counter": "workflow_today", "limit": 3, "action": "hold", "approval": {"group": "sales-managers"}},
		{"counter": "account_today", "limit": 2, "action": "deny"},
	]}},
	"approval_defaults": {"quorum": 1, "timeout": "PT30M", "on_timeout": "deny"},
	"routes": {"crm": {"rules": {
		"GET": {"/v3/**": [{"id": "crm.read", "risk": "read_only", "action": "allow", "reason": "reads"}]},
		"PATCH": {"/v3/deals/*": [{"id": "crm.deal_update", "risk": "low", "action": "allow", "reason": "updates"}]},
	}}},
}

call(method, workflow, spend) := {
	"request": {"method": method, "route": "crm", "upstream_path": "/v3/deals/1", "body": {}},
	"caller": {"agent": "sales-assistant", "workflow": workflow},
	"context": {"time": "2026-11-25T10:00:00Z", "spend": spend},
}

verdicts_for(call_input) := verdicts if {
	verdicts := budgets.verdicts with input as call_input
		with data.countersign.catalog as catalog
}

rules_of(verdicts) := {v.rule | some v in verdicts}

test_verdicts_are_empty_when_every_counter_is_under_its_limit if {
	count(verdicts_for(call("PATCH", "quote-prep", {"workflow_today": 2, "account_today": 1, "agent_today": 9}))) == 0
}

test_verdicts_are_empty_when_the_counters_are_absent if {
	count(verdicts_for(call("PATCH", "quote-prep", {}))) == 0
	count(verdicts_for({"request": {"method": "PATCH", "route": "crm", "upstream_path": "/v3/deals/1"}, "caller": {"agent": "sales-assistant", "workflow": "quote-prep"}})) == 0
}

test_verdicts_hold_for_approval_when_the_workflow_counter_reaches_its_limit if {
	verdicts := verdicts_for(call("PATCH", "quote-prep", {"workflow_today": 3}))
	verdicts == {{
		"rule": "budget.workflow_today",
		"action": "hold",
		"risk": "high",
		"reasons": ["workflow quote-prep is over its workflow_today spend limit"],
		"approval": {"group": "sales-managers", "quorum": 1, "timeout": "PT30M", "on_timeout": "deny"},
	}}
}

test_verdicts_deny_when_the_account_counter_is_over_its_limit if {
	rules_of(verdicts_for(call("PATCH", "quote-prep", {"account_today": 7}))) == {"budget.account_today"}
}

test_verdicts_apply_the_agent_limit_when_the_call_names_no_workflow if {
	verdicts := verdicts_for(call("PATCH", null, {"agent_today": 10, "workflow_today": 99}))
	rules_of(verdicts) == {"budget.agent_today"}
	some v in verdicts
	v.reasons == ["agent budget spent"]
	v.action == "deny"
}

test_verdicts_are_empty_when_the_call_is_a_read if {
	count(verdicts_for(call("GET", "quote-prep", {"workflow_today": 50, "agent_today": 50}))) == 0
}

test_verdicts_ignore_a_counter_when_it_is_not_a_number if {
	count(verdicts_for(call("PATCH", "quote-prep", {"workflow_today": "lots"}))) == 0
}

test_verdicts_count_a_limit_as_spent_when_the_limit_is_not_a_number if {
	verdicts := budgets.verdicts with input as call("PATCH", null, {})
		with data.countersign.catalog as object.union(catalog, {"agents": {"sales-assistant": {"spend_limits": [{"counter": "agent_today", "limit": "10", "action": "hold"}]}}})
	some v in verdicts
	v.action == "deny"
	v.rule == "budget.agent_today"
	v.reasons == ["agent sales-assistant is over its agent_today spend limit"]
	not v.approval
}

test_verdicts_name_an_unnamed_counter_when_the_counter_is_not_a_string if {
	verdicts := budgets.verdicts with input as call("PATCH", null, {})
		with data.countersign.catalog as object.union(catalog, {"agents": {"sales-assistant": {"spend_limits": [{"counter": 5, "limit": 0, "action": "deny"}]}}})
	rules_of(verdicts) == {"budget.(unnamed counter)"}
}
