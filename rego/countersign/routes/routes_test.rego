package countersign.routes_test

import data.countersign.routes

test_path_matches_when_segments_are_equal if {
	routes.path_matches("/v3/notes", "/v3/notes")
}

test_path_matches_not_when_a_segment_differs if {
	not routes.path_matches("/v3/notes", "/v3/tasks")
}

test_path_matches_not_when_the_path_is_longer if {
	not routes.path_matches("/v3/notes", "/v3/notes/1")
}

test_path_matches_not_when_the_path_is_shorter if {
	not routes.path_matches("/v3/deals/*", "/v3/deals")
}

test_path_matches_when_star_meets_one_segment if {
	routes.path_matches("/v3/deals/*", "/v3/deals/42")
}

test_path_matches_not_when_star_meets_an_empty_segment if {
	not routes.path_matches("/v3/deals/*", "/v3/deals/")
}

test_path_matches_not_when_star_meets_two_segments if {
	not routes.path_matches("/v3/deals/*", "/v3/deals/42/notes")
}

test_path_matches_when_double_star_meets_many_segments if {
	routes.path_matches("/v3/**", "/v3/deals/42/notes")
}

test_path_matches_when_double_star_meets_no_segment if {
	routes.path_matches("/v3/**", "/v3")
}

test_path_matches_not_when_the_prefix_before_double_star_differs if {
	not routes.path_matches("/v3/**", "/v2/deals")
}

test_path_matches_not_when_double_star_is_not_last if {
	not routes.path_matches("/v3/**/notes", "/v3/deals/notes")
	not routes.path_matches("/v3/**/notes", "/v3/**/notes")
}

test_path_matches_not_when_the_path_has_dot_segments if {
	not routes.path_matches("/v3/**", "/v3/../admin")
	not routes.path_matches("/v3/**", "/v3/./deals")
	not routes.path_matches("/v3/deals/*", "/v3/deals/..")
}

test_path_matches_not_when_the_path_is_relative if {
	not routes.path_matches("v3/**", "v3/deals")
}

test_path_matches_not_when_a_literal_star_pattern_meets_a_star_path if {
	routes.path_matches("/v3/*", "/v3/*")
	not routes.path_matches("/v3/a", "/v3/*")
}

test_path_matches_not_when_double_star_repeats if {
	not routes.path_matches("/v3/**/**", "/v3/**/deals")
}

test_path_matches_when_a_star_sits_between_literal_segments if {
	routes.path_matches("/v1/invoices/*/exceptions", "/v1/invoices/9/exceptions")
	not routes.path_matches("/v1/invoices/*/exceptions", "/v1/invoices/9/write-offs")
	not routes.path_matches("/v1/invoices/*/exceptions", "/v1/invoices//exceptions")
}

test_path_matches_not_when_the_text_before_the_star_differs if {
	not routes.path_matches("/v3/deals/*", "/v3/contacts/1")
	not routes.path_matches("/v3/deals/*", "/v3/deal/1")
}

test_path_matches_any_safe_path_when_the_pattern_is_double_star_alone if {
	routes.path_matches("/**", "/")
	routes.path_matches("/**", "/v3/deals/42")
	routes.path_matches("**", "/v3")
	not routes.path_matches("/**", "/v3/../x")
}

test_path_matches_when_a_star_segment_comes_before_double_star if {
	routes.path_matches("/v1/*/items/**", "/v1/acme/items")
	routes.path_matches("/v1/*/items/**", "/v1/acme/items/sso/notes")
	not routes.path_matches("/v1/*/items/**", "/v1//items")
}

test_path_matches_only_itself_when_a_literal_segment_holds_a_star if {
	routes.path_matches("/v3/a*b", "/v3/a*b")
	not routes.path_matches("/v3/a*b", "/v3/axb")
}
