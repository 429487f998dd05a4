#!/usr/bin/env bash
# What one sidecar costs a pod (issue 21): start-to-ready time, the first requests after ready, idle
# RSS, and RSS under load with pending async holds, for the proxy started as users start it
# (bin/countersign run --config examples/countersign.yaml, ports, upstream and folders moved into a
# temp dir). Two variants in one run, one after the other: `baseline` (engine opa with its managed
# OPA child, the JVM's own defaults: what main shipped before issue 21) and `footprint` (the
# example's engine, the launcher's memory settings and the AppCDS archive, as shipped now). RSS is summed over the
# process group (the JVM and any managed OPA). Loopback only; a benchmark, not a test: it fails only
# when the proxy does not start or the holds cannot be opened. ~2 minutes.
#
#   bench/footprint.sh                 # or: SCENARIOS=footprint bench/run.sh
#
# Per variant: start (t0 = just before exec) -> poll /readyz every 10 ms (ready_ms) -> 100 GETs one
# after the other (first_ms, p50_ms of 2..100, hundredth_ms) -> IDLE_S idle -> RSS (idle) ->
# HOLDS async holds (PATCH {"discount_pct": 30}, Prefer: respond-async, 202) -> RATE req/s for
# DURATION, half GET, half PATCH {"discount_pct": 10} (bench/loadgen, open loop, two generators) while
# RSS is sampled every second (load = the highest sample) -> heap after the load (jcmd GC.heap_info,
# when jcmd is there) -> stop. The last line is
#   footprint: ready_ms=N idle_rss_mib=N load_rss_mib=N nginx_rss_mib=N|n/a
# for the footprint variant (nginx: `nginx` on PATH measured under the same GET load; n/a without it).
#
# Knobs (environment):
#   VARIANTS="baseline footprint"   which variants, in order
#   BASELINE_ENGINE=opa BASELINE_MEMORY_OPTS=""   the baseline's engine and JVM memory flags (and no CDS)
#   CDS=on                            off: the footprint variant starts without the AppCDS archive
#   FOOTPRINT_ENGINE=                 override the example's engine for the footprint variant
#   RATE=2000 DURATION=20s HOLDS=1000 IDLE_S=5 CONNECTIONS=16 (per generator)
#   CONFIG=examples/countersign.yaml  the shipped config the run starts from
#   UPSTREAM_PORT=19231 PROXY_PORT=19232 ADMIN_PORT=19233 NGINX_PORT=19234
#   NMT=1                             -XX:NativeMemoryTracking=summary; its summary after the load
#   COUNTERSIGN_JAVA_OPTS is passed to the JVM of both variants; KEEP_TMP=1 keeps the temp dir.
set -Eeuo pipefail

VARIANTS="${VARIANTS:-baseline footprint}"
BASELINE_ENGINE="${BASELINE_ENGINE:-opa}"
BASELINE_MEMORY_OPTS="${BASELINE_MEMORY_OPTS-}"
FOOTPRINT_ENGINE="${FOOTPRINT_ENGINE:-}"
RATE="${RATE:-2000}"
DURATION="${DURATION:-20s}"
HOLDS="${HOLDS:-1000}"
IDLE_S="${IDLE_S:-5}"
CDS="${CDS:-on}" # on: the footprint variant starts with the AppCDS archive (scripts/build-cds.sh), as the image
NMT="${NMT:-0}" # 1: native memory tracking on, its summary after the load in the report
CONNECTIONS="${CONNECTIONS:-16}"
UPSTREAM_PORT="${UPSTREAM_PORT:-19231}"
PROXY_PORT="${PROXY_PORT:-19232}"
ADMIN_PORT="${ADMIN_PORT:-19233}"
NGINX_PORT="${NGINX_PORT:-19234}"
READY_DEADLINE_S=90
STOP_DEADLINE_S=20
BENCH_TOKEN="bench-token-not-a-secret"
export BENCH_TOKEN CRM_TOKEN="$BENCH_TOKEN" BILLING_TOKEN="$BENCH_TOKEN"

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/.." && pwd)"
CONFIG="${CONFIG:-$root/examples/countersign.yaml}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$bench/results"
report_out="$results/footprint-$stamp.txt"
t_start=$(date +%s)

log() { printf '[footprint %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for v in $VARIANTS; do
  case "$v" in baseline | footprint) ;; *) die "unknown variant '$v' (known: baseline footprint)" ;; esac
done

# ---------------------------------------------------------------------------------------- cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-footprint.XXXXXX")"
source "$bench/lib/common.sh"
source "$bench/lib/snapshot.sh"
upstream_pid="" proxy_pid="" nginx_pid="" sampler=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  stop_pid "$proxy_pid" countersign
  stop_pid "$nginx_pid" nginx
  stop_pid "$upstream_pid" upstream
  if [ -d "$tmp" ] && [ -d "$results" ]; then
    mkdir -p "$results/footprint-$stamp.logs"
    cp "$tmp"/*.log "$tmp"/*.yaml "$tmp"/*.json "$tmp"/*.txt "$results/footprint-$stamp.logs/" 2>/dev/null || true
  fi
  finish_run "$rc"
}
install_traps

# ---------------------------------------------------------------------------------------- tools
for tool in curl go python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done
bash "$root/scripts/install-tools.sh" opa
opa="$root/.tools/bin/opa"
build_proxy_if_missing
snapshot_proxy_at_head
if [ "$CDS" = on ]; then
  log "building the class-data-sharing archive in the snapshot (scripts/build-cds.sh), as the image does"
  TARGET="$tmp/proxy-snapshot/proxy/target" OPA="$opa" bash "$root/scripts/build-cds.sh" 2>"$tmp/build-cds.log" \
    || { cat "$tmp/build-cds.log" >&2; die "scripts/build-cds.sh failed"; }
fi
log "building the Go upstream, load generator and hold client"
mkdir -p "$results" "$bench/.build"
build_upstream
(cd "$bench/loadgen" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -o "$bench/.build/loadgen" .)
(cd "$bench/approvals" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=0 go build -o "$bench/.build/holdclient" .)
loadgen="$bench/.build/loadgen" hc="$bench/.build/holdclient"
copy_rego_without_spend_limits
jcmd="$(dirname "$(readlink -f "$(command -v java)")")/jcmd"
[ -x "$jcmd" ] || jcmd=""
require_free_ports UPSTREAM_PORT="$UPSTREAM_PORT" PROXY_PORT="$PROXY_PORT" ADMIN_PORT="$ADMIN_PORT" NGINX_PORT="$NGINX_PORT"

setsid "$bench/.build/upstream" -addr "127.0.0.1:$UPSTREAM_PORT" >"$tmp/upstream.log" 2>&1 &
upstream_pid=$!
wait_http "http://127.0.0.1:$UPSTREAM_PORT/" "$upstream_pid" 10 upstream "$tmp/upstream.log"

# write_config VARIANT ENGINE: the shipped config with the listeners, upstreams and folders moved into
# the run (and the bench's policy copy, whose spend limits a run cannot reach); everything else
# (limits, approvals, cache, the engine unless ENGINE is set) as shipped.
write_config() {
  python3 - "$CONFIG" "$tmp/$1.yaml" "$2" "$tmp" "$opa" "$PROXY_PORT" "$ADMIN_PORT" "$UPSTREAM_PORT" \
    "$(dirname "$CONFIG")" <<'PY'
import re, sys
src, out, engine, tmp, opa, agent, admin, up, cfgdir = sys.argv[1:]
text = open(src).read()
def sub(pattern, repl):
    global text
    text, n = re.subn(pattern, repl, text, flags=re.M)
    if n == 0:
        sys.exit(f"footprint: {src} has no line matching {pattern!r}")
sub(r"^(\s*agent:\s*)\S+", rf"\g<1>127.0.0.1:{agent}")
sub(r"^(\s*admin:\s*)\S+", rf"\g<1>127.0.0.1:{admin}")
sub(r"^(\s*public_url:\s*)\S+", rf"\g<1>http://127.0.0.1:{admin}")
sub(r"^(\s*upstream:\s*)http\S+", rf"\g<1>http://127.0.0.1:{up}")
sub(r"^(\s*opa_binary:\s*)\S+", rf"\g<1>{opa}")
sub(r"^(\s*rego_dir:\s*)\S+", rf"\g<1>{tmp}/rego")
sub(r"^(\s*dir:\s*)\S+", rf"\g<1>{tmp}/ledger")
sub(r"^(\s*approvers_file:\s*)(\S+)", lambda m: m.group(1) + (m.group(2) if m.group(2).startswith("/") else f"{cfgdir}/{m.group(2)}"))
if engine:
    sub(r"^(\s*engine:\s*)\S+", rf"\g<1>{engine}")
open(out, "w").write(text)
PY
}

# rss_kib PID: the resident memory of the process group PID leads (the JVM and its managed OPA).
rss_kib() {
  local total=0 p r
  for p in $( { pgrep -g "$1" 2>/dev/null || true; } ); do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${r:-0}))
  done
  echo "$total"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
procs() { # "name=MiB ..." of the group
  local p
  for p in $( { pgrep -g "$1" 2>/dev/null || true; } ); do
    awk '/^Name:/ {n=$2} /^VmRSS:/ {r=$2} END {if (r) printf "%s=%.0f ", n, r / 1024}' "/proc/$p/status" 2>/dev/null || true
  done
}

# sample_rss PID FILE: the group's RSS in KiB, once a second, into FILE (a background job).
sample_rss() {
  while kill -0 "$1" 2>/dev/null; do
    rss_kib "$1" >>"$2"
    sleep 1
  done
}

# load URL_PREFIX NAME: RATE req/s, half GET and half PATCH, for DURATION (two open-loop generators).
load() {
  local url="$1" name="$2" half=$((RATE / 2))
  "$loadgen" -url "$url/crm/v3/deals/42" -rate "$half" -connections "$CONNECTIONS" -duration "$DURATION" \
    -warmup 1s -label "$name GET" -out "$tmp/$name-get.json" 2>>"$tmp/loadgen.log" &
  local g=$!
  local p=""
  if [ "$name" != nginx ]; then
    "$loadgen" -url "$url/crm/v3/deals/42" -method PATCH -header 'Content-Type: application/json' \
      -body '{"discount_pct": 10}' -rate "$half" -connections "$CONNECTIONS" -duration "$DURATION" \
      -warmup 1s -label "$name PATCH" -out "$tmp/$name-patch.json" 2>>"$tmp/loadgen.log" &
    p=$!
  fi
  wait "$g" || die "$name: the GET generator failed (see $tmp/loadgen.log)"
  [ -z "$p" ] || wait "$p" || die "$name: the PATCH generator failed (see $tmp/loadgen.log)"
}
achieved() { # "GET 1000/s 0 err, PATCH 1000/s 0 err"
  python3 - "$@" <<'PY'
import json, os, sys
out = []
for f in sys.argv[1:]:
    if os.path.exists(f):
        d = json.load(open(f))
        out.append(f"{d['method']} {d['achieved_rate']:.0f}/s p99 {d['latency_us']['p99']/1000:.1f} ms "
                   f"non-2xx {d['non_2xx']} errors {d['errors_total']}")
print(", ".join(out))
PY
}

# ---------------------------------------------------------------------------------------- variants
: >"$tmp/results.txt"
measure() {
  local v="$1" engine="" mem_opts t0 t1 ready_ms code i first="" times=() line
  if [ "$v" = baseline ]; then
    engine="$BASELINE_ENGINE"
  else
    engine="$FOOTPRINT_ENGINE"
  fi
  write_config "$v" "$engine"
  rm -rf "$tmp/ledger" && mkdir -p "$tmp/jtmp-$v"
  log "$v: starting (engine $(awk '$1 == "engine:" {print $2}' "$tmp/$v.yaml"))"
  t0=$(date +%s%N)
  local nmt=""
  [ "$NMT" != 1 ] || nmt="-XX:NativeMemoryTracking=summary"
  if [ "$v" = baseline ]; then
    COUNTERSIGN_CDS=off COUNTERSIGN_MEMORY_OPTS="$BASELINE_MEMORY_OPTS" COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp/jtmp-$v $nmt ${COUNTERSIGN_JAVA_OPTS:-}" \
      setsid "$countersign" run --config "$tmp/$v.yaml" >"$tmp/$v.log" 2>&1 &
  else
    COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp/jtmp-$v $nmt ${COUNTERSIGN_JAVA_OPTS:-}" \
      setsid "$countersign" run --config "$tmp/$v.yaml" >"$tmp/$v.log" 2>&1 &
  fi
  proxy_pid=$!
  while :; do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz" || true)
    [ "$code" = 200 ] && break
    kill -0 "$proxy_pid" 2>/dev/null || { tail -n 20 "$tmp/$v.log" >&2; die "$v: the proxy exited before it was ready"; }
    (($(date +%s%N) - t0 < READY_DEADLINE_S * 1000000000)) || die "$v: not ready within ${READY_DEADLINE_S}s"
    sleep 0.01
  done
  t1=$(date +%s%N)
  ready_ms=$(((t1 - t0) / 1000000))
  # 100 GETs one after the other on one connection, right after ready: is the first one slow?
  local urls=()
  for ((i = 0; i < 100; i++)); do urls+=(-o /dev/null "http://127.0.0.1:$PROXY_PORT/crm/v3/deals/42"); done
  curl -s -w '%{http_code} %{time_total}\n' "${urls[@]}" >"$tmp/$v-first100.txt"
  if grep -qv '^200 ' "$tmp/$v-first100.txt"; then
    die "$v: a GET after ready failed: $(grep -v '^200 ' "$tmp/$v-first100.txt" | sed -n 1p)"
  fi
  first_ms=$(awk 'NR == 1 {printf "%.2f", $2 * 1000}' "$tmp/$v-first100.txt")
  last_ms=$(awk 'END {printf "%.2f", $2 * 1000}' "$tmp/$v-first100.txt")
  p50_ms=$(awk 'NR > 1 {print $2 * 1000}' "$tmp/$v-first100.txt" | sort -g | awk '{v[NR] = $1} END {printf "%.2f", v[int((NR + 1) / 2)]}')
  sleep "$IDLE_S"
  idle_kib=$(rss_kib "$proxy_pid")
  idle_procs=$(procs "$proxy_pid")
  log "$v: ready in $ready_ms ms; GET 1: $first_ms ms, median of 2-100: $p50_ms ms, 100th: $last_ms ms; idle RSS $(mib "$idle_kib") MiB ($idle_procs)"

  "$hc" requests -addr "127.0.0.1:$PROXY_PORT" -n "$HOLDS" -c 8 -method PATCH -body '{"discount_pct": 30}' \
    -header 'Prefer: respond-async' -expect 202 -fail-after 100 -max 180s >"$tmp/$v-holds.txt" 2>>"$tmp/holdclient.log" \
    || log "WARNING: $v: not every hold got its 202 (an overloaded machine: the OPA engine fails closed after policy.timeout): $(cut -c1-300 "$tmp/$v-holds.txt")"
  holds_ok=$(sed -nE 's/.* ok=([0-9]+).*/\1/p' "$tmp/$v-holds.txt")
  [ "${holds_ok:-0}" -ge $((HOLDS * 9 / 10)) ] || die "$v: fewer than 90 % of the holds were opened: $(cat "$tmp/$v-holds.txt")"
  holds_kib=$(rss_kib "$proxy_pid")
  : >"$tmp/$v-rss.txt"
  sample_rss "$proxy_pid" "$tmp/$v-rss.txt" &
  sampler=$!
  log "$v: $HOLDS holds pending (RSS $(mib "$holds_kib") MiB); $RATE req/s GET+PATCH for $DURATION"
  load "http://127.0.0.1:$PROXY_PORT" "$v"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  sampler=""
  load_kib=$(sort -n "$tmp/$v-rss.txt" | tail -1)
  end_kib=$(rss_kib "$proxy_pid")
  load_procs=$(procs "$proxy_pid")
  pending=$("$hc" pending -admin "http://127.0.0.1:$ADMIN_PORT" 2>/dev/null | tr '\n' ' ' || true)
  jvm=$(pgrep -g "$proxy_pid" java | head -1)
  kinds=$(awk '/^(RssAnon|RssFile|RssShmem):/ {printf "%s=%.0f ", $1, $2 / 1024}' "/proc/$jvm/status" | tr -d :)
  if [ "$NMT" = 1 ] && [ -n "$jcmd" ]; then
    "$jcmd" "$jvm" VM.native_memory summary >"$tmp/$v-nmt.txt" 2>&1 || true
  fi
  heap="-"
  if [ -n "$jcmd" ]; then
    heap=$("$jcmd" "$(pgrep -g "$proxy_pid" java | head -1)" GC.heap_info 2>/dev/null \
      | awk '/ total / {for (i = 1; i <= NF; i++) {if ($i == "total") t += $(i + 1); if ($i == "used") u += $(i + 1)}}
             END {if (t) printf "used %.0f of %.0f MiB committed", u / 1024, t / 1024}' || true)
  fi
  line="$v: engine=$(awk '$1 == "engine:" {print $2}' "$tmp/$v.yaml") ready_ms=$ready_ms first_ms=$first_ms p50_2_100_ms=$p50_ms hundredth_ms=$last_ms idle_rss_mib=$(mib "$idle_kib") holds_open=$holds_ok holds_rss_mib=$(mib "$holds_kib") load_rss_mib=$(mib "$load_kib") end_rss_mib=$(mib "$end_kib")"
  printf '%s\n' "$line" >>"$tmp/results.txt"
  {
    printf '%s\n' "$line"
    printf '  idle processes (MiB): %s\n  after the load: %s(JVM: %s)\n  heap after the load: %s\n  pending: %s\n  load: %s\n' \
      "$idle_procs" "$load_procs" "$kinds" "${heap:--}" "${pending:--}" "$(achieved "$tmp/$v-get.json" "$tmp/$v-patch.json")"
    [ ! -s "$tmp/$v-nmt.txt" ] || grep -E '^Total|^-' "$tmp/$v-nmt.txt" | sed -E 's/\(reserved=[0-9]+KB, /(/; s/^/  NMT /' 
  } >>"$tmp/details.txt"
  log "$v: load RSS $(mib "$load_kib") MiB (peak), $(mib "$end_kib") MiB at the end ($load_procs); $(achieved "$tmp/$v-get.json" "$tmp/$v-patch.json")"
  stop_pid "$proxy_pid" "$v"
  proxy_pid=""
}

for v in $VARIANTS; do measure "$v"; done

# nginx, when installed: the same GET load through a plain reverse proxy (no policy), for scale.
nginx_mib="n/a"
if command -v nginx >/dev/null; then
  mkdir -p "$tmp/nginx/tmp"
  cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/tmp/body; proxy_temp_path $tmp/nginx/tmp/proxy;
  fastcgi_temp_path $tmp/nginx/tmp/fastcgi; uwsgi_temp_path $tmp/nginx/tmp/uwsgi; scgi_temp_path $tmp/nginx/tmp/scgi;
  upstream crm { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  server { listen 127.0.0.1:$NGINX_PORT; location /crm/ { proxy_pass http://crm/; } }
}
EOF
  setsid nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" -g 'daemon off;' >"$tmp/nginx.log" 2>&1 &
  nginx_pid=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/" "$nginx_pid" 10 nginx "$tmp/nginx/error.log"
  : >"$tmp/nginx-rss.txt"
  sample_rss "$nginx_pid" "$tmp/nginx-rss.txt" &
  sampler=$!
  RATE=$((RATE / 2)) load "http://127.0.0.1:$NGINX_PORT" nginx
  kill "$sampler" 2>/dev/null || true
  sampler=""
  nginx_mib=$(mib "$(sort -n "$tmp/nginx-rss.txt" | tail -1)")
  stop_pid "$nginx_pid" nginx
  nginx_pid=""
fi

# ---------------------------------------------------------------------------------------- report
{
  echo "Countersign footprint, $(date -u +%Y-%m-%dT%H:%MZ), HEAD ${commit:0:7} (uncommitted changes: $dirty)"
  echo "host: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); java $(java -version 2>&1 | head -1)"
  echo "load: $RATE req/s (half GET, half PATCH) for $DURATION with $HOLDS async holds pending; RSS = the process group (JVM + any managed OPA)"
  echo
  cat "$tmp/details.txt"
  echo
  if grep -q '^baseline:' "$tmp/results.txt" && grep -q '^footprint:' "$tmp/results.txt"; then
    python3 - "$tmp/results.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, rest = line.split(":", 1)
    rows[name] = dict(kv.split("=") for kv in rest.split())
b, f = rows["baseline"], rows["footprint"]
print("footprint vs baseline (same run):")
for k in ["ready_ms", "first_ms", "hundredth_ms", "idle_rss_mib", "holds_rss_mib", "load_rss_mib"]:
    print(f"  {k:14} {b[k]:>9} -> {f[k]:>9}   x{float(f[k]) / max(float(b[k]), 1e-9):.2f}")
PY
  fi
} | tee "$report_out" >&2
f=$(grep '^footprint:' "$tmp/results.txt" || grep '^baseline:' "$tmp/results.txt")
val() { sed -nE "s/.* $1=([^ ]*).*/\\1/p" <<<"$f"; }
last="footprint: ready_ms=$(val ready_ms) idle_rss_mib=$(val idle_rss_mib) load_rss_mib=$(val load_rss_mib) nginx_rss_mib=$nginx_mib"
echo "$last" | tee -a "$report_out"
log "report: $report_out"
