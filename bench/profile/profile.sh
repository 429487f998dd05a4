#!/usr/bin/env bash
# Profiles Countersign's allow path (GET /crm/v3/deals/42) with JFR, one proxy at a time, in one run.
# Owned by bench/profile/. Loopback only; every wait is bounded; cleans up what it starts.
#
#   bench/profile/profile.sh                 # VARIANTS="wasm wasm-noaccess opa wasm-noaccess wasm"
#
# Knobs: VARIANTS, WARMUP=10s DURATION=20s THREADS=1 CONNECTIONS=32, UPSTREAM_PORT=19377
#   PROXY_PORT=18377 ADMIN_PORT=18378, IDLE_WAIT_S=900 (wait for other CPU load to drop below IDLE_PCT=25 % busy),
#   JFR=1 (record one JFR per variant, started with jcmd at the start of the measured run),
#   MAX_ATTEMPTS=4 NOISE_S=3 (a measured run during which other processes used > NOISE_S CPU-seconds
#   is repeated, up to MAX_ATTEMPTS times), SAMPLE_MS=10 (jdk.ExecutionSample period), LOCK_MS=1 (monitor-enter / park thresholds).
# Output: bench/profile/out/<stamp>/ (summary.tsv, <variant>-<n>.jfr, logs, per-thread CPU).
set -Eeuo pipefail

VARIANTS="${VARIANTS:-wasm wasm-noaccess opa wasm-noaccess wasm}"
WARMUP="${WARMUP:-10s}"; DURATION="${DURATION:-20s}"
THREADS="${THREADS:-1}"; CONNECTIONS="${CONNECTIONS:-32}"
UPSTREAM_PORT="${UPSTREAM_PORT:-19377}"; PROXY_PORT="${PROXY_PORT:-18377}"; ADMIN_PORT="${ADMIN_PORT:-18378}"
IDLE_WAIT_S="${IDLE_WAIT_S:-900}"; IDLE_PCT="${IDLE_PCT:-25}"
JFR="${JFR:-1}"; MAX_ATTEMPTS="${MAX_ATTEMPTS:-4}"; NOISE_S="${NOISE_S:-3}"; SAMPLE_MS="${SAMPLE_MS:-10}"; LOCK_MS="${LOCK_MS:-1}"
READY_DEADLINE_S=90; STOP_DEADLINE_S=15

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$here/out/$stamp"; mkdir -p "$out"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-profile.XXXXXX")"
jdk_bin="$(dirname "$(readlink -f "$(command -v java)")")"
upstream_pid=""; proxy_pid=""
log() { printf '[profile %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$out/run.log" >&2; }
die() { log "FAIL: $*"; exit 1; }

stop_pid() {
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_DEADLINE_S * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true   # its group (managed OPA)
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?; trap - EXIT INT TERM
  stop_pid "$proxy_pid"; stop_pid "$upstream_pid"
  cp "$tmp"/*.log "$tmp"/*.yaml "$out"/ 2>/dev/null || true
  rm -rf "$tmp"
  log "done (exit $rc), output in $out"; exit "$rc"
}
trap cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM

# ------------------------------------------------------------------ machine load (bounded wait)
cpu_busy_pct() {  # busy % of all CPUs over 2 s, from /proc/stat
  local a b
  a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN { n = split(a, x, " "); split(b, y, " ");
    for (i = 2; i <= n; i++) { t += y[i] - x[i]; if (i == 5 || i == 6) idle += y[i] - x[i] }
    printf "%.0f", (t > 0 ? 100 * (t - idle) / t : 0) }'
}
wait_idle() {  # waits until the machine (without our processes, which are idle now) is calm
  local end=$(($(date +%s) + IDLE_WAIT_S)) busy
  while :; do
    busy=$(cpu_busy_pct)
    if ((busy < IDLE_PCT)); then log "machine busy ${busy}% (< ${IDLE_PCT}%): go"; echo "$busy"; return 0; fi
    if (($(date +%s) >= end)); then log "WARNING: machine still ${busy}% busy after ${IDLE_WAIT_S}s; measuring anyway"; echo "$busy"; return 0; fi
    log "machine busy ${busy}%: waiting ($(top -b -n1 -w 200 | awk 'NR > 7 && $9 + 0 >= 20 {printf "%s(%s%%) ", $12, $9}'))"
    sleep 8
  done
}

# ------------------------------------------------------------------ build snapshot, upstream
fingerprint() { (cd "$root/proxy/target" && find classes lib -type f -printf '%P %s %T@\n' 2>/dev/null | sort | md5sum); }
snap="$tmp/proxy-snapshot"
for ((i = 0; i < 90; i++)); do
  rm -rf "$snap"; mkdir -p "$snap/bin" "$snap/proxy/target"
  before=$(fingerprint); sleep 1
  if [ "$before" = "$(fingerprint)" ] && cp "$root/bin/countersign" "$snap/bin/" &&
     cp -r "$root/proxy/target/classes" "$root/proxy/target/lib" "$snap/proxy/target/" 2>/dev/null &&
     [ "$before" = "$(fingerprint)" ] && [ -f "$snap/proxy/target/classes/io/countersign/proxy/Main.class" ]; then
    break
  fi
  log "proxy/target is changing; retrying the snapshot"; sleep 2
done
[ -f "$snap/proxy/target/classes/io/countersign/proxy/Main.class" ] || die "no stable build in proxy/target"
countersign="$snap/bin/countersign"
log "proxy snapshot taken (HEAD $(git -C "$root" rev-parse --short HEAD), dirty files: $(git -C "$root" status --porcelain | wc -l), newest class $(find "$root/proxy/target/classes" -name '*.class' -printf '%TT\n' | sort | tail -1))"

mkdir -p "$here/.build"
(cd "$root/bench/upstream" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=0 go build -o "$here/.build/upstream" .)
opa="$root/.tools/bin/opa"; [ -x "$opa" ] || die "no $opa (scripts/install-tools.sh opa)"

wait_http() {
  local url="$1" pid="$2" deadline=$(($(date +%s) + $3)) code
  while (($(date +%s) < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "process $pid exited before $url answered"
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" || true)
    [ -n "$code" ] && [ "$code" != 000 ] && return 0
    sleep 0.2
  done
  die "$url not ready in $3 s"
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$UPSTREAM_PORT" && die "port $UPSTREAM_PORT is in use (set UPSTREAM_PORT)"
port_busy "$PROXY_PORT" && die "port $PROXY_PORT is in use (set PROXY_PORT)"
port_busy "$ADMIN_PORT" && die "port $ADMIN_PORT is in use (set ADMIN_PORT)"
setsid "$here/.build/upstream" -addr "127.0.0.1:$UPSTREAM_PORT" >"$tmp/upstream.log" 2>&1 &
upstream_pid=$!
wait_http "http://127.0.0.1:$UPSTREAM_PORT/" "$upstream_pid" 10

# JFR settings: the JDK's "profile" settings, with a tunable sampling period and lock thresholds.
jfc="$out/profile-tuned.jfc"
python3 - "$jdk_bin/../lib/jfr/profile.jfc" "$jfc" "$SAMPLE_MS" "$LOCK_MS" <<'PY'
import re, sys
src, dst, sample, lock = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
t = open(src).read()
def setting(event, name, value):
    global t
    pat = re.compile(r'(<event name="%s">.*?<setting name="%s"[^>]*>)([^<]*)(</setting>)' % (re.escape(event), name), re.S)
    t, n = pat.subn(lambda m: m.group(1) + value + m.group(3), t, count=1)
    assert n == 1, (event, name)
setting("jdk.ExecutionSample", "period", sample + " ms")
for e in ("jdk.JavaMonitorEnter", "jdk.JavaMonitorWait", "jdk.ThreadPark"):
    setting(e, "threshold", lock + " ms")
open(dst, "w").write(t)
PY

# ------------------------------------------------------------------ per-variant
summary="$out/summary.tsv"
printf 'variant\trun\tattempt\treq_s\tp50_ms\tp99_ms\terrors\tbusy_before_pct\tproxy_cpu_s\topa_cpu_s\tupstream_cpu_s\twrk_cpu_s\tmachine_cpu_s\tother_cpu_s\tygc\tfgc\tgc_s\n' >"$summary"

proc_cpu_s() {  # utime+stime of pid (and its children's live pids), seconds
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
thread_cpu() {  # per-thread name -> cpu ticks
  local pid="$1" t
  for t in /proc/"$pid"/task/*; do
    printf '%s\t%s\n' "$(tr ' ' '_' <"$t/comm")" "$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "$t/stat" 2>/dev/null || echo 0)"
  done | awk -F'\t' '{s[$1] += $2} END {for (k in s) print k "\t" s[k]}' | sort
}

run=0
for variant in $VARIANTS; do
  run=$((run + 1))
  for ((attempt = 1; attempt <= MAX_ATTEMPTS; attempt++)); do
  name="$variant-$run"; ((attempt == 1)) || name="$variant-$run-try$attempt"
  case "$variant" in
    wasm) engine=wasm; extra="" ;;
    wasm-noaccess) engine=wasm; extra="-Dlogback.configurationFile=$here/logback-noaccess.xml" ;;
    opa) engine=opa; extra="" ;;
    opa-noaccess) engine=opa; extra="-Dlogback.configurationFile=$here/logback-noaccess.xml" ;;
    *) die "unknown variant $variant" ;;
  esac
  ldir="$tmp/ledger-$name"; mkdir -p "$tmp/jtmp-$name"
  # JFR from JVM start (a late JFR.start re-instruments JDK classes and deoptimizes everything,
  # which showed up as seconds of C2 recompilation inside the measured window); the analysis
  # keeps only the measured window (see $name.window).
  jfr_opts=""
  [ "$JFR" = 1 ] && jfr_opts="-XX:StartFlightRecording=name=prof,settings=$jfc,filename=$out/$name.jfr,dumponexit=true"
  cfg="$tmp/countersign-$name.yaml"
  cat >"$cfg" <<YAML
# written by bench/profile/profile.sh
agent_id: sales-assistant
listen:
  agent: 127.0.0.1:$PROXY_PORT
  admin: 127.0.0.1:$ADMIN_PORT
policy:
  engine: $engine
  opa_binary: $opa
  rego_dir: $root/rego
ledger:
  dir: $ldir
routes:
  - name: crm
    prefix: /crm
    upstream: http://127.0.0.1:$UPSTREAM_PORT
    credential:
      header: Authorization
      value_prefix: "Bearer "
      from_env: BENCH_TOKEN
YAML
  busy=$(wait_idle)
  BENCH_TOKEN=bench-token-not-a-secret \
    COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp/jtmp-$name -XX:FlightRecorderOptions=stackdepth=256 $jfr_opts $extra" \
    setsid "$countersign" run --config "$cfg" >"$tmp/countersign-$name.log" 2>&1 &
  proxy_pid=$!
  wait_http "http://127.0.0.1:$PROXY_PORT/" "$proxy_pid" "$READY_DEADLINE_S"
  url="http://127.0.0.1:$PROXY_PORT/crm/v3/deals/42"
  code=$(curl -s -o "$tmp/check.body" -m 5 -w '%{http_code}' "$url" || true)
  [[ "$code" == 2* ]] || die "$name: GET answered $code: $(head -c 300 "$tmp/check.body")"
  log "$name: warm-up $WARMUP"
  : >"$tmp/w.tsv"
  BENCH_STATUS=1 BENCH_OUT="$tmp/w.tsv" timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" \
    -s "$root/bench/wrk/bench.lua" "$url" >>"$tmp/wrk.log" 2>&1 || die "$name: warm-up failed"
  kids=$(pgrep -P "$proxy_pid" | tr '\n' ' ' || true)
  gc0=$(jstat -gc "$proxy_pid" | awk 'NR == 2')
  cpu0=$(proc_cpu_s "$proxy_pid"); ocpu0=$(proc_cpu_s $kids); ucpu0=$(proc_cpu_s "$upstream_pid")
  thread_cpu "$proxy_pid" >"$tmp/t0.tsv"
  log "$name: measuring $DURATION"
  : >"$tmp/m.tsv"
  ( sleep $(( ${DURATION%s} / 2 )); timeout 10 top -b -n2 -d1 -w 200 >"$out/$name.top.txt" 2>/dev/null ) &
  top_pid=$!
  t0=$(date +%s%N); st0=$(head -1 /proc/stat); w0=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  BENCH_STATUS=1 BENCH_OUT="$tmp/m.tsv" timeout 120 bash -c 'wrk "$@"; times' _ \
    -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/bench/wrk/bench.lua" "$url" \
    >"$out/$name.wrk.txt" 2>&1 || die "$name: wrk failed"
  wrk_cpu=$(awk 'END {u = $1; s = $2; gsub(/s/, "", u); gsub(/s/, "", s); split(u, a, "m"); split(s, b, "m");
    printf "%.2f", a[1] * 60 + a[2] + b[1] * 60 + b[2]}' "$out/$name.wrk.txt")
  st1=$(head -1 /proc/stat); printf '%s %s\n' "$w0" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >"$out/$name.window"
  machine_cpu=$(awk -v a="$st0" -v b="$st1" -v hz="$(getconf CLK_TCK)" 'BEGIN { n = split(a, x, " "); split(b, y, " ");
    for (i = 2; i <= n; i++) if (i != 5 && i != 6 && i < 10) s += y[i] - x[i]; printf "%.2f", s / hz }')
  cpu1=$(proc_cpu_s "$proxy_pid"); ocpu1=$(proc_cpu_s $kids); ucpu1=$(proc_cpu_s "$upstream_pid")
  thread_cpu "$proxy_pid" >"$tmp/t1.tsv"
  gc1=$(jstat -gc "$proxy_pid" | awk 'NR == 2')
  wait "$top_pid" 2>/dev/null || true
  join -t$'\t' "$tmp/t0.tsv" "$tmp/t1.tsv" | awk -F'\t' -v hz="$(getconf CLK_TCK)" \
    '{d = ($3 - $2) / hz; if (d > 0.05) printf "%-40s %7.2f s\n", $1, d}' | sort -k2 -rn >"$out/$name.threads.txt"
  read -r req dur rps p50 p90 p99 max mean e1 e2 e3 e4 e5 rest <"$tmp/m.tsv"
  set -- $gc0; ygc0=${13}; fgc0=${15}; gct0=${19}
  set -- $gc1; ygc1=${13}; fgc1=${15}; gct1=${19}
  printf '%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%.2f\t%d\t%d\t%.3f\n' "$variant" "$run" "$attempt" "$rps" \
    "$(echo "$p50 / 1000" | bc -l)" "$(echo "$p99 / 1000" | bc -l)" $((e1 + e2 + e3 + e4 + e5)) "$busy" \
    "$(echo "$cpu1 - $cpu0" | bc)" "$(echo "$ocpu1 - $ocpu0" | bc)" "$(echo "$ucpu1 - $ucpu0" | bc)" "$wrk_cpu" "$machine_cpu" \
    "$(echo "$machine_cpu - ($cpu1 - $cpu0) - ($ocpu1 - $ocpu0) - ($ucpu1 - $ucpu0) - ${wrk_cpu:-0}" | bc)" $((ygc1 - ygc0)) $((fgc1 - fgc0)) "$(echo "$gct1 - $gct0" | bc)" >>"$summary"
  log "$name: $(tail -1 "$summary")"
  stop_pid "$proxy_pid"; proxy_pid=""   # SIGTERM: dumponexit writes the recording
  rm -rf "$ldir"
  other=$(tail -1 "$summary" | cut -f14)
  if [ "$(echo "$other <= $NOISE_S" | bc)" = 1 ]; then break; fi
  log "$name: other processes used ${other} CPU-s during the measured run (> $NOISE_S): noisy, retrying"
  done
done
column -t -s$'\t' "$summary" | tee -a "$out/run.log"
