# Sourced by the bench scripts (first-bench.sh, run.sh, approvals-memory.sh): process control with
# deadlines, the end of a run, the bench's copy of the policy, the Go upstream, a Countersign config,
# pre-flight checks and the CPU sampler.
# Needs: $root (the repo), $bench (bench/), $tmp (a private folder), $STOP_DEADLINE_S; log and die.

# Stops one process we started (and its process group: the proxy's managed OPA and nginx's workers
# live there). TERM first, KILL after STOP_DEADLINE_S.
stop_pid() {
  local pid="$1" name="$2" i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_DEADLINE_S * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop in ${STOP_DEADLINE_S}s; killing its process group"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # Anything left in its group (e.g. an orphaned managed OPA) goes too.
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# install_traps: the script's `cleanup` runs on every exit; an error names its line; INT and TERM
# exit with the usual codes (and so run cleanup).
install_traps() {
  trap cleanup EXIT
  trap 'log "error: line $LINENO: $BASH_COMMAND (exit $?)"' ERR
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# finish_run RC: the end of a cleanup: removes $tmp (KEEP_TMP=1 keeps it), logs the runtime since
# $t_start, exits RC.
finish_run() {
  local rc="$1"
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    log "kept $tmp"
  else
    rm -rf "$tmp"
  fi
  log "total runtime $(($(date +%s) - t_start))s (exit $rc)"
  exit "$rc"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_ports NAME=PORT...: dies naming the knob of the first port something listens on.
require_free_ports() {
  local kv
  for kv in "$@"; do
    port_busy "${kv#*=}" && die "port ${kv#*=} is in use (set ${kv%%=*})"
  done
  return 0
}

# wait_http URL PID DEADLINE_S NAME LOG [EXPECT]: waits until URL answers EXPECT (or anything over
# HTTP, when EXPECT is empty) while PID lives, within DEADLINE_S seconds; dies with LOG's tail.
wait_http() {
  local url="$1" pid="$2" deadline_s="$3" name="$4" logf="$5" expect="${6:-}" end code
  end=$(($(date +%s) + deadline_s))
  while (($(date +%s) < end)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logf" >&2 || true
      die "$name exited before it was ready (log: $logf)"
    fi
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && { [ -z "$expect" ] || [ "$code" = "$expect" ]; }; then
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$logf" >&2 || true
  die "$name not ready within ${deadline_s}s (log: $logf)"
}

# The bench measures the proxy, not budgets: a copy of rego/ into $tmp/rego whose spend limits a
# bench run cannot reach (the real catalog gives sales-assistant 1,000 paid actions a day, spent in
# a second).
copy_rego_without_spend_limits() {
  cp -r "$root/rego" "$tmp/rego"
  python3 - "$tmp/rego/countersign/catalog/data.json" <<'PYEDIT'
import json, sys
path = sys.argv[1]
catalog = json.load(open(path))
for holder in list(catalog.get("agents", {}).values()) + list(catalog.get("workflows", {}).values()):
    for limit in holder.get("spend_limits", []):
        limit["limit"] = 10**12
json.dump(catalog, open(path, "w"), indent=2)
PYEDIT
}

# Builds the Go upstream into bench/.build/upstream (standard library only: no network).
build_upstream() {
  mkdir -p "$bench/.build"
  (cd "$bench/upstream" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=0 \
    go build -o "$bench/.build/upstream" .)
}

# Builds the proxy when proxy/target has no build (a fresh clone).
build_proxy_if_missing() {
  if [ ! -d "$root/proxy/target/lib" ] || [ ! -d "$root/proxy/target/classes" ]; then
    log "building the proxy (mvn -B -q package -DskipTests -DskipITs)"
    (cd "$root" && mvn -B -q package -DskipTests -DskipITs)
  fi
}

# write_countersign_config FILE ENGINE LEDGER_DIR AGENT_PORT ADMIN_PORT UPSTREAM_URL [CACHE_ENTRIES]:
# the bench's one-route config (route crm -> the upstream, with an injected credential from
# $BENCH_TOKEN). Without CACHE_ENTRIES the decision cache keeps its default size. Needs $opa.
write_countersign_config() {
  local cfg="$1" engine="$2" ldir="$3" agent_port="$4" admin_port="$5" upstream="$6" cache="${7:-}"
  local cache_yaml=""
  [ -z "$cache" ] || cache_yaml=$'\n  cache:\n    max_entries: '"$cache"
  cat >"$cfg" <<EOF
# written by bench/$(basename "$0")
agent_id: sales-assistant
listen:
  agent: 127.0.0.1:$agent_port
  admin: 127.0.0.1:$admin_port
policy:
  engine: $engine
  opa_binary: $opa
  rego_dir: $tmp/rego$cache_yaml
ledger:
  dir: $ldir
routes:
  - name: crm
    prefix: /crm
    upstream: $upstream
    credential:
      header: Authorization
      value_prefix: "Bearer "
      from_env: BENCH_TOKEN
EOF
}

# expect_status METHOD URL STATUS_GLOB [BODY_GREP]: one request must answer a status matching
# STATUS_GLOB (e.g. '2*', 403) and, when given, a body matching BODY_GREP. PATCH sends the bench's
# JSON body. Dies otherwise, naming what came back.
expect_status() {
  local method="$1" url="$2" want="$3" grep_body="${4:-}" code
  local args=(-s -o "$tmp/check.body" -m 5 -w '%{http_code}' -X "$method")
  [ "$method" = PATCH ] && args+=(-H 'Content-Type: application/json' --data '{"discount_pct": 10}')
  code=$(curl "${args[@]}" "$url" || true)
  # shellcheck disable=SC2254 # the glob is the point
  case "$code" in
    $want) ;;
    *) die "$method $url answered '$code', expected $want: $(head -c 400 "$tmp/check.body" 2>/dev/null)" ;;
  esac
  if [ -n "$grep_body" ] && ! grep -q -- "$grep_body" "$tmp/check.body"; then
    die "$method $url answered $code without '$grep_body' in the body: $(head -c 400 "$tmp/check.body")"
  fi
}

# Other work on this machine (a build, tests) skews the numbers. A sampler takes one `top` snapshot
# (1 s) in the middle of each measured run (DURATION); processes that are not ours using >= 15 % CPU
# are logged and collected in the array `noisy`.
noisy=()
sampler_pid=""
start_sampler() {
  local secs="${DURATION%s}"
  [[ "$secs" =~ ^[0-9]+$ ]] || secs=4
  ( sleep $((secs / 2)); timeout 10 top -b -n2 -d1 -w 200 >"$tmp/top.txt" 2>/dev/null ) &
  sampler_pid=$!
}
# finish_sampler SCENARIO PID...: the PIDs (and their children) are ours, as are the load
# generators and top itself.
finish_sampler() {
  local scenario="$1" ours=" " pid others
  shift
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    ours+="$pid $( { pgrep -P "$pid" 2>/dev/null || true; } | tr '\n' ' ') "
  done
  others=$( { awk '/^top -/ {n++} n == 2 && $1 ~ /^[0-9]+$/' "$tmp/top.txt" 2>/dev/null || true; } \
    | awk -v ours="$ours" '$9 + 0 >= 15 && index(ours, " " $1 " ") == 0 && $12 != "wrk" && $12 != "top" && $12 != "loadgen" \
      {printf "%s(pid %s, %s%% CPU) ", $12, $1, $9}')
  if [ -n "$others" ]; then
    log "WARNING: other busy processes during '$scenario': $others- numbers are skewed"
    noisy+=("$scenario: $others")
  fi
}
