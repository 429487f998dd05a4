# The fuzzer's policy: allow every request and hand the whole input back as the obligation `echo`,
# so the ledger's exchange.decided shows exactly what the policy was given (docs/policy-contract.md:
# unknown decision fields are kept and journaled as obligations).
package countersign

# METADATA
# entrypoint: true
decision := {
	"risk": "low",
	"action": "allow",
	"reasons": ["fuzz: allow everything, echo the input"],
	"rule": "fuzz.echo_input",
	"record": {"body": "full"},
	"echo": input,
}
