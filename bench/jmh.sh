#!/usr/bin/env bash
# JMH microbenchmarks of the hot path (bench/jmh): canonicalization, embedded (wasm) policy
# evaluation, ledger append with the hash chain. Builds the module when its jar is older than the
# sources, installs OPA, runs JMH, writes bench/results/jmh-<UTC stamp>.json (+ .log) and prints a
# table with p50/p99, score ± error, allocation per operation and the issue's targets.
# Usage: bench/jmh.sh [JMH arguments, e.g. a benchmark regexp: bench/jmh.sh PolicyBenchmark]
# Knobs (environment): FORKS=1 WARMUP_ITERATIONS=3 WARMUP_TIME=2s ITERATIONS=5 TIME=2s
#   PROF=gc (JMH profiler; empty for none) BUILD=auto|1|0
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
started=$SECONDS

FORKS="${FORKS:-1}"
WARMUP_ITERATIONS="${WARMUP_ITERATIONS:-3}"
WARMUP_TIME="${WARMUP_TIME:-2s}"
ITERATIONS="${ITERATIONS:-5}"
TIME="${TIME:-2s}"
PROF="${PROF-gc}"
BUILD="${BUILD:-auto}"
jar=bench/jmh/target/countersign-jmh.jar

bash scripts/install-tools.sh opa

stale() {
  [ ! -f "$jar" ] || [ ! -d bench/jmh/target/lib ] && return 0
  [ -n "$(find pom.xml policy ledger proxy bench/jmh \( -path '*/target' -prune \) -o \
      \( -name pom.xml -o -path '*/src/main/*' \) -type f -newer "$jar" -print -quit)" ]
}
if [ "$BUILD" = 1 ] || { [ "$BUILD" = auto ] && stale; }; then
  echo "building bench/jmh (mvn -B -q -pl bench/jmh -am package -DskipTests -DskipITs)" >&2
  mvn -B -q -Dstyle.color=never -pl bench/jmh -am package -DskipTests -DskipITs
  touch "$jar" # an up-to-date jar is not rewritten; mark it as checked against the sources
fi

mkdir -p bench/results
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="bench/results/jmh-$stamp.json"
log="bench/results/jmh-$stamp.log"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "jmh: commit $commit, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "-f $FORKS -wi $WARMUP_ITERATIONS -w $WARMUP_TIME -i $ITERATIONS -r $TIME${PROF:+ -prof $PROF}" >&2

args=(-f "$FORKS" -wi "$WARMUP_ITERATIONS" -w "$WARMUP_TIME" -i "$ITERATIONS" -r "$TIME"
  -foe true -rf json -rff "$out" -jvmArgsPrepend "-Dcountersign.repo.root=$root")
[ -n "$PROF" ] && args+=(-prof "$PROF")
# JMH's full report goes to the log; the console shows which benchmark runs and any failure.
set +e
java -jar "$jar" "${args[@]}" "$@" 2>&1 | tee "$log" \
  | grep --line-buffered -E '^# (Benchmark|Parameters):|ERROR|Exception|<failure>'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ] || [ ! -s "$out" ]; then
  echo "jmh failed (exit $status); full output in $log" >&2
  exit 1
fi

python3 - "$out" <<'PY'
import json, sys

# The issue's targets (issue 7): reported, never enforced.
TARGETS = {
    "PolicyBenchmark.wasmPatch": ("50.0", 5.0),
    "PolicyBenchmark.wasmGet": ("50.0", 5.0),
    "LedgerAppendBenchmark.appendAndWait": ("99.0", 5.0),
}

def num(x):
    return "-" if x is None else f"{x:,.2f}" if x < 100 else f"{x:,.0f}"

# Stage order, whatever order JMH ran them in.
ORDER = ["CanonicalizeBenchmark", "PolicyBenchmark", "LedgerAppendBenchmark", "HashChainSealBenchmark"]
results = json.load(open(sys.argv[1]))
results.sort(key=lambda b: next((i for i, c in enumerate(ORDER) if "." + c + "." in b["benchmark"]),
                                len(ORDER)))
rows = []
for b in results:
    name = ".".join(b["benchmark"].split(".")[-2:])
    if b.get("params"):
        name += "(" + ",".join(f"{k}={v}" for k, v in b["params"].items()) + ")"
    pm = b["primaryMetric"]
    pct = pm.get("scorePercentiles", {}) if b["mode"] == "sample" else {}
    alloc = next((m["score"] for k, m in b.get("secondaryMetrics", {}).items()
                  if k.lstrip("·") == "gc.alloc.rate.norm"), None)
    err = pm.get("scoreError")
    score = num(pm["score"]) + (" ± " + num(err) if isinstance(err, (int, float)) and err == err else "")
    target = "-"
    key = ".".join(b["benchmark"].split(".")[-2:])
    if key in TARGETS and pct:
        p, limit = TARGETS[key]
        got = pct[p]
        label = "p" + p.split(".")[0]
        target = (f"{label} <= {limit:g} us: met" if got <= limit
                  else f"{label} <= {limit:g} us: {got / limit:,.1f}x over")
    rows.append([name, b["mode"], num(pct.get("50.0")), num(pct.get("99.0")),
                 score + " " + pm["scoreUnit"], num(alloc), target])

head = ["benchmark", "mode", "p50 us", "p99 us", "score ± error", "alloc B/op", "vs target"]
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
right = {2, 3, 4, 5}
for r in [head] + rows:
    print("  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                    for i, (c, w) in enumerate(zip(r, widths))).rstrip())
PY
echo "results: $out (JMH log: $log); load at end $(cut -d' ' -f1-3 /proc/loadavg);" \
  "wall time $(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s" >&2
