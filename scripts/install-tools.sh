#!/usr/bin/env bash
# Installs the pinned tools the project needs into .tools/bin (idempotent; fast when present).
#   OPA  : built from the Go module proxy (go install), pinned below.
#   Helm : built from the Go module proxy (go install), pinned below.
# Usage: scripts/install-tools.sh [opa] [wrk] [helm]   (no argument = opa)
set -euo pipefail
OPA_VERSION="v1.22.2"
HELM_VERSION="v3.22.0"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

install_opa() {
  # grep -q stops reading at the first match, and opa then dies of SIGPIPE, which pipefail turns
  # into a failed check and a needless rebuild: read the whole output first.
  if [ -x "$bin/opa" ] && grep -q "^Version: ${OPA_VERSION#v}$" <<<"$("$bin/opa" version 2>/dev/null)"; then
    return 0
  fi
  echo "installing OPA $OPA_VERSION into $bin (go install, takes a few minutes the first time)" >&2
  if ! GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION"; then
    # OPA's go.mod has at times carried a replace directive, which go install refuses; build it
    # through a tiny wrapper module instead, the way OPA plugin builds do.
    echo "go install refused OPA; building it through a wrapper module" >&2
    local w="$root/.tools/opa-wrapper"
    mkdir -p "$w"
    cat > "$w/main.go" <<'GO'
package main

import (
	"os"

	"github.com/open-policy-agent/opa/cmd"
)

func main() {
	if err := cmd.RootCommand.Execute(); err != nil {
		os.Exit(1)
	}
}
GO
    (cd "$w" && { [ -f go.mod ] || go mod init countersign.local/opa >/dev/null; } \
      && go get "github.com/open-policy-agent/opa@$OPA_VERSION" && go mod tidy \
      && go build -o "$bin/opa" .)
  fi
  "$bin/opa" version | sed -n 1p >&2   # sed reads it all: head would SIGPIPE opa under pipefail
}

install_helm() {
  if [ -x "$bin/helm" ] && grep -qx "$HELM_VERSION" <<<"$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)"; then
    return 0
  fi
  echo "installing Helm $HELM_VERSION into $bin (go install, takes a few minutes the first time)" >&2
  if ! GOBIN="$bin" GOFLAGS=-mod=mod go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; then
    # go install refuses a module whose go.mod has replace directives; build it through a wrapper
    # module that requires Helm and builds its main package, as for OPA above.
    echo "go install refused Helm; building it through a wrapper module" >&2
    local w="$root/.tools/helm-wrapper"
    mkdir -p "$w"
    (cd "$w" && { [ -f go.mod ] || go mod init countersign.local/helm >/dev/null; } \
      && printf '//go:build tools\n\npackage tools\n\nimport _ "helm.sh/helm/v3/cmd/helm"\n' > tools.go \
      && go get "helm.sh/helm/v3@$HELM_VERSION" && go mod tidy \
      && go build -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
           -o "$bin/helm" helm.sh/helm/v3/cmd/helm)
  fi
  "$bin/helm" version --short >&2
}

install_wrk() {
  command -v wrk >/dev/null && return 0
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}

[ $# -eq 0 ] && set -- opa
for tool in "$@"; do
  case "$tool" in
    opa) install_opa ;;
    wrk) install_wrk ;;
    helm) install_helm ;;
    *) echo "unknown tool: $tool (known: opa, wrk, helm)" >&2; exit 2 ;;
  esac
done
