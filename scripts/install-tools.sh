#!/usr/bin/env bash
# Installs the pinned tools the project needs into .tools/bin (idempotent; fast when present).
#   OPA  : built from the Go module proxy (go install), pinned below.
#   Helm : built from the Go module proxy (go install), pinned below.
#   python: a venv in .tools/venv with the exact pins of scripts/python-requirements.txt (the
#           official client SDKs the integration tests drive through the proxy).
# Usage: scripts/install-tools.sh [opa] [wrk] [helm] [python]   (no argument = opa)
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

install_python() {
  local venv="$root/.tools/venv" req="$root/scripts/python-requirements.txt"
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  # the stamp is written only after a complete install, so a half-done one is redone
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "installing the Python test clients into $venv (pip, pinned in $req)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
}

[ $# -eq 0 ] && set -- opa
for tool in "$@"; do
  case "$tool" in
    opa) install_opa ;;
    wrk) install_wrk ;;
    helm) install_helm ;;
    python) install_python ;;
    *) echo "unknown tool: $tool (known: opa, wrk, helm, python)" >&2; exit 2 ;;
  esac
done
