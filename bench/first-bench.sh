#!/usr/bin/env bash
# First Countersign benchmark: direct-to-upstream vs. through Countersign (managed OPA, and wasm),
# GET and PATCH, measured with wrk in one run. Loopback only. See bench/README.md.
#
#   bench/first-bench.sh
#
# Knobs (environment): DURATION=10s WARMUP=20s THREADS=1 CONNECTIONS=32
#   TMPFS=auto|0|1   also run GET with the ledger on /dev/shm (auto: when /dev/shm exists)
#   UPSTREAM_PORT=19100 PROXY_PORT=18080 ADMIN_PORT=18090   KEEP_TMP=1 keeps the temp dir (ledgers, configs)
#   COUNTERSIGN_JAVA_OPTS  passed through to the JVM (e.g. -Dio.netty.leakDetection.level=paranoid)
set -Eeuo pipefail

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-20s}"  # the JIT is still compiling after 5-10 s (bench/profile)
THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-32}"
TMPFS="${TMPFS:-auto}"
UPSTREAM_PORT="${UPSTREAM_PORT:-19100}"
PROXY_PORT="${PROXY_PORT:-18080}"
ADMIN_PORT="${ADMIN_PORT:-18090}"
READY_DEADLINE_S=90      # proxy start (JVM + managed OPA or wasm compile)
STOP_DEADLINE_S=15       # graceful stop before SIGKILL

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/.." && pwd)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$bench/results"
json_out="$results/first-bench-$stamp.json"
logs_out="$results/first-bench-$stamp.logs"
t_start=$(date +%s)

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ---------------------------------------------------------------------------------------- cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-bench.XXXXXX")"
source "$bench/lib/common.sh"
source "$bench/lib/snapshot.sh"
copy_rego_without_spend_limits
shm=""
upstream_pid=""
proxy_pid=""
sampler_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  stop_pid "$proxy_pid" countersign
  stop_pid "$upstream_pid" upstream
  if [ -d "$tmp" ]; then
    mkdir -p "$logs_out"
    cp "$tmp"/*.log "$tmp"/*.yaml "$logs_out"/ 2>/dev/null || true
  fi
  if [ -n "$shm" ]; then
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $shm"; else rm -rf "$shm"; fi
  fi
  finish_run "$rc"
}
install_traps

# ---------------------------------------------------------------------------------------- tools
log "installing tools (idempotent): opa, wrk"
bash "$root/scripts/install-tools.sh" opa wrk
opa="$root/.tools/bin/opa"
[ -x "$opa" ] || die "OPA missing at $opa"
command -v wrk >/dev/null || die "wrk is not installed"
command -v curl >/dev/null || die "curl is needed for readiness checks"
command -v go >/dev/null || die "go is needed to build bench/upstream"

build_proxy_if_missing

# Run from a private copy of the built proxy, so a concurrent `mvn package` in the working tree
# (which deletes and rewrites proxy/target) cannot pull classes out from under a running bench.
snapshot_proxy_at_head

log "building the Go upstream"
mkdir -p "$results"
build_upstream
require_free_ports UPSTREAM_PORT="$UPSTREAM_PORT" PROXY_PORT="$PROXY_PORT" ADMIN_PORT="$ADMIN_PORT"

# ---------------------------------------------------------------------------------------- upstream
upstream_url="http://127.0.0.1:$UPSTREAM_PORT"
setsid "$bench/.build/upstream" -addr "127.0.0.1:$UPSTREAM_PORT" >"$tmp/upstream.log" 2>&1 &
upstream_pid=$!
wait_http "$upstream_url/" "$upstream_pid" 10 upstream "$tmp/upstream.log"
log "upstream ready at $upstream_url (pid $upstream_pid)"

# ---------------------------------------------------------------------------------------- wrk runs
tsv="$tmp/results.tsv"   # scenario engine ledger method  + the 13 fields from bench.lua
: >"$tsv"
failures=()

# run_wrk SCENARIO ENGINE LEDGER METHOD URL: warm-up, then the measured run.
run_wrk() {
  local scenario="$1" engine="$2" ledger="$3" method="$4" url="$5" out errs status=1
  [ "$engine" = direct ] && status=0   # per-response Lua would slow the baseline
  log "$scenario: warm-up $WARMUP"
  : >"$tmp/warmup.tsv"
  BENCH_METHOD="$method" BENCH_STATUS="$status" BENCH_OUT="$tmp/warmup.tsv" timeout 120 \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --latency -s "$bench/wrk/bench.lua" "$url" \
    >>"$tmp/wrk.log" 2>&1 || die "$scenario: wrk warm-up failed (see $tmp/wrk.log)"
  errs=$(awk -F'\t' '{print $9+$10+$11+$12+$13}' "$tmp/warmup.tsv")
  if [ "${errs:-1}" != 0 ]; then
    failures+=("$scenario warm-up: $(awk -F'\t' '{printf "connect=%d read=%d write=%d timeout=%d non2xx=%d statuses=%s first_non_2xx=%s", $9,$10,$11,$12,$13,$14,$15}' "$tmp/warmup.tsv")")
  fi
  log "$scenario: measuring $DURATION ($THREADS thread(s), $CONNECTIONS connections)"
  out="$tmp/one.tsv"
  : >"$out"
  echo "=== $scenario ($method $url)" >>"$tmp/wrk.log"
  start_sampler
  BENCH_METHOD="$method" BENCH_STATUS="$status" BENCH_OUT="$out" timeout 120 \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$bench/wrk/bench.lua" "$url" \
    | tee -a "$tmp/wrk.log" | grep -E 'Requests/sec|Non-2xx|Socket errors' >&2 \
    || die "$scenario: wrk failed (see $tmp/wrk.log)"
  finish_sampler "$scenario" "$upstream_pid" "$proxy_pid"
  [ -s "$out" ] || die "$scenario: wrk produced no result"
  errs=$(awk -F'\t' '{print $9+$10+$11+$12+$13}' "$out")
  if [ "$errs" != 0 ]; then
    failures+=("$scenario: $(awk -F'\t' '{printf "connect=%d read=%d write=%d timeout=%d non2xx=%d statuses=%s first_non_2xx=%s", $9,$10,$11,$12,$13,$14,$15}' "$out")")
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$scenario" "$engine" "$ledger" "$method" "$(cat "$out")" >>"$tsv"
}

proxy_stats="$tmp/proxy-stats.tsv"   # scenario-prefix rss_kb ledger_kb
: >"$proxy_stats"

# with_proxy ENGINE LEDGER_KIND LEDGER_DIR METHODS...: start Countersign, run, stop it.
with_proxy() {
  local engine="$1" kind="$2" ldir="$3"; shift 3
  local name="countersign-$engine-$kind" cfg="$tmp/countersign-$engine-$kind.yaml"
  local logf="$tmp/countersign-$engine-$kind.log" t0 m rss
  mkdir -p "$tmp/jtmp-$engine-$kind"
  write_countersign_config "$cfg" "$engine" "$ldir" "$PROXY_PORT" "$ADMIN_PORT" "$upstream_url"
  t0=$(date +%s%N)
  BENCH_TOKEN="bench-token-not-a-secret" \
    COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp/jtmp-$engine-$kind ${COUNTERSIGN_JAVA_OPTS:-}" \
    setsid "$countersign" run --config "$cfg" >"$logf" 2>&1 &
  proxy_pid=$!
  wait_http "http://127.0.0.1:$PROXY_PORT/" "$proxy_pid" "$READY_DEADLINE_S" "$name" "$logf"
  log "$name ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $proxy_pid, ledger $ldir)"
  for m in "$@"; do
    expect_status "$m" "http://127.0.0.1:$PROXY_PORT/crm/v3/deals/42" '2*'
    run_wrk "$engine $m ($kind ledger)" "$engine" "$kind" "$m" "http://127.0.0.1:$PROXY_PORT/crm/v3/deals/42"
  done
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$proxy_pid/status" 2>/dev/null || echo 0)
  stop_pid "$proxy_pid" "$name"
  proxy_pid=""
  printf '%s\t%s\t%s\t%s\n' "$engine" "$kind" "${rss:-0}" "$(du -sk "$ldir" | cut -f1)" >>"$proxy_stats"
  # Ledgers grow with every request: drop each one when its proxy stops, unless KEEP_TMP=1.
  [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$ldir"
}

# ---------------------------------------------------------------------------------------- scenarios
expect_status GET "$upstream_url/v3/deals/42" '2*'
run_wrk "direct GET" direct none GET "$upstream_url/v3/deals/42"

with_proxy opa disk "$tmp/ledger-opa" GET PATCH
with_proxy wasm disk "$tmp/ledger-wasm" GET PATCH

if [ "$TMPFS" = 1 ] || { [ "$TMPFS" = auto ] && [ -d /dev/shm ] && [ -w /dev/shm ]; }; then
  shm="$(mktemp -d /dev/shm/countersign-bench.XXXXXX)"
  with_proxy opa tmpfs "$shm/ledger-opa" GET
  with_proxy wasm tmpfs "$shm/ledger-wasm" GET
fi

# ---------------------------------------------------------------------------------------- report
# Proxy log lines worth a look: warnings, errors, Netty leak reports, exceptions.
notable="$tmp/notable.txt"
grep -hE 'WARN|ERROR|LEAK:|Exception' "$tmp"/countersign-*.log 2>/dev/null \
  | sed -E 's/^[0-9T:.+-]+Z? //; s/opa\[[0-9]+\]/opa[PID]/; s/"(fields\.)?time":"[^"]*",?//g; s/@[0-9a-f]{6,}/@…/g' \
  | sort | uniq -c | sort -rn >"$notable" || true
leaks=$(cat "$tmp"/countersign-*.log 2>/dev/null | grep -c 'LEAK:' || true)

echo
awk -F'\t' -v dur="$DURATION" -v warm="$WARMUP" -v thr="$THREADS" -v con="$CONNECTIONS" '
  { scen[NR]=$1; rps[NR]=$7; p50[NR]=$8/1000; p99[NR]=$10/1000; err[NR]=$13+$14+$15+$16+$17
    if ($2 == "direct") { d_rps=$7; d50=$8/1000; d99=$10/1000 } }
  END {
    printf "Countersign first bench: wrk -t%s -c%s -d%s --latency (warm-up %s), GET/PATCH /crm/v3/deals/42\n", thr, con, dur, warm
    printf "%-26s %10s %9s %9s %8s %10s %10s %7s\n", "scenario", "req/s", "p50 ms", "p99 ms", "x direct", "+p50 ms", "+p99 ms", "errors"
    printf "%-26s %10s %9s %9s %8s %10s %10s %7s\n", "--------", "-----", "------", "------", "--------", "-------", "-------", "------"
    for (i = 1; i <= NR; i++)
      printf "%-26s %10.0f %9.3f %9.3f %8.3f %10.3f %10.3f %7d\n", scen[i], rps[i], p50[i], p99[i], rps[i]/d_rps, p50[i]-d50, p99[i]-d99, err[i]
  }' "$tsv" | tee "$tmp/table.txt"
echo
awk -F'\t' '{printf "proxy %s/%s ledger: RSS at end %.0f MiB, ledger dir %.1f MiB\n", $1, $2, $3/1024, $4/1024}' "$proxy_stats"
if [ -s "$notable" ]; then
  echo "proxy log warnings/errors (count, deduplicated):"
  head -n 20 "$notable" | cut -c1-300
fi
echo "LEAK: reports in proxy logs: $leaks"
if ((${#noisy[@]} > 0)); then
  echo "WARNING: other processes were busy during ${#noisy[@]} run(s); treat the numbers with care:"
  printf '  %s\n' "${noisy[@]}"
fi

# JSON (no jq needed: every value is a number or a plain string we wrote).
jstr() { printf '%s' "$1" | tr '\t\n' '  ' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/ /g' | awk '{printf "%s\\n", $0}'; }
{
  printf '{\n  "benchmark": "first-bench",\n  "timestamp": "%s",\n' "$stamp"
  printf '  "git_commit": "%s",\n  "git_dirty": %s,\n' "$commit" "$dirty"   # when the build was copied
  printf '  "host": {"cpus": %s, "kernel": "%s", "java": "%s", "wrk": "%s", "opa": "%s"},\n' \
    "$(nproc)" "$(uname -r)" "$(java -version 2>&1 | head -1 | sed 's/"/\\"/g')" \
    "$( { wrk --version 2>&1 || true; } | awk 'NR == 1 {print $2}')" "$("$opa" version | awk '/^Version:/ {print $2}')"
  printf '  "wrk": {"threads": %s, "connections": %s, "duration": "%s", "warmup": "%s"},\n' \
    "$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP"
  printf '  "path": {"proxy": "/crm/v3/deals/42", "direct": "/v3/deals/42", "patch_body": "{\\"discount_pct\\": 10}"},\n'
  printf '  "scenarios": [\n'
  awk -F'\t' '
    function esc(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return v }
    NR==FNR { if ($2 == "direct") { d_rps=$7; d50=$8; d99=$10 } next }
    { if (n++) printf ",\n"
      printf "    {\"scenario\": \"%s\", \"engine\": \"%s\", \"ledger\": \"%s\", \"method\": \"%s\", ", $1, $2, $3, $4
      printf "\"requests\": %d, \"duration_s\": %.3f, \"requests_per_s\": %.1f, ", $5, $6/1e6, $7
      printf "\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"mean\": %.3f}, ", $8/1000, $9/1000, $10/1000, $11/1000, $12/1000
      printf "\"errors\": {\"connect\": %d, \"read\": %d, \"write\": %d, \"timeout\": %d, \"non_2xx_3xx\": %d}, ", $13, $14, $15, $16, $17
      printf "\"statuses\": \"%s\", \"first_non_2xx\": \"%s\", ", esc($18), esc($19)
      printf "\"vs_direct\": {\"throughput_ratio\": %.4f, \"added_p50_ms\": %.3f, \"added_p99_ms\": %.3f}}", $7/d_rps, ($8-d50)/1000, ($10-d99)/1000 }
    END { printf "\n" }' "$tsv" "$tsv"
  printf '  ],\n  "proxy_processes": [\n'
  awk -F'\t' '{ if (n++) printf ",\n"; printf "    {\"engine\": \"%s\", \"ledger\": \"%s\", \"rss_kib_at_end\": %d, \"ledger_kib\": %d}", $1, $2, $3, $4 } END { printf "\n" }' "$proxy_stats"
  printf '  ],\n  "leak_reports": %d,\n' "$leaks"
  printf '  "failures": ['
  for i in "${!failures[@]}"; do printf '%s"%s"' "$([ "$i" -gt 0 ] && echo ', ')" "$(jstr "${failures[$i]}")"; done
  printf '],\n  "other_busy_processes": ['
  for i in "${!noisy[@]}"; do printf '%s"%s"' "$([ "$i" -gt 0 ] && echo ', ')" "$(jstr "${noisy[$i]}")"; done
  printf '],\n  "loadavg_at_end": "%s",\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '  "proxy_log_notable": "%s",\n' "$(json_escape <"$notable")"
  printf '  "table": "%s"\n}\n' "$(json_escape <"$tmp/table.txt")"
} >"$json_out"
echo "results: $json_out (logs: $logs_out/)"

if ((${#failures[@]} > 0)); then
  for f in "${failures[@]}"; do log "FAIL: $f"; done
  die "${#failures[@]} run(s) had errors or non-2xx responses (see $logs_out/wrk.log)"
fi
if [ "$leaks" -gt 0 ]; then
  die "the proxy reported $leaks Netty LEAK: message(s) (see $logs_out/)"
fi
log "ok"
