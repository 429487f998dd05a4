package countersign_test

import data.countersign

test_decision_when_read_is_allow if {
	countersign.decision.action == "allow" with input as {"request": {"method": "GET", "route": "crm"}, "caller": {"agent": "a"}}
}
