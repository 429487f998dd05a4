# syntax=docker/dockerfile:1.7
# The Countersign image: the proxy on a JRE, with the same pinned OPA the project uses
# (scripts/install-tools.sh), built from the Go module proxy. The Helm chart (helm/countersign) runs
# it read-only, as UID 10001. Build from the repository root:
#   docker build -t REGISTRY/countersign:0.1.0 .
#   docker build --target redirect-init -t REGISTRY/countersign-init:0.1.0 .   # iptables init image
# docs/helm.md has the details (this repository's CI has no Docker engine, so it is not built there).

ARG OPA_VERSION=v1.22.2
ARG GO_IMAGE=golang:1.26-bookworm
ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JRE_IMAGE=eclipse-temurin:17-jre-noble
ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---- the proxy: classes and runtime dependencies (proxy/target/classes + proxy/target/lib) ----
FROM ${MAVEN_IMAGE} AS build
WORKDIR /src
COPY pom.xml ./
COPY policy/ policy/
COPY ledger/ ledger/
COPY proxy/ proxy/
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -DskipTests package

# ---- OPA, the pinned version, from the Go module proxy (as scripts/install-tools.sh does) ----
FROM ${GO_IMAGE} AS opa
ARG OPA_VERSION
# Static (CGO off): `opa build -t wasm` and `opa run --server` work; OPA's own wasm *evaluation*
# (wasmtime, cgo) is left out, and Countersign evaluates wasm in the JVM anyway.
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOBIN=/out GOFLAGS=-mod=mod \
    go install -trimpath -ldflags "-s -w" "github.com/open-policy-agent/opa@${OPA_VERSION}" \
 && /out/opa version | grep -qx "Version: ${OPA_VERSION#v}"

# ---- the init image of the chart's iptables redirect (redirect.enabled) ----
FROM ${DEBIAN_IMAGE} AS redirect-init
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
# Runs as root with NET_ADMIN/NET_RAW only in the init container; the chart passes the script.
ENTRYPOINT ["/bin/sh", "-ec"]

# ---- the runtime image (the default target) ----
FROM ${JRE_IMAGE} AS runtime
RUN groupadd --system --gid 10001 countersign \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin countersign \
 && mkdir -p /etc/countersign /var/lib/countersign/ledger \
 && chown 10001:10001 /var/lib/countersign/ledger
COPY --from=build /src/proxy/target/classes /opt/countersign/classes
COPY --from=build /src/proxy/target/lib /opt/countersign/lib
COPY --from=opa /out/opa /usr/local/bin/opa
# The launcher: bin/countersign for the image's layout (keep the JVM flags in step with it and with
# chronicle.jvm.flags in pom.xml). -XX:-UsePerfData: no hsperfdata files, friendly to a read-only root.
COPY --chmod=0755 <<'LAUNCHER' /usr/local/bin/countersign
#!/bin/sh
# Runs the countersign command line (the image's layout of bin/countersign).
set -eu
exec java \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/jdk.internal.util=ALL-UNNAMED \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
  -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true \
  -XX:-UsePerfData -Djava.io.tmpdir=/tmp \
  ${COUNTERSIGN_JAVA_OPTS:-} \
  -cp "/opt/countersign/classes:/opt/countersign/lib/*" io.countersign.proxy.Main "$@"
LAUNCHER
USER 10001:10001
WORKDIR /var/lib/countersign
# The admin port (approvals, health, metrics). The agent port listens on loopback and is not exposed.
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/countersign"]
CMD ["run", "--config", "/etc/countersign/countersign.yaml"]
