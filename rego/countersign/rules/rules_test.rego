package countersign.rules_test

import data.countersign.rules

req(method, upstream_path, body) := {
	"request": {"method": method, "route": "crm", "upstream_path": upstream_path, "body": body},
	"caller": {"agent": "sales-assistant"},
}

only(set) := v if {
	count(set) == 1
	some v in set
}

rule(overrides) := object.union({"id": "t.rule", "risk": "low", "action": "allow", "reason": "r"}, overrides)

# The route's rules when it lists only this one, for POST /x/*.
only_rule(overrides) := {"POST": {"/x/*": [rule(overrides)]}}

test_matches_are_empty_when_the_route_is_null if {
	count(rules.matches) == 0 with input as {"request": {"method": "GET", "route": null, "upstream_path": "/v3/deals"}}
}

test_matches_are_empty_when_the_method_differs if {
	count(rules.matches) == 0 with input as req("HEAD", "/v3/deals", null)
}

test_matches_give_one_verdict_when_one_rule_matches if {
	v := only(rules.matches) with input as req("GET", "/v3/deals", null)
	v == {"rule": "crm.read", "action": "allow", "risk": "read_only", "reasons": ["reads of CRM records are allowed"], "record": {"body": "full"}}
}

test_matches_fill_the_upstream_path_when_the_rollback_names_it if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"rollback": {"method": "PUT", "path": "{upstream_path}", "body_from": "pre_image"}})
	v.rollback == {"method": "PUT", "path": "/x/1", "body_from": "pre_image"}
}

test_matches_drop_the_rollback_when_the_rule_denies if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"action": "deny", "rollback": {"method": "DELETE", "path": "/x/1"}})
	not v.rollback
}

test_matches_deny_when_a_hold_rule_has_no_approval_group if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"action": "hold", "approval": {"quorum": 2}})
	v.action == "deny"
	not v.approval
}

test_matches_merge_approval_defaults_when_a_rule_holds if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"action": "hold", "approval": {"group": "legal", "quorum": 2}})
	v.approval == {"group": "legal", "quorum": 2, "timeout": "PT30M", "on_timeout": "deny"}
}

test_matches_deny_when_a_hold_rule_has_no_approval if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"action": "hold"})
	v.action == "deny"
}

test_matches_deny_when_the_action_is_unknown if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"action": "permit"})
	v.action == "deny"
}

test_matches_rate_high_when_the_risk_is_unknown if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"risk": "medium"})
	v.risk == "high"
}

test_matches_name_the_rule_when_the_reason_is_missing if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"reason": ""})
	v.reasons == ["rule t.rule matched"]
}

test_matches_keep_the_record_setting_when_the_rule_names_one if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"record": {"body": "digest"}})
	v.record == {"body": "digest"}
}

test_matches_pick_the_rule_of_the_band_when_a_check_applies if {
	{v.rule | some v in rules.matches} == {"crm.deal_discount_over_limit"} with input as req("PATCH", "/v3/deals/1", {"discount_pct": 40})
}

test_matches_are_empty_when_the_body_is_absent_from_the_input if {
	count(rules.matches) == 1 with input as {"request": {"method": "PATCH", "route": "crm", "upstream_path": "/v3/deals/1"}}
	{v.rule | some v in rules.matches} == {"crm.deal_update_invalid_body"} with input as {"request": {"method": "PATCH", "route": "crm", "upstream_path": "/v3/deals/1"}}
}

test_matches_name_the_fields_when_a_rule_touches_listed_fields if {
	v := only(rules.matches) with input as req("POST", "/x/1", {"owner": "bob", "stage": "won", "amount": null})
		with data.countersign.catalog.routes.crm.rules as only_rule({"touches": ["owner", "amount", "currency"], "reason": "locked"})
	v.reasons == ["locked (fields: amount, owner)"]
}

test_matches_skip_a_field_rule_when_the_body_touches_none_of_its_fields if {
	count(rules.matches) == 0 with input as req("POST", "/x/1", {"stage": "won"})
		with data.countersign.catalog.routes.crm.rules as only_rule({"touches": ["owner"]})
}

test_matches_skip_a_field_rule_when_there_is_no_body if {
	count(rules.matches) == 0 with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"touches": ["owner"]})
}

test_matches_apply_a_field_rule_when_the_body_holds_no_fields_to_list if {
	every body in [["owner"], "owner", 5] {
		v := only(rules.matches) with input as req("POST", "/x/1", body)
			with data.countersign.catalog.routes.crm.rules as only_rule({"touches": ["owner"]})
		v.reasons == ["r (the json body has no fields to list, so none of owner can be ruled out)"]
	}
}

test_matches_fill_the_upstream_path_when_a_template_starts_with_it if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"rollback": {"method": "DELETE", "path_template": "{upstream_path}/{response.id}"}})
	v.rollback == {"method": "DELETE", "path_template": "/x/1/{response.id}"}
}

test_matches_keep_rollback_values_when_they_are_not_strings if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"rollback": {"manual": "call finance", "steps": 2}})
	v.rollback == {"manual": "call finance", "steps": 2}
}

# A hold with no approval terms at all is kept as a hold; the proxy refuses
# it as hold_invalid rather than the policy guessing an approver group's terms.
test_matches_hold_without_approval_terms_when_the_catalog_has_no_approval_defaults if {
	v := only(rules.matches) with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as only_rule({"action": "hold", "approval": {"group": "legal"}})
		with data.countersign.catalog.approval_defaults as null
	v.action == "hold"
	not v.approval
}

test_matches_try_only_the_rules_of_the_request_method_when_a_route_lists_several if {
	rules_by_method := {
		"GET": {"/x/*": [rule({"id": "t.get"})]},
		"POST": {"/x/*": [rule({"id": "t.post"})], "/y": [rule({"id": "t.other_path"})]},
	}
	{v.rule | some v in rules.matches} == {"t.post"} with input as req("POST", "/x/1", null)
		with data.countersign.catalog.routes.crm.rules as rules_by_method
}

test_matches_give_a_verdict_per_rule_when_rules_share_a_path_pattern if {
	shared := {"POST": {"/x/*": [rule({"id": "t.a"}), rule({"id": "t.b", "touches": ["owner"]}), rule({"id": "t.c", "touches": ["stage"]})]}}
	{v.rule | some v in rules.matches} == {"t.a", "t.b"} with input as req("POST", "/x/1", {"owner": false})
		with data.countersign.catalog.routes.crm.rules as shared
}
