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
