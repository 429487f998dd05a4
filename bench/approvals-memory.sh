#!/usr/bin/env bash
# What held approvals cost in memory (issue 3): one Countersign process holds 10,000 sync requests
# (each an open agent connection waiting for a human) and then 100,000 pending async approvals
# (202 + ticket) on top. Measures the JVM's RSS and its Java heap after a full GC at each step,
# per-hold bytes, the ledger's size, and how long opening the holds took. A benchmark, not a test:
# it fails only when the holds cannot be opened or counted. Loopback only, ~1-2 minutes.
#
#   bench/approvals-memory.sh
#
# Steps, in one proxy process (engine wasm, ledger in a temp dir, approvals.max_pending 200000,
# max_held_connections 20000): warm-up with allowed GETs/PATCHes -> measure -> SYNC_HOLDS
# connections each send one held PATCH /crm/v3/deals/N {"discount_pct": 30} and stay open ->
# measure -> ASYNC_HOLDS of the same PATCH with Prefer: respond-async (202 + ticket) -> measure ->
# close the sync connections (holds abandoned) -> measure. "Measure" = jcmd GC.run, then
# GC.heap_info (heap used after a full GC), /proc/PID/status (VmRSS, RssAnon, RssFile), threads,
# fds, ledger size. Counts are checked with the admin API (the countersign_approvals_pending gauge on
# /metrics, and GET /v1/approvals with an approver token the script makes up). The policy is the
# example one (rego/), copied when the run starts. A plain GET /crm/v3/deals/1 probes responsiveness at each
# step. Per-hold bytes = delta between two steps / holds added. The report and logs (class
# histograms, heap_info, proxy log) go to RESULTS_DIR.
#
# Knobs (environment):
#   SYNC_HOLDS=10000 ASYNC_HOLDS=100000   how many holds of each kind
#   ASYNC_CONNECTIONS=8                   keep-alive connections sending the async holds
#   DIALERS=128                           sync connections being opened at once
#   WARMUP_REQUESTS=3000 WARMUP_PATCHES=100   allowed GETs and PATCHes before the baseline
#   ENGINE=wasm                           policy engine (wasm: in-process; opa: managed OPA child)
#   UPSTREAM_PORT=19200 PROXY_PORT=18180 ADMIN_PORT=19190
#   NOFILE=65536                          ulimit -n for this script and the proxy it starts
#   PHASE_DEADLINE_S=600                  upper bound for opening each batch of holds
#   COUNTERSIGN_JAVA_OPTS                 JVM options (default -Xmx2g)
#   KEEP_TMP=1                            keep the temp dir (ledger, configs, logs)
#   RESULTS_DIR=bench/results             where the report and logs are copied
set -Eeuo pipefail

SYNC_HOLDS="${SYNC_HOLDS:-10000}"
ASYNC_HOLDS="${ASYNC_HOLDS:-100000}"
ASYNC_CONNECTIONS="${ASYNC_CONNECTIONS:-8}"
DIALERS="${DIALERS:-128}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-3000}"
WARMUP_PATCHES="${WARMUP_PATCHES:-100}"
ENGINE="${ENGINE:-wasm}"
UPSTREAM_PORT="${UPSTREAM_PORT:-19200}"
PROXY_PORT="${PROXY_PORT:-18180}"
ADMIN_PORT="${ADMIN_PORT:-19190}"
NOFILE="${NOFILE:-65536}"
PHASE_DEADLINE_S="${PHASE_DEADLINE_S:-600}"
JAVA_OPTS="${COUNTERSIGN_JAVA_OPTS:--Xmx2g}"
READY_DEADLINE_S=90
STOP_DEADLINE_S=20

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/.." && pwd)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="${RESULTS_DIR:-$bench/results}"
report_out="$results/approvals-memory-$stamp.txt"
logs_out="$results/approvals-memory-$stamp.logs"
t_start=$(date +%s)
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

log() { printf '[approvals-memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ---------------------------------------------------------------------------------------- cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-approvals-bench.XXXXXX")"
source "$bench/lib/common.sh"
source "$bench/lib/snapshot.sh"
upstream_pid=""
proxy_pid=""
sync_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$sync_pid" "sync hold client"
  stop_pid "$proxy_pid" countersign
  stop_pid "$upstream_pid" upstream
  if [ -d "$tmp" ]; then
    mkdir -p "$logs_out"
    cp "$tmp"/*.log "$tmp"/*.yaml "$tmp"/*.txt "$logs_out"/ 2>/dev/null || true
    rm -f "$logs_out/approvers.yaml"   # holds a token hash; nothing secret, but nothing useful
  fi
  finish_run "$rc"
}
install_traps

# ---------------------------------------------------------------------------------------- tools
command -v curl >/dev/null || die "curl is needed"
command -v go >/dev/null || die "go is needed to build bench/approvals and bench/upstream"
command -v java >/dev/null || die "java is needed"
jcmd="$(dirname "$(readlink -f "$(command -v java)")")/jcmd"
[ -x "$jcmd" ] || die "jcmd not found next to java ($jcmd); a full JDK is needed"
opa="$root/.tools/bin/opa"
if [ ! -x "$opa" ]; then
  log "installing OPA (idempotent)"
  bash "$root/scripts/install-tools.sh" opa
fi
[ -x "$opa" ] || die "OPA missing at $opa"

# 10k held connections need 10k descriptors in the proxy (and in the client).
ulimit -n "$NOFILE" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
need=$((SYNC_HOLDS + ASYNC_CONNECTIONS + 1024))
[ "$nofile" = unlimited ] || [ "$nofile" -ge "$need" ] ||
  die "ulimit -n is $nofile (hard $(ulimit -Hn)); $need are needed for $SYNC_HOLDS held connections"
log "ulimit -n $nofile (asked for $NOFILE; hard limit $(ulimit -Hn))"

if [ ! -d "$root/proxy/target/lib" ] || [ ! -d "$root/proxy/target/classes" ]; then
  log "building the proxy (mvn package -DskipTests)"
  (cd "$root" && mvn -B -q -o package -DskipTests) || (cd "$root" && mvn -B -q package -DskipTests)
fi

# Run from a private copy of the built proxy (a concurrent `mvn package` rewrites proxy/target).
snapshot_proxy_at_head
# The policy too: the run judges with the rego/ of this moment, whatever is edited meanwhile.
cp -r "$root/rego" "$tmp/rego"
rego_rev=$( (cd "$tmp/rego" && find . -type f \( -name '*.rego' ! -name '*_test.rego' -o -name 'data.json' \) -print0 \
  | sort -z | xargs -0 cat) | sha256sum | cut -c1-12)

log "building the Go hold client and upstream (standard library only)"
gobuild() { (cd "$1" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=0 go build -o "$2" .); }
gobuild "$bench/approvals" "$tmp/holdclient"
gobuild "$bench/upstream" "$tmp/upstream"
hc="$tmp/holdclient"

require_free_ports UPSTREAM_PORT="$UPSTREAM_PORT" PROXY_PORT="$PROXY_PORT" ADMIN_PORT="$ADMIN_PORT"

# ---------------------------------------------------------------------------------------- config
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
token_sha="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
cat >"$tmp/approvers.yaml" <<EOF
approvers:
  - name: bench@example.com
    groups: [sales-managers]
    token_sha256: $token_sha
EOF
ledger_dir="$tmp/ledger"
cfg="$tmp/countersign.yaml"
cat >"$cfg" <<EOF
# written by bench/approvals-memory.sh
agent_id: sales-assistant
listen:
  agent: 127.0.0.1:$PROXY_PORT
  admin: 127.0.0.1:$ADMIN_PORT
limits:
  request_timeout: PT30S
  idle_timeout: PT10M
policy:
  engine: $ENGINE
  opa_binary: $opa
  rego_dir: $tmp/rego
ledger:
  dir: $ledger_dir
approvals:
  approvers_file: $tmp/approvers.yaml
  max_pending: 200000
  max_held_connections: 20000
routes:
  - name: crm
    prefix: /crm
    upstream: http://127.0.0.1:$UPSTREAM_PORT
    credential:
      header: Authorization
      value_prefix: "Bearer "
      from_env: BENCH_TOKEN
EOF

# ---------------------------------------------------------------------------------------- start
setsid "$tmp/upstream" -addr "127.0.0.1:$UPSTREAM_PORT" >"$tmp/upstream.log" 2>&1 &
upstream_pid=$!
wait_http "http://127.0.0.1:$UPSTREAM_PORT/" "$upstream_pid" 10 upstream "$tmp/upstream.log"

mkdir -p "$tmp/jtmp"
proxy_log="$tmp/countersign.log"
t0=$(date +%s%N)
BENCH_TOKEN="bench-token-not-a-secret" \
  COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp/jtmp $JAVA_OPTS" \
  setsid "$countersign" run --config "$cfg" >"$proxy_log" 2>&1 &
proxy_pid=$!
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" "$proxy_pid" "$READY_DEADLINE_S" countersign "$proxy_log" 200
wait_http "http://127.0.0.1:$PROXY_PORT/" "$proxy_pid" 10 countersign "$proxy_log"
log "countersign ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $proxy_pid, engine $ENGINE, JVM opts: $JAVA_OPTS)"
[ "$(readlink -f "/proc/$proxy_pid/exe")" = "$(readlink -f "$(command -v java)")" ] ||
  log "WARNING: pid $proxy_pid is $(readlink -f "/proc/$proxy_pid/exe"), not the java jcmd belongs to"
proxy_nofile=$(awk '/^Max open files/ {print $4}' "/proc/$proxy_pid/limits")
log "proxy's open-files limit: $proxy_nofile"
[ "$proxy_nofile" = unlimited ] || [ "$proxy_nofile" -ge "$need" ] || die "the proxy's open-files limit is $proxy_nofile"
gc_name=$("$jcmd" "$proxy_pid" VM.flags 2>/dev/null | tr ' ' '\n' | grep -oE '^-XX:\+Use[A-Za-z0-9]+GC' | head -1 | sed 's/-XX:+Use//' || true)
max_heap=$("$jcmd" "$proxy_pid" VM.flags 2>/dev/null | tr ' ' '\n' | grep -oE '^-XX:MaxHeapSize=[0-9]+' | cut -d= -f2 || true)

count_holds() { # GET /v1/approvals (every open hold, as JSON) -> "count=N status=S bytes=B ms=T"
  "$hc" count -admin "http://127.0.0.1:$ADMIN_PORT" -token "$token" || true
}
# Open holds by mode: "sync=N async=M source=metrics" from the admin port's Prometheus gauge
# countersign_approvals_pending when the build has it, else "count=N ..." from the list.
pending_holds() {
  "$hc" pending -admin "http://127.0.0.1:$ADMIN_PORT" -token "$token" || true
}
field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\\2/p" <<<"$2" | head -1; }
# sync_open: the sync holds the proxy has open now (from the gauge, or the list's total minus ASYNC).
sync_open() {
  local p
  p=$(pending_holds)
  if [ -n "$(field sync "$p")" ]; then field sync "$p"; else echo $(( $(field count "$p") - $1 )); fi
}
# Held sync requests must get no answer; any answer means the policy did not hold them.
check_unanswered() {
  local l a c
  l=$(cat "$sync_status" 2>/dev/null || true)
  a=$(field answered "$l"); c=$(field closed_by_peer "$l")
  if [ "${a:-0}" != 0 ] || [ "${c:-0}" != 0 ]; then
    die "held sync requests were answered or closed by the proxy, so they were not held: $l"
  fi
}

# ---------------------------------------------------------------------------------------- measuring
stats="$tmp/stats.tsv"   # label sync async rss anon file heap_used heap_total metaspace threads fds ledger_k ledger_app_k
: >"$stats"
probes="$tmp/probes.txt"
: >"$probes"

# measure LABEL SYNC ASYNC [histogram]: full GC, then heap, RSS, threads, fds, ledger size.
measure() {
  local label="$1" s="$2" a="$3" heap used total meta st rss anon file thr fds lk la
  "$jcmd" "$proxy_pid" GC.run >/dev/null || die "jcmd GC.run failed"
  sleep 1
  heap=$("$jcmd" "$proxy_pid" GC.heap_info) || die "jcmd GC.heap_info failed"
  printf '=== %s\n%s\n' "$label" "$heap" >>"$tmp/heap_info.txt"
  # G1: "garbage-first heap total NK, used NK"; Serial/Parallel: one line per generation.
  read -r used total < <(awk '
    /Metaspace/ { exit }
    /total [0-9]+K, used [0-9]+K/ {
      for (i = 1; i <= NF; i++) { if ($i == "total") t += $(i + 1) + 0; if ($i == "used") u += $(i + 1) + 0 } }
    END { print u + 0, t + 0 }' <<<"$heap")
  meta=$(awk '/Metaspace/ { for (i = 1; i <= NF; i++) if ($i == "used") { print $(i + 1) + 0; exit } }' <<<"$heap")
  st="/proc/$proxy_pid/status"
  rss=$(awk '/^VmRSS/ {print $2}' "$st"); anon=$(awk '/^RssAnon/ {print $2}' "$st")
  file=$(awk '/^RssFile/ {print $2}' "$st"); thr=$(awk '/^Threads/ {print $2}' "$st")
  fds=$(find "/proc/$proxy_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  lk=$(du -sk "$ledger_dir" | cut -f1); la=$(du -sk --apparent-size "$ledger_dir" | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$s" "$a" "$rss" "$anon" "$file" \
    "$used" "$total" "${meta:-0}" "$thr" "$fds" "$lk" "$la" >>"$stats"
  log "measured '$label': RSS $((rss / 1024)) MiB, heap used after full GC $((used / 1024)) MiB, ledger $((lk / 1024)) MiB"
  if [ -n "${4:-}" ]; then   # a class histogram, saved as class_histogram-TAG.txt
    "$jcmd" "$proxy_pid" GC.class_histogram >"$tmp/class_histogram-$4.txt" 2>&1 || true
  fi
}

# probe LABEL: a normal allowed GET must still answer 200, and quickly.
probe() {
  local label="$1" i out worst=0 codes=""
  for i in 1 2 3; do
    out=$(curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total}' "http://127.0.0.1:$PROXY_PORT/crm/v3/deals/1" || echo "000 10")
    codes+="${out%% *} "
    worst=$(awk -v a="$worst" -v b="${out##* }" 'BEGIN { print (b > a ? b : a) }')
  done
  printf '%-44s GET /crm/v3/deals/1 x3: statuses %s slowest %.1f ms\n' "$label" "$codes" \
    "$(awk -v w="$worst" 'BEGIN { print w * 1000 }')" >>"$probes"
  [[ "$codes" == "200 200 200 " ]] || log "WARNING: probe '$label' statuses: $codes"
}

# ---------------------------------------------------------------------------------------- baseline
# Allowed PATCHes are paid actions and the example policy caps sales-assistant's per day (spend
# budgets), so the warm-up is mostly reads.
log "warm-up: $WARMUP_REQUESTS allowed GETs and $WARMUP_PATCHES allowed PATCHes (discount 10)"
"$hc" requests -addr "127.0.0.1:$PROXY_PORT" -n "$WARMUP_REQUESTS" -c 4 -method GET -expect 200 -fail-after 10 \
  >"$tmp/warmup.txt" 2>>"$tmp/holdclient.log" || die "warm-up GETs failed: $(cat "$tmp/warmup.txt")"
if [ "$WARMUP_PATCHES" -gt 0 ]; then
  "$hc" requests -addr "127.0.0.1:$PROXY_PORT" -n "$WARMUP_PATCHES" -c 4 -method PATCH -fail-after 10 \
    -body '{"discount_pct": 10}' -expect 200 \
    >>"$tmp/warmup.txt" 2>>"$tmp/holdclient.log" || die "warm-up PATCHes failed: $(cat "$tmp/warmup.txt")"
fi
c0=$(count_holds)
[ "$(field count "$c0")" = 0 ] || die "expected no pending approvals after the warm-up: $c0"
sleep 2
measure "baseline (after warm-up)" 0 0
probe "baseline"

# ---------------------------------------------------------------------------------------- sync holds
log "opening $SYNC_HOLDS sync holds ($DIALERS connections being opened at once)"
sync_status="$tmp/sync-status.txt"
t_sync0=$(date +%s%N)
"$hc" sync -addr "127.0.0.1:$PROXY_PORT" -n "$SYNC_HOLDS" -dialers "$DIALERS" -status "$sync_status" \
  -max "$((PHASE_DEADLINE_S * 3))s" >"$tmp/sync-final.txt" 2>>"$tmp/holdclient.log" &
sync_pid=$!
end=$(($(date +%s) + PHASE_DEADLINE_S))
sline=""
while :; do
  kill -0 "$sync_pid" 2>/dev/null || die "the sync hold client exited early: $(cat "$tmp/sync-final.txt")"
  check_unanswered
  sline=$(cat "$sync_status" 2>/dev/null || true)
  w=$(field written "$sline"); de=$(field dial_errors "$sline"); we=$(field write_errors "$sline")
  (( ${w:-0} + ${de:-0} + ${we:-0} >= SYNC_HOLDS )) && break
  (($(date +%s) < end)) || die "sync holds: not all written within ${PHASE_DEADLINE_S}s: $sline"
  sleep 0.2
done
t_sync_written=$(date +%s%N)
# The proxy opens a hold after judging and journaling the request; wait until it counts them all.
sync_count=""
while :; do
  check_unanswered
  sync_count=$(sync_open 0)
  [ "${sync_count:--1}" -ge "$((SYNC_HOLDS - ${de:-0} - ${we:-0}))" ] && break
  (($(date +%s) < end)) || die "only ${sync_count:-?} of $SYNC_HOLDS sync holds open after ${PHASE_DEADLINE_S}s ($(pending_holds))"
  sleep 0.5
done
t_sync_listed=$(date +%s%N)
sleep 2
check_unanswered
sline=$(cat "$sync_status")
c=$(count_holds)
sync_list="$c"
log "sync holds: $sline; the proxy counts $sync_count; GET /v1/approvals: $c"
sync_open_s=$(awk -v a="$t_sync0" -v b="$t_sync_listed" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
sync_written_s=$(awk -v a="$t_sync0" -v b="$t_sync_written" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
measure "+$SYNC_HOLDS sync held" "$sync_count" 0
probe "with $SYNC_HOLDS sync holds"
sync_line_after_phase2="$sline"

# ---------------------------------------------------------------------------------------- async holds
log "sending $ASYNC_HOLDS async holds (Prefer: respond-async) over $ASYNC_CONNECTIONS keep-alive connections"
t_async0=$(date +%s%N)
async_rc=0
"$hc" requests -addr "127.0.0.1:$PROXY_PORT" -n "$ASYNC_HOLDS" -c "$ASYNC_CONNECTIONS" -method PATCH \
  -body '{"discount_pct": 30}' -header 'Prefer: respond-async' -expect 202 -fail-after 100 \
  -max "${PHASE_DEADLINE_S}s" >"$tmp/async.txt" 2>>"$tmp/holdclient.log" || async_rc=$?
t_async_done=$(date +%s%N)
aline=$(cat "$tmp/async.txt")
log "async holds: $aline"
async_202=$(field ok "$aline")
[ "$async_rc" = 0 ] || die "async holds: not every request got its 202: $aline"
async_open_s=$(awk -v a="$t_async0" -v b="$t_async_done" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
# Counted by their 202s (and the gauge) here; the admin API's list of 100k holds is a ~60 MB JSON
# body, so it is asked only after the last measurement (it would dirty heap and RSS).
sleep 2
check_unanswered
p3=$(pending_holds)
measure "+$ASYNC_HOLDS async pending" "$sync_count" "$async_202" all-holds
probe "with $SYNC_HOLDS sync + $ASYNC_HOLDS async holds"
check_unanswered
sync_line_after_phase3=$(cat "$sync_status")

# ---------------------------------------------------------------------------------------- release sync
log "closing the $SYNC_HOLDS held connections (the proxy journals them as abandoned)"
t_close0=$(date +%s%N)
stop_pid "$sync_pid" "sync hold client"
sync_pid=""
end=$(($(date +%s) + 120))
while :; do
  left=$(sync_open "$async_202")
  [ "${left:-1}" = 0 ] && break
  (($(date +%s) < end)) || { log "WARNING: $left sync holds still open 120 s after closing their connections"; break; }
  sleep 0.5
done
close_s=$(awk -v a="$t_close0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
sleep 2
measure "sync conns closed" 0 "$async_202" sync-closed
probe "after closing the sync connections"

# Now the admin API's view (the list holds every open hold, as JSON).
p4=$(pending_holds)
c=$(count_holds)
async_count=$(field count "$c")
async_list="$c"

# ---------------------------------------------------------------------------------------- report
notable="$tmp/notable.txt"
grep -hE 'WARN|ERROR|LEAK:|Exception|OutOfMemory' "$proxy_log" 2>/dev/null \
  | sed -E 's/^[0-9T:.+-]+Z? //; s/"(fields\.)?time":"[^"]*",?//g; s/@[0-9a-f]{6,}/@…/g; s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g' \
  | sort | uniq -c | sort -rn >"$notable" || true

{
  echo "Countersign approvals memory bench ($stamp): HEAD ${commit:0:12} (uncommitted changes: $dirty)"
  echo "policy: rego/ as copied at start (content sha256 ${rego_rev}…, last commit touching it $(git -C "$root" log -1 --format=%h -- rego 2>/dev/null), uncommitted changes in rego/: $([ -n "$(git -C "$root" status --porcelain -- rego 2>/dev/null)" ] && echo yes || echo no))"
  echo "engine $ENGINE, $(java -version 2>&1 | head -1), GC ${gc_name:-?}, max heap $(( ${max_heap:-0} / 1048576 )) MiB, JVM opts: $JAVA_OPTS"
  echo "$(nproc) CPUs; loadavg at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Memory (heap = Java heap used after a full GC: jcmd GC.run, GC.heap_info; RSS = /proc/PID/status)"
  awk -F'\t' '
    { printf "%-38s %7s %7s %9.1f %9.1f %9.1f %9.1f %9.1f %7s %6s %9.1f %9.1f\n", $1, $2, $3, $4/1024, $5/1024, $6/1024, $7/1024, $8/1024, $10, $11, $12/1024, $13/1024 }
    BEGIN { printf "%-38s %7s %7s %9s %9s %9s %9s %9s %7s %6s %9s %9s\n", "state", "sync", "async", "RSS MiB", "anon MiB", "file MiB", "heap MiB", "heap cmt", "threads", "fds", "ledger", "ledg.app"
            printf "%-38s %7s %7s %9s %9s %9s %9s %9s %7s %6s %9s %9s\n", "-----", "----", "-----", "-------", "--------", "--------", "--------", "--------", "-------", "---", "(du MiB)", "(MiB)" }' "$stats"
  echo
  echo "Per hold (delta between consecutive states / holds added or released; bytes)"
  awk -F'\t' '
    { l[NR]=$1; s[NR]=$2; a[NR]=$3; rss[NR]=$4; an[NR]=$5; h[NR]=$7; lk[NR]=$12; la[NR]=$13 }
    END {
      printf "%-50s %8s %10s %10s %10s %12s %12s\n", "step", "holds", "RSS B", "anon B", "heap B", "ledger du B", "ledger app B"
      printf "%-50s %8s %10s %10s %10s %12s %12s\n", "----", "-----", "-----", "------", "------", "-----------", "------------"
      for (i = 2; i <= NR; i++) {
        n = (s[i] + a[i]) - (s[i-1] + a[i-1]); if (n < 0) n = -n; if (n == 0) continue
        printf "%-50s %8d %10.0f %10.0f %10.0f %12.0f %12.0f\n", l[i-1] " -> " l[i], n, (rss[i]-rss[i-1])*1024/n, (an[i]-an[i-1])*1024/n, (h[i]-h[i-1])*1024/n, (lk[i]-lk[i-1])*1024/n, (la[i]-la[i-1])*1024/n }
      n = s[3] + a[3]
      if (NR >= 3 && n > 0)
        printf "%-50s %8d %10.0f %10.0f %10.0f %12.0f %12.0f\n", "baseline (after warm-up) -> all holds (both kinds)", n, (rss[3]-rss[1])*1024/n, (an[3]-an[1])*1024/n, (h[3]-h[1])*1024/n, (lk[3]-lk[1])*1024/n, (la[3]-la[1])*1024/n
    }' "$stats"
  echo "(a negative value on the last step is memory given back per closed connection; ~0 means it stays."
  echo " RSS counts heap pages the JVM has touched, live or not, so its deltas swing with G1's sizing;"
  echo " the heap column, after a full GC, is what the holds retain.)"
  echo
  echo "Opening the holds"
  printf '  sync:  %s connections; all requests written after %s s, all %s open in the proxy after %s s\n' \
    "$SYNC_HOLDS" "$sync_written_s" "$sync_count" "$sync_open_s"
  printf '         client after the sync step:  %s\n' "$sync_line_after_phase2"
  printf '         client after the async step: %s\n' "$sync_line_after_phase3"
  printf '  async: %s requests in %s s over %s connections: %s\n' "$ASYNC_HOLDS" "$async_open_s" "$ASYNC_CONNECTIONS" "$aline"
  printf '  proxy counts with all holds open: %s\n' "$p3"
  printf '  GET /v1/approvals with the sync holds open:  %s\n' "$sync_list"
  printf '  GET /v1/approvals at the end (sync closed):  %s\n' "$async_list"
  printf '  proxy counts at the end:                     %s\n' "$p4"
  printf '  closing the %s sync connections: no sync hold open after %s s\n' "$SYNC_HOLDS" "$close_s"
  echo
  echo "Responsiveness (a normal allowed GET through the proxy)"
  sed 's/^/  /' "$probes"
  echo
  echo "Largest heap classes with all holds open (jcmd GC.class_histogram, top 15)"
  sed -n '2,18p' "$tmp/class_histogram-all-holds.txt" 2>/dev/null | sed 's/^/  /'
  echo
  echo "Hold objects still in the heap (instances, from the class histograms)"
  for tag in all-holds sync-closed; do
    printf '  %-12s' "$tag:"
    for cls in io.countersign.proxy.approval.PendingApproval io.countersign.proxy.canonical.CanonicalRequest \
      'java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask' io.countersign.proxy.http.AgentExchangeHandler; do
      printf ' %s %s' "${cls##*[.$]}" "$(awk -v c="$cls" '$4 == c {print $2; f=1} END {if (!f) print 0}' "$tmp/class_histogram-$tag.txt" 2>/dev/null)"
    done
    echo
  done
  echo
  if [ -s "$notable" ]; then
    echo "Proxy log warnings/errors (count, deduplicated, first 20):"
    head -n 20 "$notable" | cut -c1-300 | sed 's/^/  /'
  else
    echo "Proxy log warnings/errors: none"
  fi
} | tee "$tmp/report.txt"

mkdir -p "$results"
cp "$tmp/report.txt" "$report_out"
echo "report: $report_out (logs: $logs_out/)"
problems=()
[ "$async_rc" = 0 ] || problems+=("async holds: not every request got a 202 ($aline)")
[ "${sync_count:-0}" = "$SYNC_HOLDS" ] || problems+=("sync holds: the admin API listed ${sync_count:-?}, not $SYNC_HOLDS")
[ "${async_count:-0}" = "$ASYNC_HOLDS" ] || problems+=("async holds: the admin API listed ${async_count:-?}, not $ASYNC_HOLDS")
[ "$(field answered "$sync_line_after_phase3")" = 0 ] && [ "$(field closed_by_peer "$sync_line_after_phase3")" = 0 ] ||
  problems+=("some held sync connections were answered or closed by the proxy: $sync_line_after_phase3")
if ((${#problems[@]} > 0)); then
  for p in "${problems[@]}"; do log "FAIL: $p"; done
  exit 1
fi
log "ok"
