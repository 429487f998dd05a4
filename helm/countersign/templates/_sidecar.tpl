{{/*
The reusable sidecar. Include these in your own pod template (docs/helm.md shows a whole Deployment):

  metadata:
    labels:      {{ include "countersign.sidecar.podLabels" . | nindent 8 }}
    annotations: {{ include "countersign.sidecar.podAnnotations" . | nindent 8 }}
  spec:
    securityContext: {{ include "countersign.sidecar.podSecurityContext" . | nindent 8 }}
    initContainers:  {{ include "countersign.sidecar.initContainers" . | nindent 8 }}   # may be empty
    containers:
      {{ include "countersign.sidecar.containers" . | nindent 8 }}
      - name: agent ...      # runAsUser: redirect.agentUid when the redirect is on
    volumes:
      {{ include "countersign.sidecar.volumes" . | nindent 8 }}

In a parent chart that depends on this one, pass .Subcharts.countersign instead of ".".
*/}}

{{/* Checksums of the config and policies: the pods restart when either changes. */}}
{{- define "countersign.sidecar.podAnnotations" -}}
checksum/countersign-config: {{ include "countersign.configData" . | sha256sum }}
checksum/countersign-policy: {{ include "countersign.policyData" . | sha256sum }}
{{- end }}

{{/* The pod-level securityContext the sidecar needs (fsGroup makes the ledger volume writable). */}}
{{- define "countersign.sidecar.podSecurityContext" -}}
runAsNonRoot: true
fsGroup: {{ .Values.proxy.uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The restricted container securityContext (countersign and OPA). */}}
{{- define "countersign.restrictedSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.proxy.uid }}
runAsGroup: {{ .Values.proxy.uid }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The policy files, each mounted by subPath (a plain folder: no ConfigMap "..data" links, which
OPA would load twice and the policy revision would hash under a per-pod timestamped name). */}}
{{- define "countersign.policyMounts" -}}
{{- $files := include "countersign.policyFiles" . | fromYaml }}
{{- range $rel, $_ := $files }}
- name: countersign-policy
  mountPath: {{ printf "%s/%s" (include "countersign.path.rego" $) $rel }}
  subPath: {{ include "countersign.policyKey" $rel }}
  readOnly: true
{{- end }}
{{- end }}

{{/* The init container that redirects the agent UID's outbound TCP to the agent port (empty list
when redirect.enabled is false). */}}
{{- define "countersign.sidecar.initContainers" -}}
{{- include "countersign.validate" . -}}
{{- if .Values.redirect.enabled }}
- name: countersign-redirect
  image: {{ include "countersign.redirectImage" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["/bin/sh", "-ec"]
  args:
    - |
      # Outbound TCP of the agent's UID goes to the proxy's agent port; the proxy's own UID (and
      # every other UID) is untouched. IPv4 and, when the pod has it, IPv6; any failure stops the pod.
      rules() {
        t="$1"
        $t -t nat -N COUNTERSIGN_OUTPUT
        $t -t nat -A COUNTERSIGN_OUTPUT -m owner --uid-owner "$PROXY_UID" -j RETURN
        $t -t nat -A COUNTERSIGN_OUTPUT -p tcp -m owner --uid-owner "$AGENT_UID" -j REDIRECT --to-ports "$AGENT_PORT"
        $t -t nat -A OUTPUT -p tcp -j COUNTERSIGN_OUTPUT
        if [ "$DROP_NON_TCP" = "true" ]; then
          $t -t filter -A OUTPUT -m owner --uid-owner "$AGENT_UID" ! -p tcp -j DROP
        fi
      }
      rules iptables
      if [ -e /proc/net/if_inet6 ]; then rules ip6tables; fi
      iptables-save -t nat; iptables-save -t filter
  env:
    - name: AGENT_UID
      value: {{ .Values.redirect.agentUid | quote }}
    - name: PROXY_UID
      value: {{ .Values.proxy.uid | quote }}
    - name: AGENT_PORT
      value: {{ .Values.proxy.agentPort | quote }}
    - name: DROP_NON_TCP
      value: {{ .Values.redirect.dropNonTcp | quote }}
  resources:
    {{- toYaml .Values.redirect.resources | nindent 4 }}
  securityContext:
    runAsNonRoot: false
    runAsUser: 0
    runAsGroup: 0
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    privileged: false
    capabilities:
      drop: ["ALL"]
      add: ["NET_ADMIN", "NET_RAW"]
    seccompProfile:
      type: RuntimeDefault
{{- end }}
{{- end }}

{{/* The countersign container, and the OPA container in sidecar mode. */}}
{{- define "countersign.sidecar.containers" -}}
{{- include "countersign.validate" . -}}
- name: countersign
  image: {{ include "countersign.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["run", "--config", {{ include "countersign.path.config" . | quote }}]
  env:
    - name: COUNTERSIGN_JAVA_OPTS
      value: {{ .Values.proxy.javaOpts | quote }}
    {{- range .Values.routes }}
    {{- if and .credential (eq .credential.mountAs "env") }}
    - name: {{ include "countersign.credentialEnv" .name }}
      valueFrom:
        secretKeyRef:
          name: {{ .credential.secretName }}
          key: {{ .credential.secretKey }}
    {{- end }}
    {{- end }}
  ports:
    - name: cs-admin
      containerPort: {{ .Values.proxy.adminPort }}
      protocol: TCP
  startupProbe:
    httpGet:
      path: /healthz
      port: cs-admin
    {{- toYaml .Values.proxy.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: cs-admin
    {{- toYaml .Values.proxy.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: cs-admin
    {{- toYaml .Values.proxy.probes.readiness | nindent 4 }}
  resources:
    {{- toYaml .Values.proxy.resources | nindent 4 }}
  securityContext:
    {{- include "countersign.restrictedSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: countersign-config
      mountPath: {{ include "countersign.path.config" . }}
      subPath: countersign.yaml
      readOnly: true
    {{- include "countersign.policyMounts" . | trim | nindent 4 }}
    - name: countersign-ledger
      mountPath: {{ include "countersign.path.ledger" . }}
    - name: countersign-tmp
      mountPath: /tmp
    {{- range $i, $r := .Values.routes }}
    {{- if and $r.credential (ne $r.credential.mountAs "env") }}
    - name: {{ printf "countersign-cred-%d" $i }}
      mountPath: {{ printf "%s/%s" (include "countersign.path.credentials" $) $r.name }}
      readOnly: true
    {{- end }}
    {{- end }}
    {{- if .Values.approvals.tokensSecret }}
    - name: countersign-approvers
      mountPath: {{ .Values.approvals.mountPath }}
      readOnly: true
    {{- end }}
    {{- if .Values.upstreamCA.configMapName }}
    - name: countersign-ca
      mountPath: {{ include "countersign.path.ca" . }}
      subPath: {{ .Values.upstreamCA.key }}
      readOnly: true
    {{- end }}
{{- if include "countersign.opaSidecar" . }}
- name: opa
  image: {{ include "countersign.opaImage" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    {{- toYaml .Values.policy.opa.command | nindent 4 }}
  args:
    - run
    - --server
    - {{ printf "--addr=127.0.0.1:%d" (int .Values.policy.opa.port) }}
    - {{ printf "--diagnostic-addr=0.0.0.0:%d" (int .Values.policy.opa.diagnosticPort) }}
    - --skip-version-check
    - {{ printf "--log-level=%s" .Values.policy.opa.logLevel }}
    {{- if .Values.policy.opa.authz }}
    - --authorization=basic
    - {{ include "countersign.path.opaAuthz" . }}
    {{- end }}
    - {{ include "countersign.path.rego" . }}
  ports:
    - name: opa-diag
      containerPort: {{ .Values.policy.opa.diagnosticPort }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /health
      port: opa-diag
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /health
      port: opa-diag
    periodSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 2
  resources:
    {{- toYaml .Values.policy.opa.resources | nindent 4 }}
  securityContext:
    {{- include "countersign.restrictedSecurityContext" . | nindent 4 }}
  volumeMounts:
    {{- include "countersign.policyMounts" . | trim | nindent 4 }}
    {{- if .Values.policy.opa.authz }}
    - name: countersign-config
      mountPath: {{ include "countersign.path.opaAuthz" . }}
      subPath: opa-authz.rego
      readOnly: true
    {{- end }}
    - name: countersign-tmp
      mountPath: /tmp
{{- end }}
{{- end }}

{{/* The sidecar's volumes. */}}
{{- define "countersign.sidecar.volumes" -}}
- name: countersign-config
  configMap:
    name: {{ include "countersign.suffixed" (list . "config") }}
- name: countersign-policy
  configMap:
    name: {{ include "countersign.suffixed" (list . "policy") }}
- name: countersign-ledger
  {{- if eq .Values.ledger.volume "persistentVolumeClaim" }}
  persistentVolumeClaim:
    claimName: {{ default (include "countersign.suffixed" (list . "ledger")) .Values.ledger.persistentVolumeClaim.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .Values.ledger.emptyDir.sizeLimit }}
  {{- end }}
- name: countersign-tmp
  emptyDir:
    sizeLimit: 256Mi
{{- range $i, $r := .Values.routes }}
{{- if and $r.credential (ne $r.credential.mountAs "env") }}
- name: {{ printf "countersign-cred-%d" $i }}
  secret:
    secretName: {{ $r.credential.secretName }}
    defaultMode: 0440
    items:
      - key: {{ $r.credential.secretKey }}
        path: credential
{{- end }}
{{- end }}
{{- if .Values.approvals.tokensSecret }}
- name: countersign-approvers
  secret:
    secretName: {{ .Values.approvals.tokensSecret }}
    defaultMode: 0440
{{- end }}
{{- if .Values.upstreamCA.configMapName }}
- name: countersign-ca
  configMap:
    name: {{ .Values.upstreamCA.configMapName }}
{{- end }}
{{- end }}
