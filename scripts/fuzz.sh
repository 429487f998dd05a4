#!/usr/bin/env bash
# The differential fuzzer (fuzz/README.md): raw HTTP requests through the real proxy to a recording
# upstream that parses with Go's net/http; every forwarded request's upstream parse must equal the
# ledger's canonical record and the policy input, and refused requests must leave 0 bytes upstream.
#
#   scripts/fuzz.sh --ci                     the seeded slice CI runs (a fixed set of cases, < 2 min)
#   scripts/fuzz.sh --ci-answers             the answer side's seeded slice (a hostile upstream, < 1 min)
#   scripts/fuzz.sh -answers -cases 100000 -concurrency 6      the answer side (issue 19)
#   scripts/fuzz.sh -cases 1000000 -concurrency 8 -repro-dir fuzz/corpus/repro
#   scripts/fuzz.sh -replay fuzz/corpus/repro/FILE.req      re-check one reproducer after a fix
#
# Other flags: fuzz/target/csfuzz -h. Exit status 1 when a discrepancy class outside
# fuzz/corpus/open.txt was seen (or a replayed reproducer still reproduces), 2 when it cannot run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install-tools.sh opa
if [ ! -d proxy/target/lib ] || [ ! -d proxy/target/classes ]; then
  echo "fuzz: building the proxy (mvn package, tests skipped)" >&2
  mvn -B -q -DskipTests package -pl proxy -am
fi
(cd fuzz && go test -count=1 ./... && go build -o target/csfuzz ./cmd/csfuzz)
if [ "${1:-}" = "--ci" ]; then
  shift
  # Seed 1, 2000 generated cases after the corpus files; the time cap only guards a very slow
  # machine (the report then says where it stopped).
  set -- -seed 1 -cases 2000 -concurrency 6 -max-duration 75s -minimize 0 "$@"
elif [ "${1:-}" = "--ci-answers" ]; then
  shift
  # Seed 1, 1000 hostile answers; the time cap only guards a very slow machine.
  set -- -answers -seed 1 -cases 1000 -concurrency 6 -max-duration 30s "$@"
fi
exec fuzz/target/csfuzz -repo "$root" "$@"
