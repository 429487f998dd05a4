#!/usr/bin/env bash
# Countersign against its peers, in one run: direct, nginx, nginx+opa (nginx asks an OPA server on
# every request), Countersign with the OPA-server engine and with the wasm engine. Max throughput
# with wrk over interleaved rounds, then latency at fixed rates with bench/loadgen (open loop,
# corrected for coordinated omission). Loopback only. See bench/README.md.
#
#   bench/run.sh
#
# Knobs (environment):
#   ROUNDS=3 DURATION=8s WARMUP=8s JVM_WARMUP=20s PATCH_WARMUP=3s THREADS=1 CONNECTIONS=32  (wrk, max
#   throughput; JVM_WARMUP is the GET warm-up of the countersign-* scenarios)
#   JMH=1   then run bench/jmh.sh (the microbenchmarks, ~3 min); JMH=0 skips it
#   RATES="1000 2000 80%" LATENCY_DURATION=$DURATION LATENCY_WARMUP=2s        (loadgen; N% = of the
#                                                                              scenario's median max; "" = none)
#   SCENARIOS="direct nginx nginx+opa countersign-opa countersign-wasm"      (a subset, any order)
#   UPSTREAM_PORT=19201 PROXY_PORT=19210 ADMIN_PORT=19211 NGINX_PORT=19212 OPA_PORT=19213
#   DECISION_CACHE=on|off   Countersign's decision cache: on = as shipped (10,000 entries), off = every
#                           request is evaluated by the policy, as nginx+opa does
#   KEEP_TMP=1 keeps the temp dir; COUNTERSIGN_JAVA_OPTS is passed to the JVM.
set -Eeuo pipefail

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-8s}"             # after each start: pools, page cache
JVM_WARMUP="${JVM_WARMUP:-20s}"    # the same for Countersign: the JIT is still compiling after 8-10 s
JMH="${JMH:-1}"                    # 1: then the JMH microbenchmarks (bench/jmh.sh, ~3 min)
PATCH_WARMUP="${PATCH_WARMUP:-3s}" # the PATCH path on an already warm process
THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-32}"
RATES="${RATES-1000 2000 80%}" # empty: no fixed-rate runs
LATENCY_DURATION="${LATENCY_DURATION:-$DURATION}"
LATENCY_WARMUP="${LATENCY_WARMUP:-2s}"
SCENARIOS="${SCENARIOS:-direct nginx nginx+opa countersign-opa countersign-wasm}"
UPSTREAM_PORT="${UPSTREAM_PORT:-19201}"
PROXY_PORT="${PROXY_PORT:-19210}"
ADMIN_PORT="${ADMIN_PORT:-19211}"
NGINX_PORT="${NGINX_PORT:-19212}"
OPA_PORT="${OPA_PORT:-19213}"
DECISION_CACHE="${DECISION_CACHE:-on}"
READY_DEADLINE_S=90 # a start: JVM + managed OPA or wasm compile
STOP_DEADLINE_S=15  # graceful stop before SIGKILL
NJS_MODULE=/usr/lib/nginx/modules/ngx_http_js_module.so
BENCH_TOKEN="bench-token-not-a-secret"
export BENCH_TOKEN

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/.." && pwd)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$bench/results"
json_out="$results/run-$stamp.json"
logs_out="$results/run-$stamp.logs"
t_start=$(date +%s)

log() {
  printf '[run %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
  [ ! -d "${tmp:-}/logs" ] || printf '[run %s] %s\n' "$(date +%H:%M:%S)" "$*" >>"$tmp/logs/run.log"
}
die() { log "FAIL: $*"; exit 1; }

# The footprint scenario (issue 21) is its own script: one proxy at a time, memory and start time.
if [ "$SCENARIOS" = footprint ]; then
  exec bash "$(dirname "$0")/footprint.sh"
fi
for s in $SCENARIOS; do
  case "$s" in
    direct | nginx | nginx+opa | countersign-opa | countersign-wasm) ;;
    *) die "unknown scenario '$s' in SCENARIOS (known: direct nginx nginx+opa countersign-opa countersign-wasm)" ;;
  esac
done
case "$DECISION_CACHE" in on) cache_entries="" ;; off) cache_entries=0 ;; *) die "DECISION_CACHE is on or off" ;; esac
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
for r in $RATES; do
  [[ "$r" =~ ^[1-9][0-9]*%?$ ]] || die "RATES entries are req/s or N% of the median max, got '$r'"
done

# ---------------------------------------------------------------------------------------- cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-run.XXXXXX")"
mkdir -p "$tmp/latency" "$tmp/logs"
source "$bench/lib/common.sh"
source "$bench/lib/snapshot.sh"
upstream_pid=""
proxy_pid="" # the process under test: nginx's master, or Countersign's JVM
opa_pid=""   # nginx+opa's OPA server

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  stop_pid "$proxy_pid" proxy
  stop_pid "$opa_pid" opa
  stop_pid "$upstream_pid" upstream
  if [ -d "$tmp" ]; then
    # The logs, and the report's input (python3 bench/lib/run_report.py DIR/report-input OUT.json).
    mkdir -p "$logs_out/report-input"
    cp -r "$tmp"/logs/. "$logs_out"/ 2>/dev/null || true
    cp -r "$tmp"/latency "$tmp"/*.tsv "$tmp"/*.txt "$logs_out/report-input/" 2>/dev/null || true
    rm -f "$logs_out/report-input/top.txt" "$logs_out/report-input/one.tsv"
  fi
  finish_run "$rc"
}
install_traps

# ---------------------------------------------------------------------------------------- tools
wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }
wants_nginx() { wants nginx || wants nginx+opa; }

log "installing tools (idempotent): opa, wrk"
bash "$root/scripts/install-tools.sh" opa wrk
opa="$root/.tools/bin/opa"
[ -x "$opa" ] || die "OPA missing at $opa"
for tool in wrk curl go python3; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done
if wants_nginx && { ! command -v nginx >/dev/null || [ ! -f "$NJS_MODULE" ]; }; then
  log "installing nginx and its njs module (Debian packages)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    nginx-light libnginx-mod-http-js >/dev/null
fi
if wants_nginx; then
  command -v nginx >/dev/null || die "nginx is not installed"
  [ -f "$NJS_MODULE" ] || die "the njs module is missing at $NJS_MODULE (libnginx-mod-http-js)"
fi

build_proxy_if_missing
snapshot_proxy_at_head

log "building the Go upstream and the load generator"
mkdir -p "$results"
build_upstream
# The generator's one dependency (HdrHistogram) comes from the Go module cache or the module proxy.
(cd "$bench/loadgen" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -o "$bench/.build/loadgen" .)
loadgen="$bench/.build/loadgen"
copy_rego_without_spend_limits

require_free_ports UPSTREAM_PORT="$UPSTREAM_PORT" PROXY_PORT="$PROXY_PORT" ADMIN_PORT="$ADMIN_PORT" \
  NGINX_PORT="$NGINX_PORT" OPA_PORT="$OPA_PORT"

upstream_url="http://127.0.0.1:$UPSTREAM_PORT"
setsid "$bench/.build/upstream" -addr "127.0.0.1:$UPSTREAM_PORT" >"$tmp/logs/upstream.log" 2>&1 &
upstream_pid=$!
wait_http "$upstream_url/" "$upstream_pid" 10 upstream "$tmp/logs/upstream.log"
log "upstream ready at $upstream_url (pid $upstream_pid)"

# ---------------------------------------------------------------------------------------- peers
# write_nginx_conf DIR WITH_OPA: nginx as a sidecar would be set up: all cores, keep-alive pools to
# the upstream (and OPA), no access log, HTTP/1.1 upstream, the same credential Countersign injects.
write_nginx_conf() {
  local dir="$1" with_opa="$2" user=""
  mkdir -p "$dir/tmp"
  # Workers as the invoking user, so they can use the private temp dirs.
  [ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
  {
    cat <<EOF
# written by bench/run.sh
$user
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
$([ "$with_opa" = 1 ] && echo "load_module $NJS_MODULE;")
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # Countersign does not cap requests per connection; nginx's default (1000) would make wrk reconnect.
  keepalive_requests 1000000;
  upstream crm { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; keepalive_requests 1000000; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host 127.0.0.1:$UPSTREAM_PORT;
  proxy_set_header Authorization "Bearer $BENCH_TOKEN";
EOF
    if [ "$with_opa" = 1 ]; then
      cat <<EOF
  upstream opa { server 127.0.0.1:$OPA_PORT; keepalive 64; keepalive_requests 1000000; }
  js_path $bench/nginx;
  js_import authz from opa_authz.js;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    set \$authz_route crm;
    set \$authz_prefix /crm;
    set \$authz_agent sales-assistant;
    # The handler reads the whole body (for the policy), then hands the request to @upstream.
    location /crm/ {
      client_body_buffer_size 64k;
      client_body_in_single_buffer on;
      js_content authz.check;
    }
    location @upstream {
      rewrite ^/crm(/.*)\$ \$1 break;
      proxy_pass http://crm;
    }
    location = /_opa_decision {
      internal;
      proxy_pass http://opa/v1/data/countersign/decision;
      proxy_pass_request_headers off;
      proxy_set_header Content-Type application/json;
      proxy_set_header Authorization "";
      subrequest_output_buffer_size 64k;
    }
  }
}
EOF
    else
      cat <<EOF
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /crm/ { proxy_pass http://crm/; }
  }
}
EOF
    fi
  } >"$dir/nginx.conf"
}

start_nginx() {
  local with_opa="$1" name="$2" dir="$tmp/$2"
  write_nginx_conf "$dir" "$with_opa"
  cp "$dir/nginx.conf" "$tmp/logs/$name.nginx.conf"
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' 2>"$tmp/logs/$name.nginx-t.log" \
    || { cat "$tmp/logs/$name.nginx-t.log" >&2; die "nginx refused $dir/nginx.conf"; }
  setsid nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
    >"$tmp/logs/$name.nginx.out" 2>&1 &
  proxy_pid=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/" "$proxy_pid" 10 "$name" "$dir/error.log"
}

start_opa_server() {
  setsid "$opa" run --server --addr "127.0.0.1:$OPA_PORT" --skip-version-check --log-level error \
    --authorization=basic "$tmp/rego" "$bench/nginx/opa-authz.rego" >"$tmp/logs/nginx+opa.opa.log" 2>&1 &
  opa_pid=$!
  wait_http "http://127.0.0.1:$OPA_PORT/health" "$opa_pid" 30 opa "$tmp/logs/nginx+opa.opa.log"
}

start_countersign() {
  local engine="$1" name="countersign-$1"
  local cfg="$tmp/logs/$name.yaml" ldir="$tmp/ledger-$engine"
  mkdir -p "$tmp/jtmp-$engine"
  write_countersign_config "$cfg" "$engine" "$ldir" "$PROXY_PORT" "$ADMIN_PORT" "$upstream_url" "$cache_entries"
  COUNTERSIGN_JAVA_OPTS="-Djava.io.tmpdir=$tmp/jtmp-$engine ${COUNTERSIGN_JAVA_OPTS:-}" \
    setsid "$countersign" run --config "$cfg" >>"$tmp/logs/$name.log" 2>&1 &
  proxy_pid=$!
  wait_http "http://127.0.0.1:$PROXY_PORT/" "$proxy_pid" "$READY_DEADLINE_S" "$name" "$tmp/logs/$name.log"
}

# Sets get_url and patch_url (empty: no PATCH row) for a scenario.
scenario_urls() {
  patch_url=""
  case "$1" in
    direct) get_url="$upstream_url/v3/deals/42" ;;
    nginx) get_url="http://127.0.0.1:$NGINX_PORT/crm/v3/deals/42" ;;
    nginx+opa) get_url="http://127.0.0.1:$NGINX_PORT/crm/v3/deals/42" patch_url="$get_url" ;;
    countersign-*) get_url="http://127.0.0.1:$PROXY_PORT/crm/v3/deals/42" patch_url="$get_url" ;;
  esac
}

# start_scenario NAME: starts what the scenario measures and checks it answers as it should; a
# policy peer must also deny a DELETE of a deal, which only the policy forbids.
start_scenario() {
  local name="$1" t0
  t0=$(date +%s%N)
  case "$name" in
    direct) ;;
    nginx) start_nginx 0 nginx ;;
    nginx+opa) start_opa_server && start_nginx 1 nginx+opa ;;
    countersign-opa) start_countersign opa ;;
    countersign-wasm) start_countersign wasm ;;
  esac
  scenario_urls "$name"
  expect_status GET "$get_url" '2*'
  case "$name" in
    nginx+opa) expect_status DELETE "$get_url" 403 crm.deal_delete_forbidden ;;
    countersign-*) expect_status DELETE "$get_url" 403 denied ;;
  esac
  [ -z "$patch_url" ] || expect_status PATCH "$patch_url" '2*'
  log "$name ready and checked in $((($(date +%s%N) - t0) / 1000000)) ms"
}

# rss_of PID...: "name=KiB" for each process in the process groups led by the PIDs.
rss_of() {
  local lead pid
  for lead in "$@"; do
    [ -n "$lead" ] || continue
    for pid in $( { pgrep -g "$lead" 2>/dev/null || true; } ); do
      awk -v p="$pid" '/^Name:/ {n=$2} /^VmRSS:/ {r=$2} END {if (r) printf "%s[%s]=%s ", n, p, r}' \
        "/proc/$pid/status" 2>/dev/null || true
    done
  done
}

# cache_counters: Countersign's decision-cache "hits misses" so far ("- -" for other scenarios).
cache_counters() {
  local out=""
  if [[ "$1" == countersign-* ]]; then
    out=$( { curl -s -m 5 "http://127.0.0.1:$ADMIN_PORT/metrics" || true; } \
      | awk '$1 == "countersign_policy_cache_hits" {h = $2} $1 == "countersign_policy_cache_misses" {m = $2}
             END {if (h != "" && m != "") printf "%d %d", h, m}')
  fi
  echo "${out:-- -}"
}

# stop_scenario ROUND NAME: notes the memory of what ran, then stops it.
stop_scenario() {
  local round="$1" name="$2"
  printf '%s\t%s\t%s\n' "$round" "$name" "$(rss_of "$proxy_pid" "$opa_pid")" >>"$tmp/procs.tsv"
  stop_pid "$proxy_pid" "$name"
  stop_pid "$opa_pid" opa
  proxy_pid="" opa_pid=""
  rm -rf "$tmp/ledger-opa" "$tmp/ledger-wasm"   # ledgers grow with every request
  [ -z "$(ls "$tmp"/nginx*/error.log 2>/dev/null)" ] || cat "$tmp"/nginx*/error.log >>"$tmp/logs/nginx-error.log" 2>/dev/null
  rm -rf "$tmp/nginx" "$tmp/nginx+opa"
}

# ---------------------------------------------------------------------------------------- measures
: >"$tmp/maxrps.tsv" # round scenario method, the 15 fields of bench/wrk/bench.lua, cache hits misses
: >"$tmp/procs.tsv"
: >"$tmp/failures.txt"

# max_rps ROUND SCENARIO METHOD URL WARMUP: a warm-up, then the measured wrk run.
max_rps() {
  local round="$1" name="$2" method="$3" url="$4" warm="$5" out="$tmp/one.tsv" status=1 c0 c1
  [ "$name" = direct ] && status=0 # per-response Lua would slow the baseline; wrk still counts non-2xx
  log "round $round $name $method: warm-up $warm, then $DURATION"
  for phase in warmup measure; do
    : >"$out"
    [ "$phase" = measure ] && c0=$(cache_counters "$name") && start_sampler
    echo "=== round $round $name $method $phase" >>"$tmp/logs/wrk.log"
    BENCH_METHOD="$method" BENCH_STATUS="$status" BENCH_OUT="$out" timeout 120 \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"$([ "$phase" = warmup ] && echo "$warm" || echo "$DURATION")" \
      --latency -s "$bench/wrk/bench.lua" "$url" >>"$tmp/logs/wrk.log" 2>&1 \
      || die "$name $method: wrk failed (see $tmp/logs/wrk.log)"
    [ -s "$out" ] || die "$name $method: wrk produced no result"
    awk -F'\t' -v w="round $round $name $method $phase" '$9+$10+$11+$12+$13 > 0 {
      printf "%s: connect=%d read=%d write=%d timeout=%d non2xx=%d statuses=%s first_non_2xx=%s\n", w, $9,$10,$11,$12,$13,$14,$15 }' \
      "$out" >>"$tmp/failures.txt"
  done
  finish_sampler "round $round $name $method" "$upstream_pid" "$proxy_pid" "$opa_pid"
  c1=$(cache_counters "$name")
  printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$method" "$(cat "$out")" \
    "$(awk -v a="$c0" -v b="$c1" 'BEGIN {split(a, x, " "); split(b, y, " ");
      if (x[1] == "-" || y[1] == "-") print "-\t-"; else printf "%d\t%d", y[1] - x[1], y[2] - x[2]}')" >>"$tmp/maxrps.tsv"
  log "round $round $name $method: $(cut -f3 "$out") req/s"
}

# median_rps SCENARIO: the median GET req/s over the rounds measured so far.
median_rps() {
  awk -F'\t' -v s="$1" '$2 == s && $3 == "GET" {print $6}' "$tmp/maxrps.tsv" | sort -g \
    | awk '{v[NR] = $1} END {if (NR) printf "%d", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'
}

# fixed_rates SCENARIO URL: loadgen at each of RATES (N% of the scenario's median max throughput;
# not for direct, whose max is beyond what the generator can schedule on shared cores).
fixed_rates() {
  local name="$1" url="$2" r rate label file
  for r in $RATES; do
    if [[ "$r" == *% ]]; then
      [ "$name" = direct ] && continue
      rate=$(($(median_rps "$name") * ${r%\%} / 100))
      label="$r"
    else
      rate="$r" label="$r"
    fi
    ((rate > 0)) || die "$name: no max throughput to take $r of"
    file="$tmp/latency/$name@${label/\%/pct}.json"
    log "$name: $rate req/s ($label) for $LATENCY_DURATION after $LATENCY_WARMUP"
    start_sampler
    timeout 120 "$loadgen" -url "$url" -rate "$rate" -connections "$CONNECTIONS" \
      -duration "$LATENCY_DURATION" -warmup "$LATENCY_WARMUP" -label "$name@$label" -out "$file" \
      2>>"$tmp/logs/loadgen.log" || die "$name: loadgen failed at $rate req/s (see $tmp/logs/loadgen.log)"
    finish_sampler "$name at $label" "$upstream_pid" "$proxy_pid" "$opa_pid"
    python3 - "$file" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
l = d["latency_us"]
print(f"[run] {d['label']}: achieved {d['achieved_rate']:.0f}/s p50 {l['p50']/1000:.3f} ms p99 {l['p99']/1000:.3f} ms "
      f"p99.9 {l['p99_9']/1000:.3f} ms errors {d['errors_total']} non-2xx {d['non_2xx']}"
      + (f" BEHIND: {d['schedule']['reason']}" if d['schedule']['behind'] else ""))
PY
  done
}

# ---------------------------------------------------------------------------------------- rounds
# Round r runs every scenario once, each started alone, starting the order one further each round,
# so drift and position hit all alike. The last round adds the fixed-rate runs to each scenario
# while it is warm, when its median max throughput is known.
read -r -a order <<<"$SCENARIOS"
for ((round = 1; round <= ROUNDS; round++)); do
  for ((k = 0; k < ${#order[@]}; k++)); do
    name="${order[$(((k + round - 1) % ${#order[@]}))]}"
    start_scenario "$name"
    max_rps "$round" "$name" GET "$get_url" "$([[ "$name" == countersign-* ]] && echo "$JVM_WARMUP" || echo "$WARMUP")"
    [ -z "$patch_url" ] || max_rps "$round" "$name" PATCH "$patch_url" "$PATCH_WARMUP"
    ((round < ROUNDS)) || fixed_rates "$name" "$get_url"
    stop_scenario "$round" "$name"
  done
done

# ---------------------------------------------------------------------------------------- report
grep -hE 'WARN|ERROR|LEAK:|Exception' "$tmp"/logs/countersign-*.log 2>/dev/null \
  | sed -E 's/^[0-9T:.+-]+Z? //; s/opa\[[0-9]+\]/opa[PID]/; s/"(fields\.)?time":"[^"]*",?//g; s/@[0-9a-f]{6,}/@…/g' \
  | sort | uniq -c | sort -rn >"$tmp/notable.txt" || true
printf '%s\n' "${noisy[@]}" >"$tmp/noisy.txt"
{
  printf 'stamp\t%s\ncommit\t%s\ngit_dirty\t%s\ncpus\t%s\nkernel\t%s\n' "$stamp" "$commit" "$dirty" "$(nproc)" "$(uname -r)"
  printf 'java\t%s\n' "$(java -version 2>&1 | head -1)"
  printf 'wrk\t%s\n' "$( { wrk --version 2>&1 || true; } | awk 'NR == 1 {print $2}')"
  printf 'opa\t%s\n' "$("$opa" version | awk '/^Version:/ {print $2}')"
  wants_nginx && printf 'nginx\t%s\n' "$(nginx -v 2>&1 | sed 's/.*\///')"
  wants_nginx && printf 'njs\t%s\n' "$(dpkg-query -W -f '${Version}' libnginx-mod-http-js 2>/dev/null || echo unknown)"
  printf 'rounds\t%s\nduration\t%s\nwarmup\t%s\njvm_warmup\t%s\npatch_warmup\t%s\nthreads\t%s\nconnections\t%s\n' \
    "$ROUNDS" "$DURATION" "$WARMUP" "$JVM_WARMUP" "$PATCH_WARMUP" "$THREADS" "$CONNECTIONS"
  printf 'decision_cache\t%s\n' "$DECISION_CACHE"
  printf 'rates\t%s\nlatency_duration\t%s\nlatency_warmup\t%s\nscenarios\t%s\n' \
    "$RATES" "$LATENCY_DURATION" "$LATENCY_WARMUP" "$SCENARIOS"
  printf 'runtime_s\t%s\nloadavg_at_end\t%s\n' "$(($(date +%s) - t_start))" "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$tmp/meta.tsv"
rc=0
python3 "$bench/lib/run_report.py" "$tmp" "$json_out" | tee "$tmp/logs/table.txt" || rc=$?
echo "results: $json_out (logs: $logs_out/)"
((rc == 0)) || die "errors during the run (listed above)"
if [ "$JMH" = 1 ]; then
  log "JMH microbenchmarks (bench/jmh.sh; JMH=0 skips them)"
  "$bench/jmh.sh" || die "bench/jmh.sh failed"
fi
log "ok (wall time $(($(date +%s) - t_start)) s)"
