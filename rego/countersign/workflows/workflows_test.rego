# Worked examples: the five workflows of the brief, judged by the real catalog
# (data.json) through the entry point. Each table row is one call an agent
# makes in that workflow, with the decision it must get; docs/policy-guide.md
# walks through them and examples/evals/ holds the same cases for
# `countersign policy eval`.
package countersign.workflows_test

import data.countersign

call(agent, workflow, tool, method, route, upstream_path, body) := {
	"request": {
		"method": method,
		"route": route,
		"path": concat("", ["/", route, upstream_path]),
		"upstream_path": upstream_path,
		"query": {},
		"headers": {"content-type": "application/json"},
		"body_kind": kind_of(body),
		"body": body,
		"body_nested": null,
		"body_sha256": "0000",
		"size": size_of(body),
	},
	"caller": {
		"agent": agent,
		"workflow": workflow,
		"run": "r-1",
		"on_behalf_of": "ana@example.com",
		"account": "acme",
		"tool": tool,
		"prompt_ref": null,
		"context_refs": null,
	},
	"context": {"time": "2026-11-25T10:00:00Z", "spend": {}},
}

# The kind and size the proxy reports for a JSON body, or for none.
kind_of(body) := "none" if body == null

else := "json"

size_of(body) := 0 if body == null

else := 17

with_account(c, account) := object.union(c, {"caller": object.union(c.caller, {"account": account})})

with_spend(c, spend) := object.union(c, {"context": {"time": c.context.time, "spend": spend}})

summary(d) := {"action": d.action, "risk": d.risk, "rule": d.rule}

failures(cases) := [{"note": c.note, "got": got, "want": c.want} |
	some c in cases
	got := summary(countersign.decision) with input as c.input
	got != c.want
]

sales(workflow, tool, method, path, body) := call("sales-assistant", workflow, tool, method, "crm", path, body)

ops(workflow, tool, method, route, path, body) := call("ops-assistant", workflow, tool, method, route, path, body)

support(tool, method, route, path, body) := call("support-bot", "support-escalation", tool, method, route, path, body)

# ---- 1. CRM cleanup after calls -------------------------------------------

crm_cleanup := [
	{
		"note": "read the deal after the call",
		"input": sales("crm-cleanup", "read_crm", "GET", "/v3/deals/42", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "crm.read"},
	},
	{
		"note": "log the call as a note",
		"input": sales("crm-cleanup", "log_call_note", "POST", "/v3/notes", {"deal_id": 42, "text": "call summary"}),
		"want": {"action": "allow", "risk": "draft", "rule": "crm.draft_note"},
	},
	{
		"note": "create a follow-up task",
		"input": sales("crm-cleanup", "create_task", "POST", "/v3/tasks", {"deal_id": 42, "due": "2026-11-27"}),
		"want": {"action": "allow", "risk": "draft", "rule": "crm.task_create"},
	},
	{
		"note": "fix a contact's phone number",
		"input": sales("crm-cleanup", "update_contact", "PATCH", "/v3/contacts/7", {"phone": "+1 555 0100"}),
		"want": {"action": "allow", "risk": "low", "rule": "crm.contact_update"},
	},
	{
		"note": "change a contact's email: a locked field",
		"input": sales("crm-cleanup", "update_contact", "PATCH", "/v3/contacts/7", {"phone": "+1 555 0100", "email": "new@example.com"}),
		"want": {"action": "deny", "risk": "high", "rule": "crm.contact_locked_fields"},
	},
	{
		"note": "move the deal's stage",
		"input": sales("crm-cleanup", "update_deal", "PATCH", "/v3/deals/42", {"stage": "negotiation"}),
		"want": {"action": "allow", "risk": "low", "rule": "crm.deal_update"},
	},
	{
		"note": "reassign the deal's owner: held for a sales manager",
		"input": sales("crm-cleanup", "update_deal", "PATCH", "/v3/deals/42", {"owner": "bob@example.com"}),
		"want": {"action": "hold", "risk": "high", "rule": "crm.deal_owner_change"},
	},
	{
		"note": "raise a discount over the limit: not part of cleanup",
		"input": sales("crm-cleanup", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 30}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_rule_not_allowed"},
	},
	{
		"note": "draft a quote: not part of cleanup",
		"input": sales("crm-cleanup", "update_deal", "POST", "/v3/quotes", {"deal_id": 42}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_rule_not_allowed"},
	},
	{
		"note": "delete the deal",
		"input": sales("crm-cleanup", "update_deal", "DELETE", "/v3/deals/42", null),
		"want": {"action": "deny", "risk": "high", "rule": "crm.deal_delete_forbidden"},
	},
	{
		"note": "a tool the workflow does not list",
		"input": sales("crm-cleanup", "bulk_export", "GET", "/v3/deals", null),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.tool_not_allowed"},
	},
]

test_crm_cleanup_decides_as_the_table_when_evaluating_every_case if {
	count(failures(crm_cleanup)) == 0
}

test_crm_cleanup_restores_the_pre_image_when_an_owner_change_is_rolled_back if {
	d := countersign.decision with input as sales("crm-cleanup", "update_deal", "PATCH", "/v3/deals/42", {"owner": "bob@example.com", "stage": "won"})
	d.approval.group == "sales-managers"
	d.rollback == {"method": "PATCH", "path": "/v3/deals/42", "body_from": "pre_image"}
	d.reasons == ["changing who owns a deal needs sales-manager approval (fields: owner)"]
}

test_crm_cleanup_deletes_the_task_when_a_created_task_is_rolled_back if {
	d := countersign.decision with input as sales("crm-cleanup", "create_task", "POST", "/v3/tasks", {})
	d.rollback == {"method": "DELETE", "path_template": "/v3/tasks/{response.id}"}
}

# ---- 2. Quote preparation (discount checks) -------------------------------

quote_prep := [
	{
		"note": "read the deal",
		"input": sales("quote-prep", "read_crm", "GET", "/v3/deals/42", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "crm.read"},
	},
	{
		"note": "draft the quote",
		"input": sales("quote-prep", "draft_quote", "POST", "/v3/quotes", {"deal_id": 42, "lines": []}),
		"want": {"action": "allow", "risk": "draft", "rule": "crm.quote_draft"},
	},
	{
		"note": "a discount at the limit",
		"input": sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 15, "note": "café"}),
		"want": {"action": "allow", "risk": "low", "rule": "crm.deal_update"},
	},
	{
		"note": "a discount just over the limit",
		"input": sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 15.01}),
		"want": {"action": "hold", "risk": "high", "rule": "crm.deal_discount_over_limit"},
	},
	{
		"note": "a discount sent as text",
		"input": sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": "10"}),
		"want": {"action": "deny", "risk": "high", "rule": "crm.deal_update_invalid_body"},
	},
	{
		"note": "a discount with a changed amount: amounts are locked",
		"input": sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 5, "amount": 90000}),
		"want": {"action": "deny", "risk": "high", "rule": "crm.deal_amount_locked"},
	},
	{
		"note": "an owner change: not part of quote preparation",
		"input": sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"owner": "bob@example.com"}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_rule_not_allowed"},
	},
	{
		"note": "a refund: quote preparation may not touch billing",
		"input": call("sales-assistant", "quote-prep", "update_deal", "POST", "billing", "/v1/refunds", {"amount": 10}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_route_not_allowed"},
	},
	{
		"note": "the daily workflow budget is spent: held for a sales manager",
		"input": with_spend(sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 5}), {"workflow_today": 200}),
		"want": {"action": "hold", "risk": "high", "rule": "budget.workflow_today"},
	},
	{
		"note": "a spent budget does not block reads",
		"input": with_spend(sales("quote-prep", "read_crm", "GET", "/v3/deals/42", null), {"workflow_today": 999, "agent_today": 5000}),
		"want": {"action": "allow", "risk": "read_only", "rule": "crm.read"},
	},
	{
		"note": "the agent's daily budget is spent",
		"input": with_spend(sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 5}), {"agent_today": 1000}),
		"want": {"action": "deny", "risk": "high", "rule": "budget.agent_today"},
	},
]

test_quote_prep_decides_as_the_table_when_evaluating_every_case if {
	count(failures(quote_prep)) == 0
}

test_quote_prep_keeps_the_rollback_when_a_budget_holds_the_update if {
	d := countersign.decision with input as with_spend(sales("quote-prep", "update_deal", "PATCH", "/v3/deals/42", {"discount_pct": 5}), {"account_today": 20})
	d.rule == "budget.account_today"
	d.approval == {"group": "sales-managers", "quorum": 1, "timeout": "PT30M", "on_timeout": "deny"}
	d.rollback == {"method": "PATCH", "path": "/v3/deals/42", "body_from": "pre_image"}
	d.cost == 1
}

# ---- 3. Invoice exception routing -----------------------------------------

invoice_exceptions := [
	{
		"note": "read the invoice",
		"input": ops("invoice-exceptions", "read_invoice", "GET", "billing", "/v1/invoices/inv-9", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "billing.read"},
	},
	{
		"note": "open an exception case",
		"input": ops("invoice-exceptions", "open_exception", "POST", "billing", "/v1/invoices/inv-9/exceptions", {"kind": "price_mismatch", "queue": "ar"}),
		"want": {"action": "allow", "risk": "low", "rule": "billing.invoice_exception_open"},
	},
	{
		"note": "assign the invoice to the AR queue",
		"input": ops("invoice-exceptions", "route_invoice", "PATCH", "billing", "/v1/invoices/inv-9", {"assignee": "ar-team", "status": "disputed"}),
		"want": {"action": "allow", "risk": "low", "rule": "billing.invoice_update"},
	},
	{
		"note": "change what the invoice charges",
		"input": ops("invoice-exceptions", "route_invoice", "PATCH", "billing", "/v1/invoices/inv-9", {"status": "corrected", "amount": 120}),
		"want": {"action": "deny", "risk": "high", "rule": "billing.invoice_amount_locked"},
	},
	{
		"note": "request a write-off: held for finance",
		"input": ops("invoice-exceptions", "request_write_off", "POST", "billing", "/v1/invoices/inv-9/write-offs", {"reason": "goodwill"}),
		"want": {"action": "hold", "risk": "high", "rule": "billing.invoice_write_off"},
	},
	{
		"note": "a refund: not part of invoice routing",
		"input": ops("invoice-exceptions", "request_write_off", "POST", "billing", "/v1/refunds", {"amount": 10}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_rule_not_allowed"},
	},
	{
		"note": "the ops agent must name its workflow",
		"input": ops(null, "read_invoice", "GET", "billing", "/v1/invoices/inv-9", null),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_missing"},
	},
	{
		"note": "the daily budget is spent: denied",
		"input": with_spend(ops("invoice-exceptions", "route_invoice", "PATCH", "billing", "/v1/invoices/inv-9", {"assignee": "ar-team"}), {"workflow_today": 100}),
		"want": {"action": "deny", "risk": "high", "rule": "budget.workflow_today"},
	},
]

test_invoice_exceptions_decide_as_the_table_when_evaluating_every_case if {
	count(failures(invoice_exceptions)) == 0
}

test_invoice_exceptions_delete_the_case_when_an_opened_case_is_rolled_back if {
	d := countersign.decision with input as ops("invoice-exceptions", "open_exception", "POST", "billing", "/v1/invoices/inv-9/exceptions", {})
	d.rollback == {"method": "DELETE", "path_template": "/v1/invoices/inv-9/exceptions/{response.id}"}
}

# ---- 4. Onboarding checklist updates --------------------------------------

onboarding := [
	{
		"note": "read the checklist",
		"input": ops("onboarding", "read_checklist", "GET", "onboarding", "/v1/checklists/acme", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "onboarding.read"},
	},
	{
		"note": "tick an item",
		"input": ops("onboarding", "update_checklist_item", "PATCH", "onboarding", "/v1/checklists/acme/items/sso", {"done": true}),
		"want": {"action": "allow", "risk": "low", "rule": "onboarding.item_update"},
	},
	{
		"note": "waive a step: held for customer success",
		"input": ops("onboarding", "update_checklist_item", "PATCH", "onboarding", "/v1/checklists/acme/items/sso", {"waived": true}),
		"want": {"action": "hold", "risk": "high", "rule": "onboarding.item_sign_off"},
	},
	{
		"note": "email the customer: held for customer success",
		"input": ops("onboarding", "send_welcome_email", "POST", "onboarding", "/v1/accounts/acme/emails", {"template": "welcome"}),
		"want": {"action": "hold", "risk": "high", "rule": "onboarding.welcome_email"},
	},
	{
		"note": "note the kickoff in the CRM",
		"input": ops("onboarding", "draft_note", "POST", "crm", "/v3/notes", {"text": "kickoff done"}),
		"want": {"action": "allow", "risk": "draft", "rule": "crm.draft_note"},
	},
	{
		"note": "an account that is not being onboarded",
		"input": with_account(ops("onboarding", "update_checklist_item", "PATCH", "onboarding", "/v1/checklists/umbrella/items/sso", {"done": true}), "umbrella"),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.account_not_allowed"},
	},
	{
		"note": "a call that names no account",
		"input": with_account(ops("onboarding", "read_checklist", "GET", "onboarding", "/v1/checklists/acme", null), null),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.account_not_allowed"},
	},
	{
		"note": "delete a checklist: no rule allows it",
		"input": ops("onboarding", "update_checklist_item", "DELETE", "onboarding", "/v1/checklists/acme", null),
		"want": {"action": "deny", "risk": "high", "rule": "default_deny"},
	},
	{
		"note": "the sales agent may not run onboarding",
		"input": call("sales-assistant", "onboarding", "read_checklist", "GET", "crm", "/v3/deals/1", null),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_not_allowed"},
	},
	{
		"note": "25 paid changes to the account today: held",
		"input": with_spend(ops("onboarding", "update_checklist_item", "PATCH", "onboarding", "/v1/checklists/acme/items/sso", {"done": true}), {"account_today": 25}),
		"want": {"action": "hold", "risk": "high", "rule": "budget.account_today"},
	},
]

test_onboarding_decides_as_the_table_when_evaluating_every_case if {
	count(failures(onboarding)) == 0
}

test_onboarding_says_the_email_cannot_be_recalled_when_it_is_held if {
	d := countersign.decision with input as ops("onboarding", "send_welcome_email", "POST", "onboarding", "/v1/accounts/acme/emails", {})
	d.rollback.manual == "a sent email cannot be recalled; customer success follows up with the customer"
	d.approval.group == "customer-success"
}

# ---- 5. Support escalation and refunds ------------------------------------

support_escalation := [
	{
		"note": "read the ticket",
		"input": support("read_ticket", "GET", "support", "/v2/tickets/77", null),
		"want": {"action": "allow", "risk": "read_only", "rule": "support.read"},
	},
	{
		"note": "add an internal comment",
		"input": support("comment_ticket", "POST", "support", "/v2/tickets/77/comments", {"body": "customer double-charged"}),
		"want": {"action": "allow", "risk": "draft", "rule": "support.comment_draft"},
	},
	{
		"note": "escalate the ticket",
		"input": support("escalate_ticket", "PATCH", "support", "/v2/tickets/77", {"priority": "urgent", "queue": "tier2"}),
		"want": {"action": "allow", "risk": "low", "rule": "support.escalate"},
	},
	{
		"note": "reply to the customer: held for a support lead",
		"input": support("reply_customer", "POST", "support", "/v2/tickets/77/replies", {"body": "refund on its way"}),
		"want": {"action": "hold", "risk": "high", "rule": "support.reply_customer"},
	},
	{
		"note": "refund at the limit",
		"input": support("refund", "POST", "billing", "/v1/refunds", {"amount": 200}),
		"want": {"action": "allow", "risk": "low", "rule": "billing.refund_small"},
	},
	{
		"note": "refund over the limit: held for finance",
		"input": support("refund", "POST", "billing", "/v1/refunds", {"amount": 200.01}),
		"want": {"action": "hold", "risk": "high", "rule": "billing.refund_large"},
	},
	{
		"note": "refund of zero",
		"input": support("refund", "POST", "billing", "/v1/refunds", {"amount": 0}),
		"want": {"action": "deny", "risk": "high", "rule": "billing.refund_invalid_amount"},
	},
	{
		"note": "a fourth paid action on one account today: held for finance",
		"input": with_spend(support("refund", "POST", "billing", "/v1/refunds", {"amount": 20}), {"account_today": 3}),
		"want": {"action": "hold", "risk": "high", "rule": "budget.account_today"},
	},
	{
		"note": "write off an invoice: not part of support",
		"input": support("refund", "POST", "billing", "/v1/invoices/inv-9/write-offs", {}),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.workflow_rule_not_allowed"},
	},
	{
		"note": "the support agent may not touch the CRM",
		"input": call("support-bot", "support-escalation", "read_ticket", "GET", "crm", "/v3/deals/1", null),
		"want": {"action": "deny", "risk": "high", "rule": "boundary.route_not_allowed"},
	},
]

test_support_escalation_decides_as_the_table_when_evaluating_every_case if {
	count(failures(support_escalation)) == 0
}

test_support_escalation_deletes_the_comment_when_a_comment_is_rolled_back if {
	d := countersign.decision with input as support("comment_ticket", "POST", "support", "/v2/tickets/77/comments", {})
	d.rollback == {"method": "DELETE", "path_template": "/v2/tickets/77/comments/{response.id}"}
}

# ---- every workflow -------------------------------------------------------

# Whatever a workflow may forward and change carries a rollback instruction.
test_workflows_carry_a_rollback_when_any_example_mutation_is_allowed_or_held if {
	every c in array.concat(array.concat(array.concat(crm_cleanup, quote_prep), array.concat(invoice_exceptions, onboarding)), support_escalation) {
		rollback_present(c.input)
	}
}

rollback_present(call_input) if call_input.request.method == "GET"

rollback_present(call_input) if {
	d := countersign.decision with input as call_input
	d.action == "deny"
}

rollback_present(call_input) if {
	d := countersign.decision with input as call_input
	is_object(d.rollback)
}
