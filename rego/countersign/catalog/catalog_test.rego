# Checks on the route catalog itself (data.json beside this file), so a typo in
# the data fails the build instead of quietly changing a decision.
package countersign.catalog_test

catalog := data.countersign.catalog

# A route the catalog lists rules for, or an MCP server the MCP catalog lists.
known_route(route) if catalog.routes[route]

known_route(route) if data.countersign.mcp_catalog.servers[route]

# Every rule, with the route, method and path pattern it is listed under.
all_rules := [object.union(r, {"route": name, "method": method, "path": path}) |
	some name, route in catalog.routes
	some method, by_path in route.rules
	some path, rules in by_path
	some r in rules
]

# The layout is the index the policy looks requests up in:
# routes.<route>.rules.<METHOD>.<path pattern> = [rule, ...].
test_catalog_routes_list_rules_by_method_then_path_when_loaded if {
	every _, route in catalog.routes {
		is_object(route.rules)
		every method, by_path in route.rules {
			method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
			is_object(by_path)
			every path, rules in by_path {
				startswith(path, "/")
				is_array(rules)
				count(rules) > 0
			}
		}
	}
}

# A rule's method and path are where it is listed; a copy inside the rule could only disagree.
test_catalog_rules_name_no_method_or_path_when_listed if {
	every route in catalog.routes {
		every by_path in route.rules {
			every rules in by_path {
				every r in rules {
					not r.method
					not r.path
				}
			}
		}
	}
}

test_catalog_has_rules_when_loaded if {
	count(all_rules) > 0
}

test_catalog_rule_ids_are_unique_when_listed_across_routes if {
	count({r.id | some r in all_rules}) == count(all_rules)
}

test_catalog_rule_ids_start_with_their_route_when_listed if {
	every r in all_rules {
		startswith(r.id, concat("", [r.route, "."]))
	}
}

test_catalog_rules_are_well_formed_when_listed if {
	every r in all_rules {
		r.method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
		startswith(r.path, "/")
		r.risk in {"read_only", "draft", "low", "high"}
		r.action in {"allow", "deny", "hold"}
		is_string(r.reason)
		r.reason != ""
	}
}

# "opaque_body": "allow" is the only value the policy reads; anything else would silently deny.
test_catalog_opaque_body_is_allow_when_a_rule_sets_it if {
	every r in all_rules {
		object.get(r, "opaque_body", "allow") == "allow"
	}
}

test_catalog_holds_name_an_approval_group_when_a_rule_holds if {
	every r in all_rules {
		hold_ok(r)
	}
}

hold_ok(r) if r.action != "hold"

hold_ok(r) if is_string(r.approval.group)

test_catalog_mutations_have_rollbacks_when_they_may_be_forwarded if {
	every r in all_rules {
		rollback_ok(r)
	}
}

rollback_ok(r) if r.method in {"GET", "HEAD"}

rollback_ok(r) if r.action == "deny"

rollback_ok(r) if is_object(r.rollback)

test_catalog_checks_name_numeric_limits_and_bands_when_present if {
	every r in all_rules {
		check_ok(r)
	}
}

check_ok(r) if not r.check

check_ok(r) if {
	is_string(r.check.field)
	is_number(catalog.limits[r.check.limit])
	r.check.band in {"within", "over", "invalid"}
}

# A check with a band missing would leave that band to the default deny, which is
# safe but surprising; every checked method and path lists all three bands.
test_catalog_checks_cover_every_band_when_a_path_is_checked if {
	checked := {[r.method, r.path, r.check.field] | some r in all_rules; r.check}
	every key in checked {
		{r.check.band | some r in all_rules; [r.method, r.path, r.check.field] == key} == {"within", "over", "invalid"}
	}
}

test_catalog_agents_name_known_routes_when_listed if {
	every _, agent in catalog.agents {
		every route in agent.routes {
			known_route(route)
		}
	}
}

test_catalog_agents_match_the_quick_start_when_loaded if {
	catalog.agents["sales-assistant"].routes == ["crm", "billing", "llm"]
	not "crm" in catalog.agents["support-bot"].routes
	"billing" in catalog.agents["support-bot"].routes
}

# The quick start and the proxy's end-to-end tests call without a workflow.
test_catalog_quick_start_agents_need_no_workflow_when_loaded if {
	not catalog.agents["sales-assistant"].require_workflow
	not catalog.agents["support-bot"].require_workflow
}

test_catalog_agents_name_known_workflows_when_listed if {
	every _, agent in catalog.agents {
		every workflow in object.get(agent, "workflows", []) {
			catalog.workflows[workflow]
		}
	}
}

test_catalog_workflows_stay_inside_the_catalog_when_listed if {
	rule_ids := {r.id | some r in all_rules}
	every _, workflow in catalog.workflows {
		is_string(workflow.description)
		count(workflow.routes) > 0
		every route in workflow.routes {
			known_route(route)
		}
		every id in object.get(workflow, "rules", []) {
			id in rule_ids
			split(id, ".")[0] in workflow.routes
		}
		every tool in object.get(workflow, "tools", []) {
			is_string(tool)
		}
		every tool in object.get(workflow, "mcp_tools", []) {
			is_string(tool)
		}
		every account in object.get(workflow, "accounts", []) {
			is_string(account)
		}
	}
}

# A workflow that may run a rule may be run by an agent that may use its routes.
test_catalog_workflow_routes_are_the_agents_routes_when_an_agent_runs_them if {
	every _, agent in catalog.agents {
		every workflow in object.get(agent, "workflows", []) {
			every route in catalog.workflows[workflow].routes {
				route in agent.routes
			}
		}
	}
}

all_spend_limits := array.concat(
	[l | some agent in catalog.agents; some l in object.get(agent, "spend_limits", [])],
	[l | some workflow in catalog.workflows; some l in object.get(workflow, "spend_limits", [])],
)

test_catalog_spend_limits_are_well_formed_when_listed if {
	count(all_spend_limits) > 0
	every l in all_spend_limits {
		counter_ok(l.counter)
		is_number(l.limit)
		l.limit > 0
		l.action in {"deny", "hold"}
		hold_ok(l)
		is_string(l.reason)
	}
}

# The proxy's counters: costs, and money of priced LLM calls per currency (llm.rego).
counter_ok(name) if name in {"workflow_today", "agent_today", "account_today"}

counter_ok(name) if regex.match(`^(workflow|agent|account)_[a-z]{3}_micros_today$`, name)

test_catalog_llm_prices_are_well_formed_when_listed if {
	some route in catalog.routes
	route.llm_prices
	every route in catalog.routes {
		every model, price in object.get(route, "llm_prices", {}) {
			is_string(model)
			regex.match(`^[a-z]{3}$`, price.currency)
			price.input_per_mtok >= 0
			price.output_per_mtok >= 0
		}
	}
}

test_catalog_field_limits_name_fields_when_a_rule_touches_fields if {
	every r in all_rules {
		touches_ok(r)
	}
}

touches_ok(r) if not r.touches

touches_ok(r) if {
	count(r.touches) > 0
	every f in r.touches {
		is_string(f)
	}
}

# An agent on a route can at least look before it changes anything.
test_catalog_every_route_has_a_read_rule_when_loaded if {
	every name, _ in catalog.routes {
		some r in all_rules
		r.route == name
		r.method == "GET"
		r.risk == "read_only"
	}
}

test_catalog_approval_defaults_deny_on_timeout_when_loaded if {
	catalog.approval_defaults == {"quorum": 1, "timeout": "PT30M", "on_timeout": "deny"}
}
