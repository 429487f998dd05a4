#!/usr/bin/env bash
# Crash soak: kill -9 the real `bin/countersign run` KILLS times (default 1000) under load on the
# same ledgers (CrashUnderLoadIT with a larger count), then check that every answered exchange is in
# the ledger, nothing half-written is readable, and the hash chain verifies. Prints the numbers.
# Usage: bench/ledger-crash-soak.sh [KILLS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kills="${1:-1000}"
cd "$root"
log="$(mktemp)"
# The kill loop runs bin/countersign from a snapshot of the build, so a rebuild of proxy/target
# during the soak (another shell, an IDE) cannot pull classes from under the restarting proxy.
(cd "$root" && mvn -B -o -q install -DskipTests -DskipITs -pl ledger,proxy -am)
snap="$(mktemp -d)"
mkdir -p "$snap/bin" "$snap/proxy/target"
cp "$root/bin/countersign" "$snap/bin/"
cp -r "$root/proxy/target/classes" "$root/proxy/target/lib" "$snap/proxy/target/"
trap 'rm -rf "$snap"' EXIT
start=$(date +%s)
set +e
mvn -B -o verify -pl proxy -Dit.test='io.countersign.proxy.ledger.CrashUnderLoadIT' -Dtest=none \
  -Dsurefire.failIfNoSpecifiedTests=false -Dcountersign.crash.kills="$kills" -Dcountersign.crash.root="$snap" >"$log" 2>&1
rc=$?
set -e
end=$(date +%s)
grep -E "crash test:|Tests run:|AssertionError|missing" "$log" | grep -v "^\[INFO\] Tests run: 1, F.*Skipped: 0$" || true
echo "crash soak: $kills kills requested, $((end - start)) s wall, exit $rc (log: $log)"
exit $rc
