#!/usr/bin/env bash
# The agent cannot go around the sidecar: proven in network namespaces, not rendered.
#
# Builds a "pod" network namespace joined by a veth pair to an "upstream" namespace, runs the Helm
# chart's own iptables redirect init container script in the pod namespace (rendered with helm
# template and extracted from the Deployment, run as root with only NET_ADMIN and NET_RAW), starts
# the real proxy (with its managed OPA) as the proxy's UID, and then checks, as the agent's UID,
# that a direct connection to the upstream's address lands on the proxy's agent port (judged,
# journaled, credential injected by the proxy), that non-TCP traffic is dropped, and that the
# admin port and the managed OPA's port answer as the agent port does (the agent cannot reach
# them); and, as the proxy's UID, that the sidecar itself goes out.
#
# Needs root, iproute2 and iptables (installed from Debian with apt-get when missing), Go, Java,
# the built proxy (built when proxy/target/lib is missing), OPA and Helm (.tools/bin, installed by
# scripts/install-tools.sh). Skips, printing why, only when the kernel refuses network namespaces
# or the nat table / owner match inside them. Every process and namespace it creates is removed on
# exit. Addresses are 198.18.0.0/30 (RFC 2544's benchmarking range) on the veth pair only: the
# namespaces have no other interface, so no packet can leave them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

say() { echo "egress: $*"; }
skip() { say "SKIP: $*"; exit 0; }

if [ "$(id -u)" != 0 ]; then
  skip "not root: creating network namespaces and iptables rules needs root (run as root to test the redirect)"
fi

# --- tools (idempotent, fast when present) ---------------------------------------------------
need_pkgs=()
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v setpriv >/dev/null || need_pkgs+=(util-linux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing ${need_pkgs[*]} (Debian packages)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
bash scripts/install-tools.sh opa helm
if [ ! -d proxy/target/lib ] || [ ! -d proxy/target/classes ]; then
  say "building the proxy (mvn package, tests skipped)"
  mvn -B -q -DskipTests package -pl proxy -am
fi

# --- state and cleanup -----------------------------------------------------------------------
id="$$"
pod="cs-egress-pod-$id"
up="cs-egress-up-$id"
tmp="$(mktemp -d /tmp/cs-egress.XXXXXX)"
chmod 755 "$tmp"
cleanup() {
  local ns pid
  for ns in "$pod" "$up"; do
    if ip netns list 2>/dev/null | grep -qw "$ns"; then
      # Only processes this script started live in these namespaces.
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
      for _ in $(seq 1 50); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if ! ip netns add "$pod" 2>"$tmp/netns.err"; then
  skip "the kernel refuses a network namespace: $(cat "$tmp/netns.err")"
fi
ip netns add "$up"
inpod() { ip netns exec "$pod" "$@"; }
inup() { ip netns exec "$up" "$@"; }
if ! inpod iptables -t nat -N CS_PROBE 2>"$tmp/nat.err" || ! inpod iptables -t nat -A CS_PROBE -m owner --uid-owner 1 -j RETURN 2>>"$tmp/nat.err"; then
  skip "the kernel has no iptables nat table or owner match in a network namespace: $(cat "$tmp/nat.err")"
fi
inpod iptables -t nat -F CS_PROBE && inpod iptables -t nat -X CS_PROBE

# --- the chart's init container, rendered ----------------------------------------------------
agent_port=15080   # not the quick start's ports; the namespace is private anyway
admin_port=15090
(cd helm/tests && go run ./cmd/redirect-init -helm "$root/.tools/bin/helm" -chart ../countersign \
  -script "$tmp/redirect.sh" -env "$tmp/redirect.env" \
  --set proxy.agentPort=$agent_port --set proxy.adminPort=$admin_port)
# shellcheck disable=SC1091
. "$tmp/redirect.env"
say "chart values: agent UID $AGENT_UID, proxy UID $PROXY_UID, agent port $AGENT_PORT, drop non-TCP $DROP_NON_TCP, capabilities $REDIRECT_CAPABILITIES"

# --- the two hosts ---------------------------------------------------------------------------
ip link add "cse$id" type veth peer name "csu$id"
ip link set "cse$id" netns "$pod"
ip link set "csu$id" netns "$up"
inpod ip link set lo up
inpod ip addr add 198.18.0.1/30 dev "cse$id"
inpod ip link set "cse$id" up
inup ip link set lo up
inup ip addr add 198.18.0.2/30 dev "csu$id"
inup ip link set "csu$id" up

(cd fuzz && go build -o "$tmp/netprobe" ./cmd/netprobe)
chmod 755 "$tmp/netprobe"
probe="$tmp/netprobe"
uplog="$tmp/upstream.log"
: > "$uplog"
chmod 666 "$uplog"
inup "$probe" serve 198.18.0.2:80 upstream-80 "$uplog" >/dev/null 2>&1 &
inup "$probe" serve 198.18.0.2:8443 upstream-8443 "$uplog" >/dev/null 2>&1 &
inup "$probe" udp 198.18.0.2:5353 "$uplog" >/dev/null 2>&1 &
for _ in $(seq 1 100); do
  inup ss -ltnH | grep -q '198.18.0.2:8443' && inup ss -lunH | grep -q '198.18.0.2:5353' && break
  sleep 0.1
done

# --- the init container: the chart's script, as root with only NET_ADMIN and NET_RAW --------
caps=$(echo "$REDIRECT_CAPABILITIES" | tr -d '[]' | tr 'A-Z' 'a-z' | sed 's/\([a-z_]*\)/+\1/g; s/ /,/g')
say "running the chart's redirect script in the pod namespace (bounding set: ${caps})"
inpod env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin AGENT_UID="$AGENT_UID" PROXY_UID="$PROXY_UID" \
  AGENT_PORT="$AGENT_PORT" DROP_NON_TCP="$DROP_NON_TCP" \
  setpriv --bounding-set=-all,"$caps" --inh-caps=-all /bin/sh -ec "$(cat "$tmp/redirect.sh")" > "$tmp/rules.txt"
grep -E '^-A (OUTPUT|COUNTERSIGN)' "$tmp/rules.txt" | sed 's/^/egress:   /'

# --- the sidecar: the real proxy as the proxy UID, with its managed OPA ------------------------
mkdir -p "$tmp/ledger" "$tmp/home"
chown "$PROXY_UID:$PROXY_UID" "$tmp/ledger" "$tmp/home"
cat > "$tmp/countersign.yaml" <<YAML
agent_id: sales-assistant
listen: {agent: "127.0.0.1:$AGENT_PORT", admin: "0.0.0.0:$admin_port"}
policy: {engine: opa, opa_binary: "$root/.tools/bin/opa", rego_dir: "$root/rego"}
ledger: {dir: "$tmp/ledger"}
routes:
  - name: crm
    prefix: /crm
    upstream: http://198.18.0.2:80
    credential: {header: Authorization, value_prefix: "Bearer ", from_env: CRM_TOKEN}
YAML
chmod 644 "$tmp/countersign.yaml"
inpod env HOME="$tmp/home" CRM_TOKEN=egress-secret \
  setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups \
  "$root/bin/countersign" run --config "$tmp/countersign.yaml" > "$tmp/proxy.out" 2> "$tmp/proxy.err" &
ready=""
for _ in $(seq 1 900); do
  if grep -q "agent port listening" "$tmp/proxy.err"; then ready=yes; break; fi
  if ! kill -0 $! 2>/dev/null; then break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  say "FAIL: the proxy did not start in the pod namespace:"; tail -20 "$tmp/proxy.err"; exit 1
fi
opa_port=$(inpod ss -ltnpH | awk '/"opa"/ {split($4, a, ":"); print a[length(a)]; exit}')
say "proxy up as UID $PROXY_UID: agent 127.0.0.1:$AGENT_PORT, admin 0.0.0.0:$admin_port, managed OPA 127.0.0.1:${opa_port:-?}"

# --- the checks --------------------------------------------------------------------------------
passed=0
failed=0
as_agent() { inpod setpriv --reuid "$AGENT_UID" --regid "$AGENT_UID" --clear-groups "$@"; }
as_proxy() { inpod setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups "$@"; }
check() { # check NAME GOT REGEX
  if [[ "$2" =~ $3 ]]; then
    passed=$((passed + 1)); say "PASS $1: $2"
  else
    failed=$((failed + 1)); say "FAIL $1: got '$2', want /$3/"
  fi
}
uplines() { wc -l < "$uplog" | tr -d ' '; }
agent_id="[0-9a-f-]{36}"

n0=$(uplines)
got=$(as_agent "$probe" get 198.18.0.2:80 /crm/v3/deals/42)
check "agent -> upstream 198.18.0.2:80 directly is answered by the sidecar (judged: exchange id)" "$got" "^status=200 exchange=$agent_id body=upstream-80$"
check "... and reached the upstream only through the proxy, with the route's credential" \
  "$(tail -n +$((n0 + 1)) "$uplog" | tr '\n' ' ')" "^upstream-80 GET /v3/deals/42 authorization=\"Bearer egress-secret\" from=198.18.0.1:[0-9]+ $"

n0=$(uplines)
got=$(as_agent "$probe" get 198.18.0.2:8443 /crm/v3/deals/7)
check "agent -> another upstream port is redirected too" "$got" "^status=200 exchange=$agent_id body=upstream-80$"
check "... and port 8443 of the upstream was never reached" "$(tail -n +$((n0 + 1)) "$uplog" | grep -c 'upstream-8443' || true)" "^0$"

n0=$(uplines)
got=$(as_agent "$probe" get 198.18.0.2:80 /v3/deals/42)
check "agent -> upstream with a path no route has: the sidecar refuses (404 no_route)" "$got" "^status=404 exchange=$agent_id body=.*no_route"
check "... and nothing reached the upstream" "$(( $(uplines) - n0 ))" "^0$"

n0=$(uplines)
as_agent "$probe" send-udp 198.18.0.2:5353 agent-datagram >/dev/null
as_proxy "$probe" send-udp 198.18.0.2:5353 proxy-datagram >/dev/null
for _ in $(seq 1 50); do grep -q proxy-datagram "$uplog" && break; sleep 0.1; done
check "agent UDP is dropped (the proxy's datagram, sent after it, arrived alone)" \
  "$(tail -n +$((n0 + 1)) "$uplog" | grep -o '"[a-z]*-datagram"' | tr '\n' ' ')" '^"proxy-datagram" $'

got=$(as_agent "$probe" get 127.0.0.1:$admin_port /healthz)
check "agent -> admin port on loopback lands on the agent port instead" "$got" "^status=404 exchange=$agent_id body=.*no_route"
got=$(as_agent "$probe" get 198.18.0.1:$admin_port /healthz)
check "agent -> admin port on the pod address lands on the agent port instead" "$got" "^status=404 exchange=$agent_id body=.*no_route"
got=$(as_proxy "$probe" get 127.0.0.1:$admin_port /healthz)
check "(control) the proxy UID reaches the admin port" "$got" "^status=200 exchange=- "

if [ -n "$opa_port" ]; then
  got=$(as_agent "$probe" get 127.0.0.1:$opa_port /health)
  check "agent -> managed OPA port lands on the agent port instead" "$got" "^status=404 exchange=$agent_id body=.*no_route"
  got=$(as_proxy "$probe" get 127.0.0.1:$opa_port /health)
  check "(control) the proxy UID reaches the managed OPA" "$got" "^status=200 exchange=- "
else
  failed=$((failed + 1)); say "FAIL: no listening opa process found in the pod namespace"
fi

# IPv6: any TCP of the agent's UID over IPv6 is redirected to [::1]:<agent port>, where the proxy
# does not listen, so it is refused. A listener on [::1] in the pod shows the difference.
inpod "$probe" serve "[::1]:15099" pod-v6 "$uplog" >/dev/null 2>&1 &
for _ in $(seq 1 100); do inpod ss -ltnH | grep -q '\[::1\]:15099' && break; sleep 0.1; done
got=$(as_agent "$probe" get "[::1]:15099" /v6)
check "agent -> a pod listener over IPv6 is redirected to [::1]:agent port and refused" "$got" "^error=.*refused"
got=$(as_proxy "$probe" get "[::1]:15099" /v6)
check "(control) the proxy UID reaches that IPv6 listener" "$got" "^status=200 exchange=- body=pod-v6$"

n0=$(uplines)
got=$(as_proxy "$probe" get 198.18.0.2:80 /direct)
check "the sidecar's own UID goes out directly" "$got" "^status=200 exchange=- body=upstream-80$"
check "... and the upstream saw it" "$(tail -n +$((n0 + 1)) "$uplog" | tr '\n' ' ')" "^upstream-80 GET /direct "

# The ledger recorded the agent's redirected calls (read after the proxy stops writing).
journaled=$(inpod "$root/bin/countersign" ledger tail --dir "$tmp/ledger" 2>/dev/null | grep -c '"exchange.decided"\|"exchange.rejected"' || true)
check "the redirected calls are in the ledger (decided or rejected)" "$journaled" "^([6-9]|[1-9][0-9]+)$"

echo "egress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
