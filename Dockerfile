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
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -DskipTests package \
 && mkdir -p proxy/target/cds && jar --create --file proxy/target/cds/countersign-proxy.jar -C proxy/target/classes .

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
COPY --from=build /src/proxy/target/cds/countersign-proxy.jar /opt/countersign/cds/countersign-proxy.jar
COPY --from=opa /out/opa /usr/local/bin/opa
# The class-data-sharing archive (docs/footprint.md), recorded by a training run of this image's own
# JVM against the jar at its final path: the JVM refuses an archive made by another JVM or for other jars.
COPY scripts/build-cds.sh /tmp/cds/build-cds.sh
COPY rego/ /tmp/cds/rego/
RUN TARGET=/opt/countersign OPA=/usr/local/bin/opa REGO=/tmp/cds/rego TMPDIR=/tmp bash /tmp/cds/build-cds.sh \
 && rm -rf /tmp/cds
# The launcher: bin/countersign for the image's layout (keep the JVM flags in step with it and with
# chronicle.jvm.flags in pom.xml). -XX:-UsePerfData: no hsperfdata files, friendly to a read-only root.
# The memory settings of `run` and the CDS archive: as bin/countersign (docs/footprint.md).
COPY --chmod=0755 <<'LAUNCHER' /usr/local/bin/countersign
#!/bin/sh
# Runs the countersign command line (the image's layout of bin/countersign).
set -eu
memory_opts=""
if [ "${1:-}" = run ]; then
  memory_opts="${COUNTERSIGN_MEMORY_OPTS--XX:+UseSerialGC -Xms24m -Xmx96m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:MaxMetaspaceSize=96m -XX:ReservedCodeCacheSize=48m -XX:MaxDirectMemorySize=64m -XX:TrimNativeHeapInterval=5000}"
  [ -n "${COUNTERSIGN_MEMORY_OPTS+set}" ] || export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
fi
cp="/opt/countersign/classes:/opt/countersign/lib/*"
if [ "${COUNTERSIGN_CDS:-on}" != off ] && [ -f /opt/countersign/cds/countersign.jsa ]; then
  cp="/opt/countersign/cds/countersign-proxy.jar:/opt/countersign/lib/*"
  memory_opts="-XX:SharedArchiveFile=/opt/countersign/cds/countersign.jsa -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off $memory_opts"
fi
# shellcheck disable=SC2086 # the option lists are split on purpose
exec java \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/jdk.internal.util=ALL-UNNAMED \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
  -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true \
  -XX:-UsePerfData -Djava.io.tmpdir=/tmp \
  $memory_opts ${COUNTERSIGN_JAVA_OPTS:-} \
  -cp "$cp" io.countersign.proxy.Main "$@"
LAUNCHER
USER 10001:10001
WORKDIR /var/lib/countersign
# The admin port (approvals, health, metrics). The agent port listens on loopback and is not exposed.
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/countersign"]
CMD ["run", "--config", "/etc/countersign/countersign.yaml"]
