package countersign.limits_test

import data.countersign.limits

discount := {"field": "discount_pct", "limit": "crm.deal_discount_pct"}

refund := {"field": "amount", "limit": "billing.refund_amount", "required": true, "positive": true}

test_band_is_within_when_the_value_equals_the_limit if {
	limits.band(discount, {"discount_pct": 15}) == "within"
}

test_band_is_over_when_the_value_is_just_above_the_limit if {
	limits.band(discount, {"discount_pct": 15.5}) == "over"
}

test_band_is_within_when_an_optional_field_is_absent if {
	limits.band(discount, {"stage": "won"}) == "within"
}

test_band_is_invalid_when_a_required_field_is_absent if {
	limits.band(refund, {"reason": "late"}) == "invalid"
}

test_band_is_invalid_when_the_body_is_null if {
	limits.band(discount, null) == "invalid"
}

test_band_is_invalid_when_the_body_is_not_an_object if {
	limits.band(discount, [15]) == "invalid"
	limits.band(discount, "discount_pct=15") == "invalid"
}

test_band_is_invalid_when_the_value_is_not_a_number if {
	limits.band(discount, {"discount_pct": "10"}) == "invalid"
	limits.band(discount, {"discount_pct": null}) == "invalid"
}

test_band_is_invalid_when_a_positive_value_is_zero_or_less if {
	limits.band(refund, {"amount": 0}) == "invalid"
	limits.band(refund, {"amount": -5}) == "invalid"
}

test_band_is_within_when_a_negative_value_needs_not_be_positive if {
	limits.band(discount, {"discount_pct": -1}) == "within"
}

test_band_is_undefined_when_the_limit_is_missing if {
	not limits.band({"field": "amount", "limit": "no.such_limit"}, {"amount": 1})
}

test_band_is_undefined_when_the_limit_is_not_a_number if {
	not limits.band(discount, {"discount_pct": 1}) with data.countersign.catalog.limits as {"crm.deal_discount_pct": "15"}
}

test_band_is_within_when_the_refund_equals_the_limit if {
	limits.band(refund, {"amount": 200}) == "within"
}

test_band_is_over_when_the_refund_is_a_cent_above_the_limit if {
	limits.band(refund, {"amount": 200.01}) == "over"
}

test_has_field_when_the_value_is_false_or_null if {
	limits.has_field({"signed_off": false}, "signed_off")
	limits.has_field({"owner": null}, "owner")
	not limits.has_field({"owner": 1}, "owner_id")
}

test_band_is_invalid_when_the_value_is_false if {
	limits.band(discount, {"discount_pct": false}) == "invalid"
}
