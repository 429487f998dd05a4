package countersign.llm_test

import data.countersign
import data.countersign.llm

gpt := {"currency": "usd", "input_per_mtok": 0.15, "output_per_mtok": 0.6}

call(body) := {
	"request": {"method": "POST", "route": "llm", "upstream_path": "/v1/chat/completions", "body": body},
	"caller": {"agent": "sales-assistant"},
	"context": {"time": "2026-11-25T10:00:00Z", "spend": {}},
}

test_a_priced_model_gets_its_price_as_an_obligation if {
	d := countersign.decision with input as call({"model": "gpt-4o-mini", "messages": []})
	d.action == "allow"
	d.llm_pricing == gpt
}

test_a_model_without_a_price_is_denied if {
	d := countersign.decision with input as call({"model": "gpt-unknown", "messages": []})
	d.action == "deny"
	d.rule == "llm.model_not_priced"
	d.reasons[0] == "model gpt-unknown has no price in the catalog, so its cost could not be counted"
	not d.llm_pricing
}

test_a_call_that_names_no_model_is_denied if {
	d := countersign.decision with input as call({"messages": []})
	d.rule == "llm.model_not_priced"
	d.reasons[0] == "this LLM route prices calls by model, and the request names no model in its body"
}

test_routes_without_prices_are_not_priced if {
	d := countersign.decision with input as {
		"request": {"method": "GET", "route": "crm", "upstream_path": "/v3/deals/42", "body": null},
		"caller": {"agent": "sales-assistant"},
		"context": {"time": "2026-11-25T10:00:00Z", "spend": {}},
	}
	d.action == "allow"
	not d.llm_pricing
	count(llm.denials) == 0 with input as {"request": {"route": "crm", "body": null}}
}

test_the_money_budget_denies_once_the_agent_spent_it if {
	spent := object.union(call({"model": "gpt-4o-mini"}), {"context": {"time": "2026-11-25T10:00:00Z", "spend": {"agent_usd_micros_today": 5000000}}})
	d := countersign.decision with input as spent
	d.action == "deny"
	d.rule == "budget.agent_usd_micros_today"
}

test_a_denied_call_carries_no_price if {
	llm.pricing({"action": "deny"}) == {} with input as call({"model": "gpt-4o-mini"})
}
