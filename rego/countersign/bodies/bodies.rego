# METADATA
# title: Request bodies, as the field locks and limits read them
# description: |
#   The proxy parses every body kind it forwards into one form and says
#   which in input.request.body_kind: "none", "json", "form", "multipart",
#   "text" or "opaque" (docs/policy-contract.md). This package turns the
#   kinds into one view for the catalog's field locks ("touches") and
#   numeric limits ("check"):
#
#     fields           the body's named fields: a JSON body as it is; a form
#                      or multipart body as its nested reading (brackets
#                      resolved, so owner[id] touches owner), each field's
#                      single value a number when it is a plain decimal
#     unlisted_fields  a body is there but holds no fields that can be
#                      listed (text, opaque, a JSON array or scalar), so no
#                      locked field can be ruled out
#
#   A form value the policy reads as a number is a plain decimal of at most
#   15 digits (-?digits[.digits], no leading zeros, no exponent), which
#   every parser and both engines read as the same number; anything else
#   stays a string, so a limit check puts it in the "invalid" band. A field
#   sent more than once keeps its list of values: not a number either.
package countersign.bodies

# METADATA
# description: |
#   The body's kind. Inputs recorded before body kinds existed (replays of
#   old ledgers, eval files) have none: their body was JSON or nothing.
kind := input.request.body_kind if {
	is_string(input.request.body_kind)
} else := "json" if {
	object.get(input.request, "body", null) != null
} else := "none" if {
	object.get(input.request, "size", 0) == 0
} else := "opaque"

form_kinds := {"form", "multipart"}

# METADATA
# description: The named fields of the body, or the body itself when it has none (see above).
fields := folded(object.get(input.request, "body", null)) if {
	not kind in form_kinds
} else := folded({name: scalar(value) | some name, value in input.request.body_nested})

# Top-level names in lower case, so that a field written in another case
# (Discount_Pct) is the field the catalog names: upstreams that bind names
# ignoring case (Go, .NET, ASP.NET) act on it as that field. The proxy
# refuses two names that fold alike (name_case_collision) unless the route
# declares its upstream case-sensitive; a body holding such twins keeps its
# names as written, which is what that upstream reads.
folded(body) := {lower(name): value | some name, value in body} if {
	is_object(body)
	count({lower(name) | some name, _ in body}) == count(body)
} else := body

# METADATA
# description: True when a body is present whose named fields cannot be listed.
default unlisted_fields := false

unlisted_fields if kind in {"text", "opaque"}

unlisted_fields if {
	kind == "json"
	body := object.get(input.request, "body", null)
	body != null
	not is_object(body)
}

# A leaf of the nested reading is a list of values; one plain decimal reads
# as a number, one other value as itself; objects and longer lists stay.
scalar(value) := to_number(value[0]) if {
	is_array(value)
	count(value) == 1
	plain_decimal(value[0])
} else := value[0] if {
	is_array(value)
	count(value) == 1
} else := value

# -?digits[.digits], at most 15 digits, no leading zero before other digits.
plain_decimal(s) if {
	is_string(s)
	parts := split(trim_prefix(s, "-"), ".")
	count(parts) <= 2
	every part in parts {
		part != ""
		trim(part, "0123456789") == ""
	}
	count(concat("", parts)) <= 15
	not leading_zero(parts[0])
}

leading_zero(digits) if {
	startswith(digits, "0")
	digits != "0"
}
