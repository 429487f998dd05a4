#!/usr/bin/env bash
# Streamed answers through the proxy (issue 13): one long text/event-stream (default 1 GiB, at most
# 10 minutes) read by a fast agent, then one read by an agent that stops reading for a while. A
# benchmark, not a test: it prints throughput and time to first byte through the proxy against the
# same stream read directly in the same run (the baseline), and the proxy's RSS sampled every
# second, so "memory stays flat" is a number. Loopback only.
#
#   bench/stream.sh                          # 1 GiB, ~1-3 minutes on 2 cores
#   BYTES=$((10<<30)) SECONDS_CAP=600 bench/stream.sh   # the 10-minute soak
#
# Knobs (environment):
#   BYTES=1073741824       bytes per stream (the upstream stops at BYTES or SECONDS_CAP)
#   SECONDS_CAP=600        upper bound of one stream's duration
#   EVENT=1024             bytes per server-sent event
#   STALL_BYTES=268435456 STALL_AFTER=16777216 STALL_S=20   the stalled agent's stream, when it stops, how long
#   FIRST_BYTE_RUNS=20     short streams (64 KiB) timed to their first body byte, each way
#   ENGINE=wasm            policy engine
#   UPSTREAM_PORT=19300 PROXY_PORT=18380 ADMIN_PORT=19390
#   COUNTERSIGN_JAVA_OPTS  JVM options (default: the launcher's)
#   KEEP_TMP=1             keep the temp dir;  RESULTS_DIR=bench/results  where the report goes
set -Eeuo pipefail

BYTES="${BYTES:-1073741824}"
SECONDS_CAP="${SECONDS_CAP:-600}"
EVENT="${EVENT:-1024}"
STALL_BYTES="${STALL_BYTES:-268435456}"
STALL_AFTER="${STALL_AFTER:-16777216}"
STALL_S="${STALL_S:-20}"
ENGINE="${ENGINE:-wasm}"
FIRST_BYTE_RUNS="${FIRST_BYTE_RUNS:-20}"
UPSTREAM_PORT="${UPSTREAM_PORT:-19300}"
PROXY_PORT="${PROXY_PORT:-18380}"
ADMIN_PORT="${ADMIN_PORT:-19390}"
JAVA_OPTS="${COUNTERSIGN_JAVA_OPTS:-}"
READY_DEADLINE_S=90
STOP_DEADLINE_S=20

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/.." && pwd)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="${RESULTS_DIR:-$bench/results}"
report_out="$results/stream-$stamp.txt"
t_start=$(date +%s)

log() { printf '[stream %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-stream-bench.XXXXXX")"
source "$bench/lib/common.sh"
source "$bench/lib/snapshot.sh"
upstream_pid=""
proxy_pid=""
sampler=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  stop_pid "$proxy_pid" countersign
  stop_pid "$upstream_pid" upstream
  finish_run "$rc"
}
install_traps

command -v curl >/dev/null || die "curl is needed"
command -v go >/dev/null || die "go is needed to build bench/stream"
opa="$root/.tools/bin/opa"
[ -x "$opa" ] || bash "$root/scripts/install-tools.sh" opa
build_proxy_if_missing
snapshot_proxy_at_head
copy_rego_without_spend_limits
(cd "$bench/stream" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=0 go build -o "$tmp/stream" .)
require_free_ports UPSTREAM_PORT="$UPSTREAM_PORT" PROXY_PORT="$PROXY_PORT" ADMIN_PORT="$ADMIN_PORT"

setsid "$tmp/stream" upstream -addr "127.0.0.1:$UPSTREAM_PORT" >"$tmp/upstream.log" 2>&1 &
upstream_pid=$!
wait_http "http://127.0.0.1:$UPSTREAM_PORT/" "$upstream_pid" 10 upstream "$tmp/upstream.log"

cfg="$tmp/countersign.yaml"
write_countersign_config "$cfg" "$ENGINE" "$tmp/ledger" "$PROXY_PORT" "$ADMIN_PORT" \
  "http://127.0.0.1:$UPSTREAM_PORT"
BENCH_TOKEN="bench-token-not-a-secret" COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp $JAVA_OPTS" \
  setsid "$countersign" run --config "$cfg" >"$tmp/countersign.log" 2>&1 &
proxy_pid=$!
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" "$proxy_pid" "$READY_DEADLINE_S" countersign "$tmp/countersign.log" 200
java_pid=$(pgrep -P "$proxy_pid" java || echo "$proxy_pid")
[ -r "/proc/$java_pid/status" ] || java_pid=$proxy_pid

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$java_pid/status"; }
# sample_rss FILE: the proxy's RSS in MiB, once a second, until killed.
sample_rss() { while kill -0 "$java_pid" 2>/dev/null; do echo "$(date +%s) $(rss_mib)" >>"$1"; sleep 1; done; }

query="bytes=$BYTES&event=$EVENT&seconds=$SECONDS_CAP"
log "warm-up: 64 MiB through the proxy"
"$tmp/stream" read -url "http://127.0.0.1:$PROXY_PORT/crm/v3/stream?bytes=67108864&event=$EVENT" >/dev/null

# time to first byte: FIRST_BYTE_RUNS short streams each way, the median reported
first_byte_runs() { # URL -> one first_byte_ms per line
  local i
  for ((i = 0; i < FIRST_BYTE_RUNS; i++)); do
    "$tmp/stream" read -url "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["first_byte_ms"])'
  done
}
log "time to first byte: $FIRST_BYTE_RUNS short streams direct, then through the proxy"
first_direct=$(first_byte_runs "http://127.0.0.1:$UPSTREAM_PORT/v3/stream?bytes=65536&event=$EVENT" | tr '\n' ' ')
first_proxied=$(first_byte_runs "http://127.0.0.1:$PROXY_PORT/crm/v3/stream?bytes=65536&event=$EVENT" | tr '\n' ' ')

log "direct: $BYTES bytes"
direct=$("$tmp/stream" read -url "http://127.0.0.1:$UPSTREAM_PORT/v3/stream?$query")
rss_before=$(rss_mib)
log "through the proxy: $BYTES bytes (RSS sampled every second)"
sample_rss "$tmp/rss-fast.txt" & sampler=$!
proxied=$("$tmp/stream" read -url "http://127.0.0.1:$PROXY_PORT/crm/v3/stream?$query")
kill "$sampler" 2>/dev/null || true; sampler=""

log "a stalled agent: reads $STALL_AFTER bytes, stops for ${STALL_S}s, then reads the rest of $STALL_BYTES"
sample_rss "$tmp/rss-stall.txt" & sampler=$!
stalled=$("$tmp/stream" read -url "http://127.0.0.1:$PROXY_PORT/crm/v3/stream?bytes=$STALL_BYTES&event=$EVENT" \
  -stall-after "$STALL_AFTER" -stall "${STALL_S}s")
kill "$sampler" 2>/dev/null || true; sampler=""

ledger_line=$("$countersign" ledger tail --dir "$tmp/ledger" 2>/dev/null | grep '"exchange.completed"' | tail -2 | head -1 || true)

mkdir -p "$results"
python3 - "$direct" "$proxied" "$stalled" "$rss_before" "$tmp/rss-fast.txt" "$tmp/rss-stall.txt" "$ledger_line" \
  "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$first_direct" "$first_proxied" <<'PY' | tee "$report_out"
import json, sys
direct, proxied, stalled = (json.loads(a) for a in sys.argv[1:4])
before = float(sys.argv[4])
def rss(path):
    return [float(l.split()[1]) for l in open(path) if len(l.split()) == 2]
fast, stall = rss(sys.argv[5]), rss(sys.argv[6])
ledger = json.loads(sys.argv[7]) if sys.argv[7] else {}
stream = ledger.get("body", {}).get("response", {}).get("stream", {})
print(f"# bench/stream.sh, {sys.argv[8]} cores, load {sys.argv[9]}")
print(f"stream of {direct['bytes']/2**20:.0f} MiB, events of 1 KiB")
print(f"| | MiB/s | first byte ms | seconds | complete |")
print(f"|---|---|---|---|---|")
for name, r in (("direct", direct), ("through countersign", proxied)):
    print(f"| {name} | {r['mib_per_s']:.0f} | {r['first_byte_ms']:.2f} | {r['seconds']:.1f} | {r['complete']} |")
import statistics
fd = [float(x) for x in sys.argv[10].split()]
fp = [float(x) for x in sys.argv[11].split()]
print(f"time to first body byte, median of {len(fd)} short streams: direct {statistics.median(fd):.2f} ms, "
      f"through countersign {statistics.median(fp):.2f} ms (+{statistics.median(fp)-statistics.median(fd):.2f} ms); "
      f"max {max(fd):.2f} / {max(fp):.2f} ms")
print(f"throughput ratio proxy/direct: {proxied['mib_per_s']/direct['mib_per_s']:.2f}; "
      f"first byte +{proxied['first_byte_ms']-direct['first_byte_ms']:.2f} ms")
print(f"proxy RSS during the fast stream: before {before:.0f} MiB, min {min(fast):.0f}, max {max(fast):.0f}, "
      f"last {fast[-1]:.0f} MiB ({len(fast)} samples); growth {max(fast)-before:+.0f} MiB for {proxied['bytes']/2**20:.0f} MiB streamed")
print(f"stalled agent: {stalled['bytes']/2**20:.0f} MiB complete={stalled['complete']}; proxy RSS min {min(stall):.0f}, "
      f"max {max(stall):.0f} MiB over {len(stall)} s")
if stream:
    print(f"ledger of the fast stream: ended={stream.get('ended')} size={ledger['body']['response'].get('size')} "
          f"events kept={len(stream.get('events', []))} counted={stream.get('event_count')}")
PY
log "report: $report_out"
