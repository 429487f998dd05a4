# OPA's own API authorization for the nginx+opa scenario of bench/run.sh, the same rule set the
# managed OPA of Countersign runs with (policy/.../ManagedOpa.java): only the decision query and the
# health check are served. Evaluated on every request, so both OPAs do the same work per call.
package system.authz

default allow := false

allow if {
	input.method == "POST"
	input.path == ["v1", "data", "countersign", "decision"]
}

allow if {
	input.method == "GET"
	input.path == ["health"]
}
