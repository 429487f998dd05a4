package countersign_test

import data.countersign

# A request as the proxy sends it, from a call that names no workflow (the
# workflow boundary has its own tests in workflows_test.rego); tests override
# what they need.
request(method, route, upstream_path, body) := {
	"request": {
		"method": method,
		"route": route,
		"path": concat("", ["/", route, upstream_path]),
		"upstream_path": upstream_path,
		"query": {},
		"headers": {"content-type": "application/json"},
		"body": body,
		"body_sha256": "0000",
		"size": 17,
	},
	"caller": {
		"agent": "sales-assistant",
		"workflow": null,
		"run": "r-81",
		"on_behalf_of": "ana@example.com",
		"account": "acme",
		"tool": "update_deal",
		"prompt_ref": null,
		"context_refs": null,
	},
	"context": {"time": "2026-11-25T10:00:00Z", "spend": {}},
}

as_agent(req, agent) := object.union(req, {"caller": object.union(req.caller, {"agent": agent})})

# The summary every case is checked against: action, risk and rule.
summary(d) := {"action": d.action, "risk": d.risk, "rule": d.rule}

# Table of cases; docs/policy-contract.md and the proxy's end-to-end tests reuse them.
cases := [
	{
		"note": "crm read",
		"input": request("GET", "crm", "/v3/deals/42", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "crm.read"},
	},
	{
		"note": "crm draft note",
		"input": request("POST", "crm", "/v3/notes", {"deal_id": 42, "text": "call went well"}),
		"want": {"action": "allow", "risk": "draft", "rule": "crm.draft_note"},
	},
	{
		"note": "discount at the limit",
		"input": request("PATCH", "crm", "/v3/deals/42", {"discount_pct": 15}),
		"want": {"action": "allow", "risk": "low", "rule": "crm.deal_update"},
	},
	{
		"note": "discount just over the limit",
		"input": request("PATCH", "crm", "/v3/deals/42", {"discount_pct": 15.5}),
		"want": {"action": "hold", "risk": "high", "rule": "crm.deal_discount_over_limit"},
	},
	{
		"note": "deal update with a null body",
		"input": request("PATCH", "crm", "/v3/deals/42", null),
		"want": {"action": "deny", "risk": "high", "rule": "crm.deal_update_invalid_body"},
	},
	{
		"note": "deal delete",
		"input": request("DELETE", "crm", "/v3/deals/42", null),
		"want": {"action": "deny", "risk": "high", "rule": "crm.deal_delete_forbidden"},
	},
	{
		"note": "billing read",
		"input": request("GET", "billing", "/v1/invoices", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "billing.read"},
	},
	{
		"note": "refund at the limit",
		"input": request("POST", "billing", "/v1/refunds", {"amount": 200}),
		"want": {"action": "allow", "risk": "low", "rule": "billing.refund_small"},
	},
	{
		"note": "refund a cent over the limit",
		"input": request("POST", "billing", "/v1/refunds", {"amount": 200.01}),
		"want": {"action": "hold", "risk": "high", "rule": "billing.refund_large"},
	},
	{
		"note": "refund without an amount",
		"input": request("POST", "billing", "/v1/refunds", {"reason": "late"}),
		"want": {"action": "deny", "risk": "high", "rule": "billing.refund_invalid_amount"},
	},
	{
		"note": "unlisted method and path",
		"input": request("PUT", "crm", "/v3/deals/42", {"discount_pct": 5}),
		"want": {"action": "deny", "risk": "high", "rule": "default_deny"},
	},
	{
		"note": "unknown agent",
		"input": as_agent(request("GET", "crm", "/v3/deals/42", null), "rogue-bot"),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.agent_unknown"},
	},
	{
		"note": "agent outside its routes",
		"input": as_agent(request("GET", "crm", "/v3/deals/42", null), "support-bot"),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.route_not_allowed"},
	},
	{
		"note": "null agent",
		"input": as_agent(request("GET", "crm", "/v3/deals/42", null), null),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.agent_missing"},
	},
]

test_decision_matches_the_table_when_evaluating_every_case if {
	failures := [{"note": c.note, "got": got, "want": c.want} |
		some c in cases
		got := summary(countersign.decision) with input as c.input
		got != c.want
	]
	count(failures) == 0
}

test_decision_allows_reads_at_no_cost_when_the_route_is_crm if {
	d := countersign.decision with input as request("GET", "crm", "/v3/deals", null)
	d == {
		"risk": "read_only",
		"action": "allow",
		"reasons": ["reads of CRM records are allowed"],
		"rule": "crm.read",
		"record": {"body": "full"},
		"cost": 0,
		"cacheable": true,
	}
}

test_decision_is_not_cacheable_when_it_changes_something if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", {"discount_pct": 5})
	d.action == "allow"
	d.cacheable == false
}

test_decision_gives_a_response_rollback_template_when_drafting_a_note if {
	d := countersign.decision with input as request("POST", "crm", "/v3/notes", {"text": "x"})
	d.action == "allow"
	d.risk == "draft"
	d.cost == 1
	d.rollback == {"method": "DELETE", "path_template": "/v3/notes/{response.id}"}
	not d.approval
}

test_decision_allows_with_a_pre_image_rollback_when_the_discount_is_at_the_limit if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", {"discount_pct": 15})
	d.action == "allow"
	d.risk == "low"
	d.rule == "crm.deal_update"
	d.rollback == {"method": "PATCH", "path": "/v3/deals/42", "body_from": "pre_image"}
	not d.approval
}

test_decision_allows_when_a_deal_update_leaves_the_discount_alone if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/7", {"stage": "negotiation"})
	d.action == "allow"
	d.rule == "crm.deal_update"
	d.rollback.path == "/v3/deals/7"
}

test_decision_holds_for_sales_managers_when_the_discount_is_over_the_limit if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", {"discount_pct": 15.5})
	d == {
		"risk": "high",
		"action": "hold",
		"reasons": ["discount above the 15% limit needs sales-manager approval"],
		"rule": "crm.deal_discount_over_limit",
		"approval": {"group": "sales-managers", "quorum": 1, "timeout": "PT30M", "on_timeout": "deny"},
		"rollback": {"method": "PATCH", "path": "/v3/deals/42", "body_from": "pre_image"},
		"record": {"body": "full"},
		"cost": 1,
		"cacheable": false,
	}
}

test_decision_follows_the_limit_in_data_when_the_limit_changes if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", {"discount_pct": 15.5})
		with data.countersign.catalog.limits["crm.deal_discount_pct"] as 20
	d.action == "allow"
}

test_decision_denies_with_a_reason_when_the_deal_update_body_is_null if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", null)
	d.action == "deny"
	d.rule == "crm.deal_update_invalid_body"
	count(d.reasons) > 0
	not d.rollback
}

test_decision_denies_when_the_deal_update_body_is_not_an_object if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", [{"discount_pct": 5}])
	d.rule == "crm.deal_update_invalid_body"
}

test_decision_denies_when_the_discount_is_not_a_number if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", {"discount_pct": "10"})
	d.rule == "crm.deal_update_invalid_body"
}

test_decision_denies_when_the_deal_path_has_no_id if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/", {"discount_pct": 1})
	d.rule == "default_deny"
}

test_decision_denies_deal_deletes_when_the_agent_is_allowed_on_crm if {
	d := countersign.decision with input as request("DELETE", "crm", "/v3/deals/42", null)
	d.action == "deny"
	d.risk == "high"
	d.reasons == ["agents may not delete deals"]
}

test_decision_allows_a_refund_when_the_amount_is_at_the_limit if {
	d := countersign.decision with input as request("POST", "billing", "/v1/refunds", {"amount": 200})
	d.action == "allow"
	d.risk == "low"
	d.rule == "billing.refund_small"
	d.rollback.manual
}

test_decision_holds_for_finance_when_the_refund_is_over_the_limit if {
	d := countersign.decision with input as request("POST", "billing", "/v1/refunds", {"amount": 200.01})
	d.action == "hold"
	d.approval == {"group": "finance", "quorum": 1, "timeout": "PT30M", "on_timeout": "deny"}
	d.reasons == ["refund above the 200 limit needs finance approval"]
}

test_decision_denies_a_refund_when_the_amount_is_invalid if {
	every body in [null, {}, {"amount": "50"}, {"amount": 0}, {"amount": -10}, "amount=50"] {
		d := countersign.decision with input as request("POST", "billing", "/v1/refunds", body)
		d.rule == "billing.refund_invalid_amount"
		d.reasons == ["a refund needs a JSON object body with a positive numeric amount"]
	}
}

test_decision_allows_billing_reads_when_the_agent_is_support_bot if {
	d := countersign.decision with input as as_agent(request("GET", "billing", "/v1/invoices/9", null), "support-bot")
	d.action == "allow"
	d.rule == "billing.read"
}

test_decision_names_method_and_path_when_no_rule_matches if {
	d := countersign.decision with input as request("PUT", "crm", "/v3/deals/42", {})
	d == {
		"risk": "high",
		"action": "deny",
		"reasons": ["no rule allows PUT crm/v3/deals/42"],
		"rule": "default_deny",
		"record": {"body": "full"},
		"cost": 1,
		"cacheable": false,
	}
}

test_decision_denies_by_default_when_the_route_is_not_in_the_catalog if {
	d := countersign.decision with input as request("GET", "hr", "/v1/people", null)
		with data.countersign.catalog.agents["sales-assistant"].routes as ["crm", "hr"]
	d.rule == "default_deny"
	d.reasons == ["no rule allows GET hr/v1/people"]
}

test_decision_denies_by_default_when_the_method_is_lower_case if {
	d := countersign.decision with input as request("get", "crm", "/v3/deals", null)
	d.rule == "default_deny"
}

test_decision_denies_when_the_path_climbs_out_with_dot_segments if {
	d := countersign.decision with input as request("GET", "crm", "/v3/../admin/users", null)
	d.rule == "default_deny"
}

test_decision_lists_every_cause_when_an_unknown_agent_deletes_a_deal if {
	d := countersign.decision with input as as_agent(request("DELETE", "crm", "/v3/deals/42", null), "rogue-bot")
	d.rule == "boundary.agent_unknown"
	d.reasons == [
		"agent rogue-bot is not listed in the catalog, so it may not call any route",
		"agents may not delete deals",
	]
}

test_decision_denies_instead_of_holding_when_the_agent_is_outside_its_boundary if {
	d := countersign.decision with input as as_agent(request("POST", "billing", "/v1/refunds", {"amount": 500}), "rogue-bot")
	d.action == "deny"
	d.rule == "boundary.agent_unknown"
	not d.approval
	not d.rollback
}

test_decision_denies_when_other_caller_fields_are_null_and_the_agent_is_null if {
	req := request("GET", "crm", "/v3/deals", null)
	d := countersign.decision with input as object.union(req, {"caller": {
		"agent": null, "workflow": null, "run": null, "on_behalf_of": null,
		"account": null, "tool": null, "prompt_ref": null, "context_refs": null,
	}})
	d.rule == "boundary.agent_missing"
}

test_decision_allows_when_caller_fields_other_than_the_agent_are_null if {
	req := request("GET", "crm", "/v3/deals", null)
	d := countersign.decision with input as object.union(req, {"caller": {
		"agent": "sales-assistant", "workflow": null, "run": null, "on_behalf_of": null,
		"account": null, "tool": null, "prompt_ref": null, "context_refs": null,
	}})
	d.rule == "crm.read"
}

test_decision_denies_when_the_caller_is_null if {
	req := request("GET", "crm", "/v3/deals", null)
	d := countersign.decision with input as object.union(req, {"caller": null})
	d.action == "deny"
	d.rule == "boundary.agent_missing"
}

test_decision_denies_with_a_reason_when_the_input_is_empty if {
	d := countersign.decision with input as {}
	d.action == "deny"
	d.reasons == [
		"the caller has no agent id; only agents listed in the catalog may call through the proxy",
		"no rule allows a request without a method, route and upstream path",
	]
}

test_decision_denies_by_default_when_the_request_fields_are_not_strings if {
	d := countersign.decision with input as {"request": {"method": 1}, "caller": {"agent": "sales-assistant"}}
		with data.countersign.catalog.agents["sales-assistant"].routes as [null]
	d.rule == "default_deny"
	d.reasons == ["no rule allows a request without a method, route and upstream path"]
}

test_decision_prefers_deny_over_hold_over_allow_when_several_rules_match if {
	rules := [
		{"id": "t.allow", "risk": "read_only", "action": "allow", "reason": "a"},
		{"id": "t.hold", "risk": "high", "action": "hold", "reason": "h", "approval": {"group": "g"}},
	]
	held := countersign.decision with input as request("GET", "crm", "/x", null)
		with data.countersign.catalog.routes.crm.rules as {"GET": {"/x": rules}}
	held.rule == "t.hold"
	held.approval.group == "g"

	denied := countersign.decision with input as request("GET", "crm", "/x", null)
		with data.countersign.catalog.routes.crm.rules as {"GET": {"/x": rules, "/*": [{"id": "t.deny", "risk": "low", "action": "deny", "reason": "d"}]}}
	denied.rule == "t.deny"
	denied.reasons == ["d"]
}

test_decision_prefers_the_higher_risk_then_the_smaller_id_when_actions_tie if {
	rules := [
		{"id": "t.b", "risk": "low", "action": "allow", "reason": "b"},
		{"id": "t.c", "risk": "draft", "action": "allow", "reason": "c"},
		{"id": "t.a", "risk": "draft", "action": "allow", "reason": "a"},
	]
	d := countersign.decision with input as request("GET", "crm", "/x", null)
		with data.countersign.catalog.routes.crm.rules as {"GET": {"/x": rules}}
	d.rule == "t.b"
	d.reasons == ["b", "a", "c"]

	e := countersign.decision with input as request("GET", "crm", "/x", null)
		with data.countersign.catalog.routes.crm.rules as {"GET": {"/x": [r | some r in rules; r.id != "t.b"]}}
	e.rule == "t.a"
}

test_decision_is_the_default_deny_when_a_verdict_is_malformed if {
	d := countersign.decision with input as request("GET", "crm", "/v3/deals", null)
		with data.countersign.rules.matches as {{"rule": "t.bad", "action": "permit", "risk": "none", "reasons": []}}
	d == {
		"risk": "high",
		"action": "deny",
		"reasons": ["no rule allows this request: the policy could not form a decision from this input"],
		"rule": "default_deny",
		"record": {"body": "full"},
		"cost": 1,
	}
}
