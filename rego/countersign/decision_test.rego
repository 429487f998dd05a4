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
		"body_kind": kind_of(body),
		"body": body,
		"body_nested": null,
		"body_sha256": "0000",
		"size": size_of(body),
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

# The kind and size the proxy reports for a JSON body, or for none.
kind_of(body) := "none" if body == null

else := "json"

size_of(body) := 0 if body == null

else := 17

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

# An array body holds no fields the locks can list, so the locks fire beside the invalid-body rule.
test_decision_denies_when_the_deal_update_body_is_not_an_object if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", [{"discount_pct": 5}])
	d.action == "deny"
	d.rule == "crm.deal_amount_locked"
	some reason in d.reasons
	startswith(reason, "a deal update needs a JSON object body")
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

# ---- the field locks and limits hold for every body kind ----

# A request whose body is of another kind than JSON: its policy view and nested reading.
with_kind(req, kind, body, nested, content_type) := object.union(req, {"request": object.union(req.request, {
	"body_kind": kind, "body": body, "body_nested": nested,
	"headers": {"content-type": content_type}, "size": 40,
})})

form(method, route, path, fields) := with_kind(request(method, route, path, null), "form", fields, fields, "application/x-www-form-urlencoded")

test_decision_denies_a_form_contact_update_when_it_touches_the_email if {
	# The issue's example: crm.contact_update used to allow this, the body being unread.
	d := countersign.decision with input as form("PATCH", "crm", "/v3/contacts/1", {"email": ["x@evil.example"]})
	d.action == "deny"
	d.rule == "crm.contact_locked_fields"
	d.reasons == ["agents may not change a contact's email, consent or account (fields: email)"]
}

test_decision_allows_a_form_contact_update_when_it_touches_no_locked_field if {
	d := countersign.decision with input as form("PATCH", "crm", "/v3/contacts/1", {"phone": ["+1 555"]})
	d.action == "allow"
	d.rule == "crm.contact_update"
}

test_decision_holds_a_form_deal_update_when_a_bracket_name_touches_the_owner if {
	i := with_kind(request("PATCH", "crm", "/v3/deals/42", null), "form", {"owner[id]": ["7"]}, {"owner": {"id": ["7"]}}, "application/x-www-form-urlencoded")
	d := countersign.decision with input as i
	d.action == "hold"
	d.rule == "crm.deal_owner_change"
}

test_decision_checks_the_discount_limit_when_a_form_sends_it if {
	countersign.decision.rule == "crm.deal_update" with input as form("PATCH", "crm", "/v3/deals/42", {"discount_pct": ["15"]})
	countersign.decision.rule == "crm.deal_discount_over_limit" with input as form("PATCH", "crm", "/v3/deals/42", {"discount_pct": ["15.5"]})
	countersign.decision.rule == "crm.deal_update_invalid_body" with input as form("PATCH", "crm", "/v3/deals/42", {"discount_pct": ["1e1"]})
}

test_decision_checks_the_refund_amount_when_a_form_sends_it if {
	countersign.decision.rule == "billing.refund_small" with input as form("POST", "billing", "/v1/refunds", {"amount": ["150"]})
	countersign.decision.rule == "billing.refund_large" with input as form("POST", "billing", "/v1/refunds", {"amount": ["250"]})
	countersign.decision.rule == "billing.refund_invalid_amount" with input as form("POST", "billing", "/v1/refunds", {"amount": ["0150"]})
}

test_decision_denies_a_form_refund_when_the_amount_is_sent_twice if {
	# Frameworks keep the first, the last or both: no single amount to check.
	d := countersign.decision with input as form("POST", "billing", "/v1/refunds", {"amount": ["5", "5000"]})
	d.action == "deny"
	d.rule == "billing.refund_invalid_amount"
}

test_decision_denies_a_multipart_contact_update_when_a_field_touches_the_email if {
	i := with_kind(request("PATCH", "crm", "/v3/contacts/1", null), "multipart", {"fields": {"email": ["x@evil.example"]}, "files": []}, {"email": ["x@evil.example"]}, "multipart/form-data")
	d := countersign.decision with input as i
	d.rule == "crm.contact_locked_fields"
}

test_decision_denies_a_multipart_contact_update_when_a_file_is_named_after_a_locked_field if {
	file := {"name": "account_id", "filename": "a.txt", "type": "text/plain", "size": 3, "sha256": "ab"}
	i := with_kind(request("PATCH", "crm", "/v3/contacts/1", null), "multipart", {"fields": {}, "files": [file]}, {"account_id": [file]}, "multipart/form-data")
	countersign.decision.rule == "crm.contact_locked_fields" with input as i
}

test_decision_holds_a_multipart_refund_when_the_amount_is_over_the_limit if {
	i := with_kind(request("POST", "billing", "/v1/refunds", null), "multipart", {"fields": {"amount": ["201"]}, "files": []}, {"amount": ["201"]}, "multipart/form-data")
	d := countersign.decision with input as i
	d.action == "hold"
	d.rule == "billing.refund_large"
}

test_decision_denies_a_text_contact_update_when_its_fields_cannot_be_listed if {
	i := with_kind(request("PATCH", "crm", "/v3/contacts/1", null), "text", "email=x@evil.example", null, "text/plain")
	d := countersign.decision with input as i
	d.action == "deny"
	d.rule == "crm.contact_locked_fields"
	d.reasons == ["agents may not change a contact's email, consent or account (the text body has no fields to list, so none of email, do_not_contact, account_id can be ruled out)"]
}

test_decision_allows_a_text_note_when_no_rule_locks_fields if {
	i := with_kind(request("POST", "crm", "/v3/notes", null), "text", "call went well", null, "text/plain")
	d := countersign.decision with input as i
	d.action == "allow"
	d.rule == "crm.draft_note"
}

test_decision_denies_a_refund_when_the_body_is_text if {
	i := with_kind(request("POST", "billing", "/v1/refunds", null), "text", "amount=5", null, "text/plain")
	countersign.decision.rule == "billing.refund_invalid_amount" with input as i
}

test_decision_denies_a_mutation_when_the_body_is_opaque if {
	i := with_kind(request("POST", "crm", "/v3/notes", null), "opaque", null, null, "application/octet-stream")
	d := countersign.decision with input as i
	d.action == "deny"
	d.risk == "high"
	d.rule == "body.opaque"
	d.reasons[0] == "the body (application/octet-stream) is opaque to the policy, so no rule can check what it changes; a catalog rule must accept opaque bodies"
}

test_decision_allows_an_opaque_body_when_the_matching_rule_accepts_one if {
	i := with_kind(as_agent(request("PUT", "support", "/v2/tickets/7/attachments/a.pdf", null), "support-bot"), "opaque", null, null, "application/pdf")
	d := countersign.decision with input as i
	d.action == "allow"
	d.rule == "support.attachment_upload"
	d.rollback == {"method": "DELETE", "path": "/v2/tickets/7/attachments/a.pdf"}
}

test_decision_names_no_content_type_when_an_opaque_body_declares_none if {
	i := with_kind(request("PATCH", "crm", "/v3/contacts/1", null), "opaque", null, null, "x")
	no_type := object.union(object.remove(i, ["request"]), {"request": object.union(object.remove(i.request, ["headers"]), {"headers": {}})})
	d := countersign.decision with input as no_type
	d.reasons[0] == "the body (no Content-Type) is opaque to the policy, so no rule can check what it changes; a catalog rule must accept opaque bodies"
}

test_decision_reads_an_opaque_body_on_a_read_as_harmless if {
	i := with_kind(request("GET", "crm", "/v3/deals/42", null), "opaque", null, null, "application/octet-stream")
	countersign.decision.rule == "crm.read" with input as i
}

# Issue 19: upstreams that bind names ignoring case (Go, .NET) act on
# Discount_Pct as discount_pct, so the catalog's checks must read it so too.
test_decision_holds_a_discount_written_in_another_case if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/deals/42", {"Discount_Pct": 30})
	d.action == "hold"
	d.rule == "crm.deal_discount_over_limit"
}

test_decision_denies_a_locked_field_written_in_another_case if {
	d := countersign.decision with input as request("PATCH", "crm", "/v3/contacts/1", {"EMAIL": "x@evil.example"})
	d.action == "deny"
	d.rule == "crm.contact_locked_fields"
}

test_decision_denies_a_form_locked_field_written_in_another_case if {
	d := countersign.decision with input as form("PATCH", "crm", "/v3/contacts/1", {"Email": ["x@evil.example"]})
	d.action == "deny"
	d.rule == "crm.contact_locked_fields"
}
