# METADATA
# title: Route path patterns
# description: |
#   Matches an upstream path against a catalog pattern, segment by segment.
#   A "*" segment matches exactly one non-empty path segment; a "**" segment,
#   allowed only as the last segment, matches the rest of the path (zero or
#   more segments). Every other segment must be equal. Paths that are not
#   absolute or that still hold "." or ".." segments never match: the proxy
#   resolves dot-segments before asking, so seeing one means something is off.
#
#   Every request is matched against the patterns of its route and method, so
#   the common shapes take a shortcut: a pattern without "*" is the path
#   itself, and a literal prefix followed by "/**" is that prefix or anything
#   below it. Only patterns with a "*" segment elsewhere are split.
package countersign.routes

# METADATA
# description: True when the upstream path matches the pattern.
path_matches(pattern, path) if {
	safe_path(path)
	pattern_matches(pattern, path)
}

# METADATA
# description: |
#   Whether a path already known to be safe (safe_path) matches the pattern;
#   countersign.rules checks the request's path once, then tries each pattern.
pattern_matches(pattern, path) := pattern == path if {
	not contains(pattern, "*")
} else := prefix_matches(prefix, path) if {
	endswith(pattern, "/**")
	prefix := trim_suffix(pattern, "/**")
	not contains(prefix, "*")
} else := segments_match(split(pattern, "/"), split(path, "/")) if {
	# A path that matches starts with the pattern's text up to its first "*":
	# a cheap test that skips splitting for most patterns that do not match.
	startswith(path, substring(pattern, 0, indexof(pattern, "*")))
} else := false

# The prefix itself, or a path below it ("/v3" and "/v3/..." for "/v3/**").
prefix_matches(prefix, path) if prefix == path

else := startswith(path, concat("", [prefix, "/"]))

# Functions with one chain of "else" stop at the first answer; the checks
# below run for every pattern a request is tried against.
default segments_match(_, _) := false

segments_match(patterns, segments) := each_segment_matches(patterns, segments) if {
	not "**" in patterns
	count(patterns) == count(segments)
} else := each_segment_matches(array.slice(patterns, 0, last), segments) if {
	last := count(patterns) - 1
	patterns[last] == "**"
	count(segments) >= last
}

default each_segment_matches(_, _) := false

each_segment_matches(patterns, segments) if {
	every i, p in patterns {
		segment_matches(p, segments[i])
	}
}

# METADATA
# description: |
#   True for an absolute path without dot-segments. Every segment but the
#   first follows a "/", so a "." or ".." segment shows as "/./" or "/../"
#   inside the path, or as "/." or "/.." at its end.
safe_path(path) if {
	startswith(path, "/")
	not contains(path, "/./")
	not contains(path, "/../")
	not endswith(path, "/.")
	not endswith(path, "/..")
}

# A literal segment matches itself; "*" matches any non-empty segment, "*"
# included; "**" matches nothing here (only as the last segment, above).
segment_matches(p, segment) if {
	p == segment
	p != "**"
} else := segment != "" if {
	p == "*"
}
