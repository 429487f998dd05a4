# METADATA
# title: Numeric limits on body fields
# description: |
#   Places one numeric body field of a request in a band against a named limit
#   from data.countersign.catalog.limits, so the catalog can give each band its
#   own rule. A check is an object:
#     field     the top-level body field to check
#     limit     the name of the limit in data.countersign.catalog.limits
#     required  true when the field must be present (default false)
#     positive  true when the value must be above zero (default false)
#   Bands: "within" (value <= limit, or an optional field that is absent),
#   "over" (value > limit), "invalid" (no JSON object body, a required field
#   absent, a value that is not a number, or not positive when it must be).
#   A missing or non-numeric limit gives no band at all, so no rule with a
#   check matches and the request falls to the default deny.
package countersign.limits

# METADATA
# description: The band of the body for the check; undefined when the limit is misconfigured.
band(check, body) := "invalid" if {
	not is_object(body)
} else := "within" if {
	not check.field in object.keys(body)
	not check.required
} else := "invalid" if {
	not check.field in object.keys(body)
} else := "invalid" if {
	not is_number(body[check.field])
} else := "invalid" if {
	check.positive
	body[check.field] <= 0
} else := "over" if {
	body[check.field] > limit(check)
} else := "within" if {
	body[check.field] <= limit(check)
}

# METADATA
# description: The numeric value of the named limit; undefined when missing or not a number.
limit(check) := value if {
	value := data.countersign.catalog.limits[check.limit]
	is_number(value)
}
