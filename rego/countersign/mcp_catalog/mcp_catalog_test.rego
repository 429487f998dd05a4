# Checks on the MCP catalog itself (data.json beside this file), so a typo in
# the data fails the build instead of quietly changing a decision.
package countersign.mcp_catalog_test

servers := data.countersign.mcp_catalog.servers

catalog := data.countersign.catalog

# Every rule, with the server it belongs to and what it judges.
all_rules := array.concat(
	array.concat(
		[object.union(r, {"server": s, "kind": "request"}) | some s, server in servers; some r in object.get(server, "requests", {})],
		[object.union(r, {"server": s, "kind": "method"}) | some s, server in servers; some r in object.get(server, "methods", {})],
	),
	array.concat(
		array.concat(
			[object.union(server.responses, {"server": s, "kind": "response"}) | some s, server in servers; server.responses],
			[object.union(r, {"server": s, "kind": "tool"}) | some s, server in servers; some rules in object.get(server, "tools", {}); some r in rules],
		),
		array.concat(
			[object.union(r, {"server": s, "kind": "resource"}) | some s, server in servers; some r in object.get(server, "resources", [])],
			[object.union(r, {"server": s, "kind": "prompt"}) | some s, server in servers; some rules in object.get(server, "prompts", {}); some r in rules],
		),
	),
)

test_mcp_catalog_has_rules_when_loaded if {
	count(all_rules) > 0
}

test_mcp_catalog_servers_are_not_catalog_routes_when_listed if {
	every name, server in servers {
		not catalog.routes[name]
		is_string(server.description)
	}
}

test_mcp_catalog_rule_ids_start_with_their_server_when_listed if {
	every r in all_rules {
		startswith(r.id, concat("", [r.server, "."]))
	}
}

test_mcp_catalog_rules_are_well_formed_when_listed if {
	every r in all_rules {
		r.risk in {"read_only", "draft", "low", "high"}
		r.action in {"allow", "deny", "hold"}
		is_string(r.reason)
		r.reason != ""
	}
}

test_mcp_catalog_holds_name_an_approval_group_when_a_rule_holds if {
	every r in all_rules {
		hold_ok(r)
	}
}

hold_ok(r) if r.action != "hold"

hold_ok(r) if is_string(r.approval.group)

# A tool call that changes something and may be forwarded says how to undo it.
test_mcp_catalog_tool_mutations_have_rollbacks_when_they_may_be_forwarded if {
	every r in all_rules {
		rollback_ok(r)
	}
}

rollback_ok(r) if r.kind != "tool"

rollback_ok(r) if r.risk == "read_only"

rollback_ok(r) if r.action == "deny"

rollback_ok(r) if is_object(r.rollback)

test_mcp_catalog_checks_name_numeric_limits_and_bands_when_present if {
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

# A checked tool lists a rule for each band, so no band falls to a bare deny.
test_mcp_catalog_checks_cover_every_band_when_a_tool_is_checked if {
	every _, server in servers {
		every _, rules in object.get(server, "tools", {}) {
			bands_ok(rules)
		}
	}
}

bands_ok(rules) if {
	count([r | some r in rules; r.check]) == 0
}

bands_ok(rules) if {
	{r.check.band | some r in rules; r.check} == {"within", "over", "invalid"}
}

test_mcp_catalog_resources_name_a_prefix_when_listed if {
	every r in all_rules {
		resource_ok(r)
	}
}

resource_ok(r) if r.kind != "resource"

resource_ok(r) if {
	is_string(r.uri_prefix)
	r.uri_prefix != ""
}

test_mcp_catalog_request_rules_name_bodyless_methods_when_listed if {
	every _, server in servers {
		every method, _ in object.get(server, "requests", {}) {
			method in {"GET", "DELETE", "HEAD", "OPTIONS"}
		}
	}
}

# Methods whose messages name a tool, prompt or resource are judged by those
# lists; a "methods" entry for one would allow every tool, prompt or resource.
test_mcp_catalog_methods_leave_named_things_to_their_lists_when_listed if {
	every _, server in servers {
		every method, _ in object.get(server, "methods", {}) {
			not method in {"tools/call", "prompts/get", "resources/read", "resources/subscribe", "resources/unsubscribe"}
		}
	}
}
