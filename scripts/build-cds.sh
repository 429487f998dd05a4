#!/usr/bin/env bash
# Builds the class-data-sharing archive (AppCDS) bin/countersign starts with: the classes a running
# sidecar loads, parsed and laid out once at build time instead of at every start (issue 21).
#
#   scripts/build-cds.sh            # after mvn package; writes proxy/target/cds/
#
# CDS needs jars on the class path (no directories), so the proxy's classes are first packed into
# proxy/target/cds/countersign-proxy.jar. A training run then starts the proxy from that jar with
# -XX:ArchiveClassesAtExit (engine wasm, the repo's rego/, a temp ledger, loopback ports, the route's
# upstream being the admin port itself), sends the requests a sidecar serves (reads, writes, a deny,
# health, readiness, metrics) so the classes of the request path are in the archive too, and stops it
# with SIGTERM: the JVM writes the archive as it exits. bin/countersign uses the archive when it is
# there and newer than every class; the JVM itself refuses an archive made by another JVM or for
# other jars, and then starts without it. Idempotent; ~10 s.
#
# Knobs: JAVA (java), OPA (.tools/bin/opa), TARGET (proxy/target: the folder with classes/ and lib/;
# the archive goes to TARGET/cds), REGO (rego/).
set -Eeuo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
JAVA="${JAVA:-java}"
TARGET="${TARGET:-$root/proxy/target}"
OPA="${OPA:-$root/.tools/bin/opa}"
REGO="${REGO:-$root/rego}"
log() { printf '[build-cds] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[ -d "$TARGET/classes" ] && [ -d "$TARGET/lib" ] || die "no build in $TARGET; run: mvn -B -q package -DskipTests"
[ -x "$OPA" ] || die "OPA missing at $OPA (scripts/install-tools.sh opa)"
cds="$TARGET/cds"
mkdir -p "$cds"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/countersign-cds.XXXXXX")"
pid=""
cleanup() {
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The jar: a zip of the classes folder, unless one is there that no class is newer than (the image
# packs it in its JDK stage: a JRE cannot run Pack.java's source launcher).
rm -f "$cds/countersign.jsa"
jar="$cds/countersign-proxy.jar"
if [ -f "$jar" ] && [ -z "$(find "$TARGET/classes" -newer "$jar" -print -quit)" ]; then
  log "using $jar"
else
rm -f "$jar"
cat >"$tmp/Pack.java" <<'JAVA'
import java.io.*;
import java.nio.file.*;
import java.util.zip.*;

public class Pack {
  public static void main(String[] a) throws IOException {
    Path dir = Paths.get(a[0]);
    try (ZipOutputStream out = new ZipOutputStream(new FileOutputStream(a[1]));
        var files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
        out.putNextEntry(new ZipEntry(dir.relativize(p).toString().replace(File.separatorChar, '/')));
        Files.copy(p, out);
        out.closeEntry();
      }
    }
  }
}
JAVA
"$JAVA" "$tmp/Pack.java" "$TARGET/classes" "$cds/countersign-proxy.jar.tmp"
mv "$cds/countersign-proxy.jar.tmp" "$cds/countersign-proxy.jar"
fi

ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))' 2>/dev/null) || ports="19281 19282"
read -r agent admin <<<"$ports"
cat >"$tmp/countersign.yaml" <<EOF
# written by scripts/build-cds.sh (a training run)
agent_id: sales-assistant
listen:
  agent: 127.0.0.1:$agent
  admin: 127.0.0.1:$admin
policy:
  engine: wasm
  opa_binary: $OPA
  rego_dir: $REGO
ledger:
  dir: $tmp/ledger
routes:
  - name: crm
    prefix: /crm
    upstream: http://127.0.0.1:$admin
    credential:
      header: Authorization
      value_prefix: "Bearer "
      from_env: CDS_TRAINING_TOKEN
EOF

# One HTTP/1.1 request over bash's /dev/tcp (no curl in the runtime image): "METHOD PORT PATH [BODY]".
request() (
  method="$1" port="$2" path="$3" body="${4:-}"
  exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$method" "$path" "${#body}" "$body" >&3
  head -c 1 <&3 >/dev/null || true
  cat <&3 >/dev/null || true
)

log "training run (engine wasm) on ports $agent/$admin"
CDS_TRAINING_TOKEN=training-not-a-secret "$JAVA" -XX:ArchiveClassesAtExit="$cds/countersign.jsa.tmp" \
  -Xshare:auto -Xlog:cds=warning -Djava.io.tmpdir="$tmp" \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/jdk.internal.util=ALL-UNNAMED \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
  -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true \
  -cp "$cds/countersign-proxy.jar:$TARGET/lib/*" io.countersign.proxy.Main run --config "$tmp/countersign.yaml" \
  >"$tmp/training.log" 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/training.log" >&2; die "the training run exited early"; }
  if request GET "$admin" /readyz 2>/dev/null; then break; fi
  sleep 0.1
done
for ((i = 0; i < 20; i++)); do
  request GET "$agent" /crm/v3/deals/42 || true
  request PATCH "$agent" /crm/v3/deals/42 '{"discount_pct": 10}' || true
  request DELETE "$agent" /crm/v3/deals/42 || true
  request GET "$agent" /nowhere || true
done
request GET "$admin" /healthz || true
request GET "$admin" /metrics || true
kill -TERM "$pid"
wait "$pid" || true
pid=""
[ -s "$cds/countersign.jsa.tmp" ] || { cat "$tmp/training.log" >&2; die "the JVM wrote no archive"; }
mv "$cds/countersign.jsa.tmp" "$cds/countersign.jsa"
log "wrote $cds/countersign.jsa ($(du -k "$cds/countersign.jsa" | cut -f1) KiB) and $cds/countersign-proxy.jar"
