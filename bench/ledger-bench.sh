#!/usr/bin/env bash
# Ledger benchmark: append latency p50/p99 with the hash chain, and the scan rate of a filtered
# search over a 1M-event ledger. Prints numbers, asserts nothing.
# Usage: bench/ledger-bench.sh [DIR (default: a temp dir; put it on the disk you care about)] [EVENTS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
events="${2:-1000000}"
if [ ! -d "$root/proxy/target/lib" ]; then
  (cd "$root" && mvn -B -o -q install -DskipTests -DskipITs)
fi
cp="$root/ledger/target/classes:$root/proxy/target/lib/*"
echo "ledger bench: dir $dir ($(df -h "$dir" | awk 'NR==2{print $1" "$2}')), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
java \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/jdk.internal.util=ALL-UNNAMED \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
  -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$cp" "$root/bench/ledger/LedgerBench.java" "$dir" "$events" 2>&1 | grep -v -E " (DEBUG|INFO) "
