# METADATA
# title: LLM pricing
# description: |
#   A route whose catalog entry lists "llm_prices" serves an LLM API
#   (OpenAI-compatible chat completions or responses): each price is
#   {"currency", "input_per_mtok", "output_per_mtok"} for one model, per
#   million tokens. For a call to a priced model, the decision carries the
#   model's price as obligation llm_pricing; the proxy reads the answer's
#   token usage (for a stream, its final usage event), charges the cost to the
#   caller's money counters and records it with the outcome. The counters come
#   back in input.context.spend as <scope>_<currency>_micros_today (e.g.
#   agent_usd_micros_today, in millionths of a dollar), so the catalog's
#   spend_limits budget money like any other counter.
#
#   Read in the safe direction: on a priced route, a call that names no model,
#   or a model without a price, is denied, since its cost could not be counted.
package countersign.llm

# METADATA
# description: The prices of the request's route, by model; undefined on other routes.
prices := data.countersign.catalog.routes[input.request.route].llm_prices

# The model the call asks for, or null.
model := input.request.body.model if is_string(input.request.body.model)

else := null

# METADATA
# description: A deny when the call's cost cannot be counted.
denials contains verdict if {
	is_object(prices)
	not prices[model]
	verdict := {
		"rule": "llm.model_not_priced",
		"action": "deny",
		"risk": "high",
		"reasons": [reason(model)],
	}
}

reason(name) := "this LLM route prices calls by model, and the request names no model in its body" if {
	name == null
} else := concat("", ["model ", name, " has no price in the catalog, so its cost could not be counted"])

# METADATA
# description: The obligation that asks the proxy to price the call ({} when it is not priced).
pricing(winner) := {"llm_pricing": prices[model]} if {
	winner.action != "deny"
} else := {}
