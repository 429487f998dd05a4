# Sourced by the bench scripts: copy a stable build of the proxy before running it, because other
# sessions may rebuild proxy/target while a benchmark runs. Needs: $root (the repo), $tmp (a private
# folder), log and die. Sets: $countersign (the launcher inside the copy); snapshot_proxy_at_head
# also $commit and $dirty.

fingerprint() {
  (cd "$root/proxy/target" && find classes lib -type f -printf '%P %s %T@\n' 2>/dev/null | sort | md5sum)
}
snapshot_proxy() {
  local snap="$tmp/proxy-snapshot" i before after
  for ((i = 0; i < 90; i++)); do
    rm -rf "$snap"
    mkdir -p "$snap/bin" "$snap/proxy/target"
    # Accept a copy only if the build output did not change for 1 s before and during the copy.
    before=$(fingerprint)
    sleep 1
    if [ "$before" = "$(fingerprint)" ] &&
      cp "$root/bin/countersign" "$snap/bin/" &&
      cp -r "$root/proxy/target/classes" "$root/proxy/target/lib" "$snap/proxy/target/" 2>/dev/null &&
      after=$(fingerprint) && [ "$before" = "$after" ] &&
      [ -f "$snap/proxy/target/classes/io/countersign/proxy/Main.class" ] &&
      ls "$snap/proxy/target/lib"/countersign-policy-*.jar "$snap/proxy/target/lib"/countersign-ledger-*.jar \
        >/dev/null 2>&1; then
      countersign="$snap/bin/countersign"
      return 0
    fi
    log "proxy/target is changing (a build is running?); retrying the snapshot"
  done
  die "could not copy a stable build from $root/proxy/target within 90 tries"
}

# snapshot_proxy, then notes what was copied: $commit is HEAD at that moment, $dirty (true/false)
# whether the working tree had uncommitted changes.
snapshot_proxy_at_head() {
  snapshot_proxy
  commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
  dirty=$([ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ] && echo true || echo false)
  log "proxy snapshot: $tmp/proxy-snapshot (HEAD ${commit:0:7}, uncommitted changes: $dirty)"
}
