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
