package countersign.bodies_test

import data.countersign.bodies

with_body(kind, body, nested) := {"request": {
	"method": "PATCH", "route": "crm", "upstream_path": "/v3/deals/1",
	"headers": {}, "body_kind": kind, "body": body, "body_nested": nested, "size": 10,
}}

test_kind_is_the_proxys_when_given if {
	every kind in ["none", "json", "form", "multipart", "text", "opaque"] {
		bodies.kind == kind with input as with_body(kind, null, null)
	}
}

test_kind_is_inferred_when_an_older_input_has_none if {
	bodies.kind == "json" with input as {"request": {"body": {"a": 1}, "size": 7}}
	bodies.kind == "none" with input as {"request": {"body": null, "size": 0}}
	bodies.kind == "none" with input as {"request": {}}
	bodies.kind == "opaque" with input as {"request": {"body": null, "size": 12}}
}

test_fields_are_the_json_body_when_the_body_is_json if {
	bodies.fields == {"discount_pct": 10} with input as with_body("json", {"discount_pct": 10}, null)
}

test_fields_name_top_level_fields_in_lower_case if {
	bodies.fields == {"discount_pct": 10, "note": {"Keep": 1}} with input as with_body("json", {"Discount_Pct": 10, "note": {"Keep": 1}}, null)
}

test_fields_keep_twins_that_fold_alike_as_written if {
	# only on a route whose upstream is case-sensitive: the proxy refuses such twins elsewhere
	bodies.fields == {"a": 1, "A": 2} with input as with_body("json", {"a": 1, "A": 2}, null)
}

test_fields_read_single_plain_decimals_as_numbers_when_the_body_is_a_form if {
	nested := {
		"amount": ["150"], "price": ["-0.25"], "zero": ["0"], "note": ["hi"],
		"tags": ["a", "b"], "owner": {"id": ["7"]}, "empty": [""],
	}
	f := bodies.fields with input as with_body("form", {}, nested)
	f == {
		"amount": 150, "price": -0.25, "zero": 0, "note": "hi",
		"tags": ["a", "b"], "owner": {"id": ["7"]}, "empty": "",
	}
}

test_fields_keep_strings_when_a_form_value_is_not_a_plain_decimal if {
	every s in ["1e3", "0150", "0x10", "+5", "1.", ".5", "1.2.3", "--1", "1234567890123456", " 5", "Infinity", "NaN"] {
		f := bodies.fields with input as with_body("form", {}, {"amount": [s]})
		f.amount == s
	}
}

test_fields_hold_file_descriptions_when_the_body_is_multipart if {
	file := {"name": "doc", "filename": "a.pdf", "type": "application/pdf", "size": 3, "sha256": "ab"}
	f := bodies.fields with input as with_body("multipart", {"fields": {}, "files": [file]}, {"doc": [file], "purpose": ["evidence"]})
	f == {"doc": file, "purpose": "evidence"}
}

test_fields_are_null_when_the_body_is_text_opaque_or_none if {
	every kind in ["text", "opaque", "none"] {
		bodies.fields == null with input as with_body(kind, null, null)
	}
}

test_unlisted_fields_when_a_body_holds_no_fields_to_list if {
	bodies.unlisted_fields with input as with_body("text", "email=x", null)
	bodies.unlisted_fields with input as with_body("opaque", null, null)
	bodies.unlisted_fields with input as with_body("json", [{"email": "x"}], null)
	bodies.unlisted_fields with input as with_body("json", "x", null)
}

test_unlisted_fields_is_false_when_the_fields_can_be_listed if {
	not bodies.unlisted_fields with input as with_body("json", {"a": 1}, null)
	not bodies.unlisted_fields with input as with_body("json", null, null)
	not bodies.unlisted_fields with input as with_body("form", {"a": ["1"]}, {"a": ["1"]})
	not bodies.unlisted_fields with input as with_body("none", null, null)
}
