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
} else := absent_band(check) if {
	not has_field(body, check.field)
} else := value_band(check, body[check.field])

absent_band(check) := "invalid" if check.required

else := "within"

value_band(check, value) := "invalid" if {
	not is_number(value)
} else := "invalid" if {
	check.positive
	value <= 0
} else := limit_band(value, limit(check))

limit_band(value, limit) := "over" if value > limit

else := "within"

# METADATA
# description: The numeric value of the named limit; undefined when missing or not a number.
limit(check) := value if {
	value := catalog_limits[check.limit]
	is_number(value)
}

# Looked up once per request: a route's checks come one rule per band.
catalog_limits := data.countersign.catalog.limits

# METADATA
# description: True when the object holds the field, whatever its value (false and null included).
has_field(body, field) if {
	_ = body[field]
}
