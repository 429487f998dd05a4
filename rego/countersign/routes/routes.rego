# METADATA
# title: Route path patterns
# description: |
#   Matches an upstream path against a catalog pattern, segment by segment.
#   A "*" segment matches exactly one non-empty path segment; a "**" segment,
#   allowed only as the last segment, matches the rest of the path (zero or
#   more segments). Every other segment must be equal. Paths that are not
#   absolute or that still hold "." or ".." segments never match: the proxy
#   resolves dot-segments before asking, so seeing one means something is off.
package countersign.routes

# METADATA
# description: True when the upstream path matches the pattern.
path_matches(pattern, path) if {
	safe_path(path)
	patterns := split(pattern, "/")
	segments := split(path, "/")
	not "**" in patterns
	count(patterns) == count(segments)
	every i, p in patterns {
		segment_matches(p, segments[i])
	}
}

path_matches(pattern, path) if {
	safe_path(path)
	patterns := split(pattern, "/")
	segments := split(path, "/")
	last := count(patterns) - 1
	patterns[last] == "**"
	head := [p | some i, p in patterns; i < last]
	count(segments) >= last
	every i, p in head {
		segment_matches(p, segments[i])
	}
}

# METADATA
# description: True for an absolute path without dot-segments.
safe_path(path) if {
	startswith(path, "/")
	every segment in split(path, "/") {
		not dot_segment(segment)
	}
}

dot_segment(".")

dot_segment("..")

wildcard("*")

wildcard("**")

segment_matches(p, segment) if {
	not wildcard(p)
	p == segment
}

segment_matches("*", segment) if segment != ""
