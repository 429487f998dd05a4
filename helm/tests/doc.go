// Package helmtests renders the countersign chart with `helm template` and checks every manifest:
// parsed strictly into Kubernetes API types (an unknown or misspelled field fails), then asserted on
// as typed objects. Run with `go test ./...` from helm/tests; HELM and OPA name the binaries
// (default: the repository's .tools/bin).
package helmtests
