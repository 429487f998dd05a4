{{/*
Names, labels, images and the rendered data of the ConfigMaps. Every named template takes the
chart's root context (in a parent chart: .Subcharts.countersign) and never uses .Template, so a
parent chart can call them.
*/}}

{{/* The chart name, cut to 63 characters. */}}
{{- define "countersign.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name: release + chart, cut to 63 characters (a DNS label). */}}
{{- define "countersign.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The full name plus a suffix, the full name cut so that the whole stays within 63 characters.
Call with (list . "suffix"). */}}
{{- define "countersign.suffixed" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $base := include "countersign.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base $suffix }}
{{- end }}

{{- define "countersign.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every resource carries. */}}
{{- define "countersign.labels" -}}
helm.sh/chart: {{ include "countersign.chart" . }}
{{ include "countersign.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "countersign.selectorLabels" -}}
app.kubernetes.io/name: {{ include "countersign.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The label that marks a pod carrying this release's sidecar: the admin Service and the
NetworkPolicy select on it. Include it in your pod template's labels. */}}
{{- define "countersign.sidecar.podLabels" -}}
countersign.io/sidecar: {{ include "countersign.fullname" . }}
{{- end }}

{{- define "countersign.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "countersign.opaImage" -}}
{{- if .Values.policy.opa.image.repository }}
{{- printf "%s:%s" .Values.policy.opa.image.repository (default .Chart.AppVersion .Values.policy.opa.image.tag) }}
{{- else }}
{{- include "countersign.image" . }}
{{- end }}
{{- end }}

{{- define "countersign.redirectImage" -}}
{{- printf "%s:%s" .Values.redirect.image.repository (default .Chart.AppVersion .Values.redirect.image.tag) }}
{{- end }}

{{/* "true" when OPA runs as a sidecar container. */}}
{{- define "countersign.opaSidecar" -}}
{{- if and (eq .Values.policy.engine "opa") (eq .Values.policy.opa.mode "sidecar") }}true{{ end }}
{{- end }}

{{/* Fixed paths inside the countersign (and OPA) containers. */}}
{{- define "countersign.path.config" -}}/etc/countersign/countersign.yaml{{- end }}
{{- define "countersign.path.rego" -}}/etc/countersign/rego{{- end }}
{{- define "countersign.path.opaAuthz" -}}/etc/countersign/opa/authz.rego{{- end }}
{{- define "countersign.path.credentials" -}}/etc/countersign/credentials{{- end }}
{{- define "countersign.path.ca" -}}/etc/countersign/ca/ca.crt{{- end }}
{{- define "countersign.path.ledger" -}}/var/lib/countersign/ledger{{- end }}
{{- define "countersign.path.opaBinary" -}}/usr/local/bin/opa{{- end }}

{{/* The environment variable a route's env credential is passed in. */}}
{{- define "countersign.credentialEnv" -}}
{{- printf "COUNTERSIGN_CREDENTIAL_%s" (. | upper | replace "-" "_") }}
{{- end }}

{{/* The proxy's configuration file (countersign.yaml), rendered from values. */}}
{{- define "countersign.configYaml" -}}
{{- $v := .Values }}
{{- $policy := dict "engine" $v.policy.engine "rego_dir" (include "countersign.path.rego" .) }}
{{- if eq $v.policy.engine "opa" }}
{{- $_ := set $policy "timeout" $v.policy.timeout }}
{{- end }}
{{- if include "countersign.opaSidecar" . }}
{{- $_ := set $policy "opa_url" (printf "http://127.0.0.1:%d" (int $v.policy.opa.port)) }}
{{- else }}
{{- $_ := set $policy "opa_binary" (include "countersign.path.opaBinary" .) }}
{{- end }}
{{- $upstream := deepCopy $v.upstream }}
{{- if $v.upstreamCA.configMapName }}
{{- $_ := set $upstream "ca_file" (include "countersign.path.ca" .) }}
{{- end }}
{{- $routes := list }}
{{- range $v.routes }}
{{- $r := dict "name" .name "prefix" .prefix "upstream" .upstream }}
{{- if hasKey . "kind" }}{{ $_ := set $r "kind" .kind }}{{ end }}
{{- with .credential }}
{{- $c := dict }}
{{- if hasKey . "header" }}{{ $_ := set $c "header" .header }}{{ end }}
{{- if hasKey . "valuePrefix" }}{{ $_ := set $c "value_prefix" .valuePrefix }}{{ end }}
{{- if eq .mountAs "env" }}
{{- $_ := set $c "from_env" (include "countersign.credentialEnv" $r.name) }}
{{- else }}
{{- $_ := set $c "from_file" (printf "%s/%s/credential" (include "countersign.path.credentials" $) $r.name) }}
{{- end }}
{{- $_ := set $r "credential" $c }}
{{- end }}
{{- $routes = append $routes $r }}
{{- end }}
{{- $cfg := dict
  "agent_id" $v.agentId
  "listen" (dict "agent" (printf "127.0.0.1:%d" (int $v.proxy.agentPort)) "admin" (printf "0.0.0.0:%d" (int $v.proxy.adminPort)))
  "policy" $policy
  "ledger" (dict "dir" (include "countersign.path.ledger" .))
  "routes" $routes }}
{{- if $v.limits }}{{ $_ := set $cfg "limits" $v.limits }}{{ end }}
{{- if $upstream }}{{ $_ := set $cfg "upstream" $upstream }}{{ end }}
{{- if $v.approvals.tokensSecret }}
{{- $_ := set $cfg "approvals" (dict "approvers_file" (printf "%s/%s" $v.approvals.mountPath $v.approvals.tokensKey)) }}
{{- end }}
{{- /* extraConfig: any other key of the proxy config (the proxy validates it strictly at start) */}}
{{- if $v.extraConfig }}{{ $cfg = mergeOverwrite $cfg (deepCopy $v.extraConfig) }}{{ end }}
{{- printf "# Rendered by the countersign Helm chart from its values; reference: docs/configuration.md.\n" }}
{{- toYaml $cfg }}
{{- end }}

{{/* OPA's own authorization policy: its API answers only the decision query and health. */}}
{{- define "countersign.opaAuthzRego" -}}
# Rendered by the countersign Helm chart: OPA's API serves only the decision query and health, so no
# other container of the pod can replace policies or data.
package system.authz

default allow := false

allow if {
	input.method == "POST"
	input.path == ["v1", "data", "countersign", "decision"]
}

allow if {
	input.method == "GET"
	input.path in [["health"], ["metrics"]]
}
{{- end }}

{{/* The data of the config ConfigMap (YAML mapping). */}}
{{- define "countersign.configData" -}}
countersign.yaml: |
{{ include "countersign.configYaml" . | indent 2 }}
{{- if include "countersign.opaSidecar" . }}
{{- if .Values.policy.opa.authz }}
opa-authz.rego: |
{{ include "countersign.opaAuthzRego" . | indent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/* The policy files: a dict path -> content, from the chart's files/policies (without tests and
schemas) and policy.files, which wins. */}}
{{- define "countersign.policyFiles" -}}
{{- $files := dict }}
{{- if .Values.policy.chartFiles }}
{{- range $path, $_ := .Files.Glob "files/policies/**" }}
{{- $rel := trimPrefix "files/policies/" $path }}
{{- $base := base $rel }}
{{- if or (and (hasSuffix ".rego" $base) (not (hasSuffix "_test.rego" $base))) (has $base (list "data.json" "data.yaml" "data.yml")) }}
{{- $_ := set $files $rel ($.Files.Get $path) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $rel, $content := .Values.policy.files }}
{{- $_ := set $files $rel $content }}
{{- end }}
{{- toYaml $files }}
{{- end }}

{{/* The ConfigMap key of a policy path (keys cannot hold "/"). */}}
{{- define "countersign.policyKey" -}}
{{- . | replace "/" "__" }}
{{- end }}

{{/* The data of the policy ConfigMap (YAML mapping key -> content). */}}
{{- define "countersign.policyData" -}}
{{- $files := include "countersign.policyFiles" . | fromYaml }}
{{- if not $files }}
{{- fail "no policy files: set policy.chartFiles true or give policy.files (without a policy every request is denied)" }}
{{- end }}
{{- $data := dict }}
{{- range $rel, $content := $files }}
{{- $key := include "countersign.policyKey" $rel }}
{{- if hasKey $data $key }}
{{- fail (printf "policy.files: %s and another path map to the same ConfigMap key %s; rename one" $rel $key) }}
{{- end }}
{{- $_ := set $data $key $content }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* Checks that cannot be written in values.schema.json. */}}
{{- define "countersign.validate" -}}
{{- if and .Values.redirect.enabled (eq (int .Values.redirect.agentUid) (int .Values.proxy.uid)) }}
{{- fail "redirect.agentUid must differ from proxy.uid: the redirect tells the agent from the proxy by UID" }}
{{- end }}
{{- if eq (int .Values.proxy.agentPort) (int .Values.proxy.adminPort) }}
{{- fail "proxy.agentPort and proxy.adminPort must differ" }}
{{- end }}
{{- if and (include "countersign.opaSidecar" .) (has (int .Values.policy.opa.port) (list (int .Values.proxy.agentPort) (int .Values.proxy.adminPort))) }}
{{- fail "policy.opa.port must differ from proxy.agentPort and proxy.adminPort" }}
{{- end }}
{{- $names := dict }}
{{- $prefixes := dict }}
{{- $envs := dict }}
{{- range .Values.routes }}
{{- $env := include "countersign.credentialEnv" .name }}
{{- if hasKey $envs $env }}{{ fail (printf "routes: the names %s and %s give the same credential variable %s; rename one" (get $envs $env) .name $env) }}{{ end }}
{{- $_ := set $envs $env .name }}
{{- if hasKey $names .name }}{{ fail (printf "routes: the name %s is used twice" .name) }}{{ end }}
{{- if regexMatch "(^|/)\\.\\.?(/|$)" .prefix }}{{ fail (printf "routes: the prefix %s has a . or .. segment; use plain path segments" .prefix) }}{{ end }}
{{- if hasKey $prefixes .prefix }}{{ fail (printf "routes: the prefix %s is used twice" .prefix) }}{{ end }}
{{- $_ := set $names .name true }}
{{- $_ := set $prefixes .prefix true }}
{{- end }}
{{- end }}
