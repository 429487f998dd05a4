package helmtests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "../countersign"
	parentChart = "testdata/parent-chart"
	valuesDir   = "testdata/values"
	agentPort   = 8080
	adminPort   = 9090
)

// manifests is one rendering, parsed strictly into typed objects.
type manifests struct {
	deployments  []*appsv1.Deployment
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	pvcs         []*corev1.PersistentVolumeClaim
	netpols      []*networkingv1.NetworkPolicy
	allNames     []string
	documentKind []string
}

func tool(env, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", ".tools", "bin", name))
	if err != nil {
		panic(err)
	}
	return p
}

// helmTemplate runs `helm template` and returns its standard output, or the error with stderr.
func helmTemplate(chart string, args ...string) (string, error) {
	cmd := exec.Command(tool("HELM", "helm"), append([]string{"template", "rel", chart, "--namespace", "agents"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%v: %s", err, errb.String())
	}
	return out.String(), nil
}

func valuesFile(name string) []string { return []string{"-f", filepath.Join(valuesDir, name)} }

// render renders the chart and parses every document strictly: unknown fields, duplicate keys and
// wrong types fail the test, and so does a kind this test does not know.
func render(t *testing.T, chart string, args ...string) *manifests {
	t.Helper()
	out, err := helmTemplate(chart, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	m := &manifests{}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		var obj metav1.Object
		switch tm.APIVersion + "/" + tm.Kind {
		case "apps/v1/Deployment":
			o := &appsv1.Deployment{}
			strict(t, doc, o)
			m.deployments, obj = append(m.deployments, o), o
		case "v1/Service":
			o := &corev1.Service{}
			strict(t, doc, o)
			m.services, obj = append(m.services, o), o
		case "v1/ConfigMap":
			o := &corev1.ConfigMap{}
			strict(t, doc, o)
			m.configMaps, obj = append(m.configMaps, o), o
		case "v1/PersistentVolumeClaim":
			o := &corev1.PersistentVolumeClaim{}
			strict(t, doc, o)
			m.pvcs, obj = append(m.pvcs, o), o
		case "networking.k8s.io/v1/NetworkPolicy":
			o := &networkingv1.NetworkPolicy{}
			strict(t, doc, o)
			m.netpols, obj = append(m.netpols, o), o
		default:
			t.Fatalf("unexpected kind %s %s:\n%s", tm.APIVersion, tm.Kind, doc)
		}
		m.documentKind = append(m.documentKind, tm.Kind)
		m.allNames = append(m.allNames, obj.GetName())
		for k, v := range obj.GetLabels() {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				t.Errorf("%s: label key %q: %v", obj.GetName(), k, errs)
			}
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Errorf("%s: label %s=%q: %v", obj.GetName(), k, v, errs)
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	return regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")
}

func strict(t *testing.T, doc string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
		t.Fatalf("manifest does not parse strictly as %T: %v\n%s", into, err, doc)
	}
}

func (m *manifests) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	if len(m.deployments) != 1 {
		t.Fatalf("want one Deployment, got %d", len(m.deployments))
	}
	return m.deployments[0]
}

func (m *manifests) configMap(t *testing.T, suffix string) *corev1.ConfigMap {
	t.Helper()
	for _, c := range m.configMaps {
		if strings.HasSuffix(c.Name, "-"+suffix) {
			return c
		}
	}
	t.Fatalf("no ConfigMap *-%s", suffix)
	return nil
}

// proxyConfig is the countersign.yaml the chart renders, decoded into a map.
func (m *manifests) proxyConfig(t *testing.T) map[string]any {
	t.Helper()
	var cfg map[string]any
	if err := yaml.UnmarshalStrict([]byte(m.configMap(t, "config").Data["countersign.yaml"]), &cfg); err != nil {
		t.Fatalf("countersign.yaml: %v", err)
	}
	return cfg
}

func container(t *testing.T, cs []corev1.Container, name string) *corev1.Container {
	t.Helper()
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func hasContainer(cs []corev1.Container, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func volume(t *testing.T, spec corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q", name)
	return corev1.Volume{}
}

func get(cfg map[string]any, path ...string) any {
	var cur any = cfg
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// The scenarios every structural test runs over: defaults and each non-default values file.
var scenarios = map[string][]string{
	"defaults":              nil,
	"embedded-pvc-redirect": valuesFile("embedded-pvc-redirect.yaml"),
	"wasm-existing-claim":   valuesFile("wasm-existing-claim.yaml"),
	"long-names":            valuesFile("long-names.yaml"),
	"policy-changed":        valuesFile("policy-changed.yaml"),
	"mcp-route":             valuesFile("mcp-route.yaml"),
}

func TestDefaultRenderHasTheExpectedObjects(t *testing.T) {
	m := render(t, chartDir)
	want := "ConfigMap ConfigMap Deployment NetworkPolicy Service"
	got := strings.Join(sorted(m.documentKind), " ")
	if got != want {
		t.Fatalf("kinds: got %s, want %s", got, want)
	}
	d := m.deployment(t)
	names := []string{}
	for _, c := range d.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "countersign,opa,agent" {
		t.Errorf("containers: %v", names)
	}
	if ic := d.Spec.Template.Spec.InitContainers; len(ic) != 1 || ic[0].Name != "countersign-redirect" {
		t.Errorf("the redirect init container is on by default, got %+v", ic)
	}
	if d.Spec.Template.Spec.AutomountServiceAccountToken == nil || *d.Spec.Template.Spec.AutomountServiceAccountToken {
		t.Errorf("the example agent must not get a service account token")
	}
}

func TestEveryNameIsAValidDNSLabelOfAtMost63Characters(t *testing.T) {
	for note, args := range scenarios {
		t.Run(note, func(t *testing.T) {
			m := render(t, chartDir, args...)
			for _, n := range m.allNames {
				if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
					t.Errorf("name %q: %v", n, errs)
				}
			}
			for _, d := range m.deployments {
				for _, v := range d.Spec.Template.Spec.Volumes {
					if errs := validation.IsDNS1123Label(v.Name); len(errs) > 0 {
						t.Errorf("volume %q: %v", v.Name, errs)
					}
				}
			}
		})
	}
	m := render(t, chartDir, valuesFile("long-names.yaml")...)
	for _, n := range m.allNames {
		if len(n) != 63 {
			t.Errorf("with a long name, %q should be cut to exactly 63 characters (got %d)", n, len(n))
		}
	}
}

func TestNoServiceExposesTheAgentPort(t *testing.T) {
	for note, args := range scenarios {
		t.Run(note, func(t *testing.T) {
			m := render(t, chartDir, args...)
			for _, s := range m.services {
				for _, p := range s.Spec.Ports {
					if p.Port == agentPort || p.TargetPort.IntValue() == agentPort || p.TargetPort.String() != "cs-admin" {
						t.Errorf("service %s port %+v must target the admin port only", s.Name, p)
					}
				}
			}
			for _, d := range m.deployments {
				for _, c := range d.Spec.Template.Spec.Containers {
					for _, p := range c.Ports {
						if p.ContainerPort == agentPort {
							t.Errorf("container %s declares the agent port", c.Name)
						}
					}
				}
			}
			if got := get(m.proxyConfig(t), "listen", "agent"); got != fmt.Sprintf("127.0.0.1:%d", agentPort) {
				t.Errorf("listen.agent = %v, want loopback", got)
			}
			if got := get(m.proxyConfig(t), "listen", "admin"); got != fmt.Sprintf("0.0.0.0:%d", adminPort) {
				t.Errorf("listen.admin = %v", got)
			}
		})
	}
}

func TestAdminServiceSelectsTheSidecarPods(t *testing.T) {
	m := render(t, chartDir)
	if len(m.services) != 1 {
		t.Fatalf("want one Service, got %d", len(m.services))
	}
	pod := m.deployment(t).Spec.Template.Labels
	for k, v := range m.services[0].Spec.Selector {
		if pod[k] != v {
			t.Errorf("service selector %s=%s does not match the pod labels %v", k, v, pod)
		}
	}
	if m.services[0].Spec.Type != corev1.ServiceTypeClusterIP || m.services[0].Spec.Ports[0].Port != adminPort {
		t.Errorf("service: %+v", m.services[0].Spec)
	}
}

func TestContainersRunRestricted(t *testing.T) {
	for note, args := range scenarios {
		t.Run(note, func(t *testing.T) {
			d := render(t, chartDir, args...).deployment(t)
			spec := d.Spec.Template.Spec
			psc := spec.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.FSGroup == nil || *psc.FSGroup != 10001 ||
				psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod securityContext: %+v", psc)
			}
			for _, c := range spec.Containers {
				sc := c.SecurityContext
				if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
					sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
					sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
					sc.Privileged == nil || *sc.Privileged ||
					sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 ||
					sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("container %s securityContext is not restricted: %+v", c.Name, sc)
				}
			}
			cs := container(t, spec.Containers, "countersign")
			if *cs.SecurityContext.RunAsUser != 10001 {
				t.Errorf("countersign runs as %d", *cs.SecurityContext.RunAsUser)
			}
			mounts := map[string]corev1.VolumeMount{}
			for _, vm := range cs.VolumeMounts {
				mounts[vm.MountPath] = vm
			}
			if tmp, ok := mounts["/tmp"]; !ok || volume(t, spec, tmp.Name).EmptyDir == nil {
				t.Errorf("countersign needs an emptyDir at /tmp (read-only root)")
			}
			if l, ok := mounts["/var/lib/countersign/ledger"]; !ok || l.ReadOnly {
				t.Errorf("the ledger must be mounted writable at /var/lib/countersign/ledger")
			}
			for _, vm := range cs.VolumeMounts {
				if vm.MountPath != "/tmp" && vm.MountPath != "/var/lib/countersign/ledger" && !vm.ReadOnly {
					t.Errorf("mount %s must be read-only", vm.MountPath)
				}
			}
			if cs.Resources.Limits.Memory().IsZero() || cs.Resources.Requests.Cpu().IsZero() {
				t.Errorf("countersign resources: %+v", cs.Resources)
			}
		})
	}
}

func TestProbesUseHealthzAndReadyzOnTheAdminPort(t *testing.T) {
	d := render(t, chartDir).deployment(t)
	cs := container(t, d.Spec.Template.Spec.Containers, "countersign")
	if len(cs.Ports) != 1 || cs.Ports[0].Name != "cs-admin" || cs.Ports[0].ContainerPort != adminPort {
		t.Fatalf("ports: %+v", cs.Ports)
	}
	for name, p := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{
		"startup":   {cs.StartupProbe, "/healthz"},
		"liveness":  {cs.LivenessProbe, "/healthz"},
		"readiness": {cs.ReadinessProbe, "/readyz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "cs-admin" {
			t.Errorf("%s probe: %+v", name, p.probe)
		}
	}
	opa := container(t, d.Spec.Template.Spec.Containers, "opa")
	if opa.ReadinessProbe == nil || opa.ReadinessProbe.HTTPGet.Path != "/health" || opa.ReadinessProbe.HTTPGet.Port.String() != "opa-diag" {
		t.Errorf("opa readiness probe: %+v", opa.ReadinessProbe)
	}
}

func TestOpaRunsAsASidecarByDefault(t *testing.T) {
	m := render(t, chartDir)
	cfg := m.proxyConfig(t)
	if get(cfg, "policy", "engine") != "opa" || get(cfg, "policy", "opa_url") != "http://127.0.0.1:8181" || get(cfg, "policy", "opa_binary") != nil {
		t.Errorf("policy config: %v", cfg["policy"])
	}
	opa := container(t, m.deployment(t).Spec.Template.Spec.Containers, "opa")
	args := strings.Join(opa.Args, " ")
	for _, want := range []string{"--addr=127.0.0.1:8181", "--diagnostic-addr=0.0.0.0:8282", "--authorization=basic /etc/countersign/opa/authz.rego", "/etc/countersign/rego"} {
		if !strings.Contains(args, want) {
			t.Errorf("opa args %q lack %q", args, want)
		}
	}
	if !strings.Contains(m.configMap(t, "config").Data["opa-authz.rego"], "package system.authz") {
		t.Errorf("the OPA authz policy is missing")
	}
}

func TestEmbeddedOpaHasNoSidecarContainer(t *testing.T) {
	m := render(t, chartDir, valuesFile("embedded-pvc-redirect.yaml")...)
	spec := m.deployment(t).Spec.Template.Spec
	if hasContainer(spec.Containers, "opa") {
		t.Errorf("embedded mode must not add an opa container")
	}
	cfg := m.proxyConfig(t)
	if get(cfg, "policy", "opa_url") != nil || get(cfg, "policy", "opa_binary") != "/usr/local/bin/opa" {
		t.Errorf("policy config: %v", cfg["policy"])
	}
	if _, ok := m.configMap(t, "config").Data["opa-authz.rego"]; ok {
		t.Errorf("no OPA authz policy without the OPA sidecar")
	}
}

func TestWasmEngineHasNoOpaContainerAndNoTimeout(t *testing.T) {
	m := render(t, chartDir, valuesFile("wasm-existing-claim.yaml")...)
	if hasContainer(m.deployment(t).Spec.Template.Spec.Containers, "opa") {
		t.Errorf("wasm must not add an opa container")
	}
	cfg := m.proxyConfig(t)
	if get(cfg, "policy", "engine") != "wasm" || get(cfg, "policy", "timeout") != nil || get(cfg, "policy", "opa_binary") != "/usr/local/bin/opa" {
		t.Errorf("policy config: %v", cfg["policy"])
	}
	if len(m.services) != 0 || len(m.netpols) != 0 {
		t.Errorf("service and network policy were turned off")
	}
}

func TestLedgerOnEmptyDirByDefault(t *testing.T) {
	m := render(t, chartDir)
	v := volume(t, m.deployment(t).Spec.Template.Spec, "countersign-ledger")
	if v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.String() != "2Gi" {
		t.Errorf("ledger volume: %+v", v)
	}
	if len(m.pvcs) != 0 {
		t.Errorf("no PVC by default")
	}
	if get(m.proxyConfig(t), "ledger", "dir") != "/var/lib/countersign/ledger" {
		t.Errorf("ledger.dir: %v", get(m.proxyConfig(t), "ledger", "dir"))
	}
}

func TestLedgerOnACreatedPvcRunsOneReplicaWithRecreate(t *testing.T) {
	m := render(t, chartDir, valuesFile("embedded-pvc-redirect.yaml")...)
	if len(m.pvcs) != 1 {
		t.Fatalf("want one PVC, got %d", len(m.pvcs))
	}
	pvc := m.pvcs[0]
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "fast-ssd" ||
		pvc.Spec.Resources.Requests.Storage().String() != "20Gi" || pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("pvc: %+v", pvc)
	}
	d := m.deployment(t)
	v := volume(t, d.Spec.Template.Spec, "countersign-ledger")
	if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Errorf("ledger volume: %+v", v)
	}
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("one writer per ledger: replicas %d strategy %s", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
}

func TestLedgerOnAnExistingClaimCreatesNoPvc(t *testing.T) {
	m := render(t, chartDir, valuesFile("wasm-existing-claim.yaml")...)
	if len(m.pvcs) != 0 {
		t.Errorf("existingClaim must not create a PVC")
	}
	v := volume(t, m.deployment(t).Spec.Template.Spec, "countersign-ledger")
	if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "ledger-claim" {
		t.Errorf("ledger volume: %+v", v)
	}
}

func TestRedirectInitContainerIsOnByDefaultAndOffOnlyWhenDisabled(t *testing.T) {
	off := render(t, chartDir, valuesFile("redirect-off.yaml")...).deployment(t)
	if len(off.Spec.Template.Spec.InitContainers) != 0 {
		t.Errorf("redirect.enabled=false must render no init container, got %d", len(off.Spec.Template.Spec.InitContainers))
	}
	def := render(t, chartDir).deployment(t).Spec.Template.Spec
	if len(def.InitContainers) != 1 || def.InitContainers[0].Name != "countersign-redirect" {
		t.Fatalf("the redirect is on by default: want the init container, got %+v", def.InitContainers)
	}
	if *container(t, def.Containers, "agent").SecurityContext.RunAsUser != 10002 {
		t.Errorf("by default the agent runs as redirect.agentUid 10002")
	}
	d := render(t, chartDir, valuesFile("embedded-pvc-redirect.yaml")...).deployment(t)
	spec := d.Spec.Template.Spec
	if len(spec.InitContainers) != 1 {
		t.Fatalf("want the redirect init container, got %d", len(spec.InitContainers))
	}
	ic := spec.InitContainers[0]
	sc := ic.SecurityContext
	if sc.Capabilities == nil || strings.Join(capNames(sc.Capabilities.Add), ",") != "NET_ADMIN,NET_RAW" ||
		strings.Join(capNames(sc.Capabilities.Drop), ",") != "ALL" || *sc.AllowPrivilegeEscalation || *sc.Privileged || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("init securityContext: %+v", sc)
	}
	env := map[string]string{}
	for _, e := range ic.Env {
		env[e.Name] = e.Value
	}
	if env["AGENT_UID"] != "20000" || env["PROXY_UID"] != "10001" || env["AGENT_PORT"] != "8080" || env["DROP_NON_TCP"] != "true" {
		t.Errorf("init env: %v", env)
	}
	script := strings.Join(ic.Args, "\n")
	for _, want := range []string{
		`-m owner --uid-owner "$PROXY_UID" -j RETURN`,
		`-p tcp -m owner --uid-owner "$AGENT_UID" -j REDIRECT --to-ports "$AGENT_PORT"`,
		`-t nat -A OUTPUT -p tcp -j COUNTERSIGN_OUTPUT`,
		`rules ip6tables`,
		`-t filter -A OUTPUT -m owner --uid-owner "$AGENT_UID" ! -p tcp -j DROP`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("redirect script lacks %q", want)
		}
	}
	agent := container(t, spec.Containers, "agent")
	if *agent.SecurityContext.RunAsUser != 20000 {
		t.Errorf("the agent must run as redirect.agentUid, runs as %d", *agent.SecurityContext.RunAsUser)
	}
	if *container(t, spec.Containers, "countersign").SecurityContext.RunAsUser == 20000 {
		t.Errorf("the proxy must not run as the agent's UID")
	}
}

func capNames(cs []corev1.Capability) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

func TestNetworkPolicyAllowsOnlyUpstreamsAndDns(t *testing.T) {
	m := render(t, chartDir, valuesFile("embedded-pvc-redirect.yaml")...)
	if len(m.netpols) != 1 {
		t.Fatalf("want one NetworkPolicy, got %d", len(m.netpols))
	}
	np := m.netpols[0]
	if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeEgress {
		t.Errorf("policy types: %v", np.Spec.PolicyTypes)
	}
	pod := m.deployment(t).Spec.Template.Labels
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if pod[k] != v {
			t.Errorf("podSelector %s=%s does not select the pod (%v)", k, v, pod)
		}
	}
	if len(np.Spec.Egress) != 3 {
		t.Fatalf("want 2 upstream rules + DNS, got %d", len(np.Spec.Egress))
	}
	first := np.Spec.Egress[0]
	if first.To[0].IPBlock.CIDR != "203.0.113.10/32" || first.Ports[0].Port.IntValue() != 443 || *first.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("first rule: %+v", first)
	}
	second := np.Spec.Egress[1]
	if second.To[0].IPBlock.Except[0] != "198.51.100.128/25" || len(second.Ports) != 2 {
		t.Errorf("second rule: %+v", second)
	}
	dns := np.Spec.Egress[2]
	if dns.To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "kube-system" || len(dns.Ports) != 2 || dns.Ports[0].Port.IntValue() != 53 {
		t.Errorf("dns rule: %+v", dns)
	}
	for _, r := range np.Spec.Egress {
		for _, peer := range r.To {
			if peer.IPBlock == nil && peer.NamespaceSelector == nil {
				t.Errorf("an egress peer without a CIDR or namespace selector allows too much: %+v", peer)
			}
		}
	}
}

func TestNetworkPolicyDefaultAllowsDnsOnly(t *testing.T) {
	np := render(t, chartDir).netpols
	if len(np) != 1 || len(np[0].Spec.Egress) != 1 || np[0].Spec.Egress[0].Ports[0].Port.IntValue() != 53 {
		t.Errorf("default network policy: %+v", np)
	}
}

func TestExampleDeploymentCanBeTurnedOff(t *testing.T) {
	m := render(t, chartDir, valuesFile("no-example.yaml")...)
	if len(m.deployments) != 0 {
		t.Errorf("example.enabled false must render no Deployment")
	}
	if len(m.configMaps) != 2 || len(m.services) != 1 {
		t.Errorf("the ConfigMaps and the admin Service stay for the user's own Deployment")
	}
}

func TestCredentialsReachOnlyTheCountersignContainer(t *testing.T) {
	m := render(t, chartDir, valuesFile("embedded-pvc-redirect.yaml")...)
	spec := m.deployment(t).Spec.Template.Spec
	routes := m.proxyConfig(t)["routes"].([]any)
	crm := routes[0].(map[string]any)["credential"].(map[string]any)
	if crm["from_file"] != "/etc/countersign/credentials/crm/credential" || crm["from_env"] != nil {
		t.Errorf("crm credential: %v", crm)
	}
	billing := routes[1].(map[string]any)["credential"].(map[string]any)
	if billing["from_env"] != "COUNTERSIGN_CREDENTIAL_BILLING" || billing["header"] != "X-Api-Key" {
		t.Errorf("billing credential: %v", billing)
	}
	if _, ok := routes[2].(map[string]any)["credential"]; ok {
		t.Errorf("public_docs has no credential")
	}
	cs := container(t, spec.Containers, "countersign")
	var fileMount *corev1.VolumeMount
	for i, vm := range cs.VolumeMounts {
		if vm.MountPath == "/etc/countersign/credentials/crm" {
			fileMount = &cs.VolumeMounts[i]
		}
	}
	if fileMount == nil {
		t.Fatalf("the crm secret is not mounted")
	}
	sv := volume(t, spec, fileMount.Name).Secret
	if sv == nil || sv.SecretName != "crm-api-token" || sv.Items[0].Key != "token" || sv.Items[0].Path != "credential" {
		t.Errorf("crm secret volume: %+v", sv)
	}
	var envRef *corev1.SecretKeySelector
	for _, e := range cs.Env {
		if e.Name == "COUNTERSIGN_CREDENTIAL_BILLING" {
			envRef = e.ValueFrom.SecretKeyRef
		}
	}
	if envRef == nil || envRef.Name != "billing-api" || envRef.Key != "key" {
		t.Errorf("billing env: %+v", envRef)
	}
	for _, c := range spec.Containers {
		if c.Name == "countersign" {
			continue
		}
		for _, vm := range c.VolumeMounts {
			if v := volume(t, spec, vm.Name); v.Secret != nil {
				t.Errorf("container %s mounts secret %s", c.Name, v.Secret.SecretName)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil {
				t.Errorf("container %s reads env %s from elsewhere", c.Name, e.Name)
			}
		}
	}
	ap := volume(t, spec, "countersign-approvers")
	if ap.Secret == nil || ap.Secret.SecretName != "approver-tokens" {
		t.Errorf("approver tokens volume: %+v", ap)
	}
	if get(m.proxyConfig(t), "approvals", "approvers_file") != "/etc/countersign/approvers/approvers.yaml" {
		t.Errorf("approvals config: %v", m.proxyConfig(t)["approvals"])
	}
	if get(render(t, chartDir).proxyConfig(t), "approvals") != nil {
		t.Errorf("no approvals section without approvals.tokensSecret")
	}
	if get(m.proxyConfig(t), "upstream", "ca_file") != "/etc/countersign/ca/ca.crt" || get(m.proxyConfig(t), "upstream", "connect_timeout") != "PT1S" {
		t.Errorf("upstream config: %v", m.proxyConfig(t)["upstream"])
	}
	if get(m.proxyConfig(t), "limits", "max_body_bytes") != float64(2097152) {
		t.Errorf("limits config: %v", m.proxyConfig(t)["limits"])
	}
}

func TestProxyConfigUsesOnlyKeysTheProxyKnows(t *testing.T) {
	known := map[string][]string{
		"":          {"agent_id", "listen", "limits", "policy", "ledger", "upstream", "routes", "approvals"},
		"approvals": {"approvers_file", "max_pending", "max_held_connections", "default_timeout", "public_url", "notify"},
		"listen":    {"agent", "admin"},
		"limits":    {"max_initial_line_bytes", "max_header_bytes", "max_body_bytes", "request_timeout", "idle_timeout", "max_pipelined"},
		"policy":    {"engine", "opa_url", "opa_binary", "rego_dir", "timeout"},
		"ledger":    {"dir"},
		"upstream":  {"connect_timeout", "response_timeout", "max_response_bytes", "max_connections_per_event_loop", "ca_file"},
	}
	for note, args := range scenarios {
		t.Run(note, func(t *testing.T) {
			cfg := render(t, chartDir, args...).proxyConfig(t)
			for section, keys := range known {
				m := cfg
				if section != "" {
					sub, ok := cfg[section].(map[string]any)
					if !ok {
						continue
					}
					m = sub
				}
				for k := range m {
					if !contains(keys, k) {
						t.Errorf("%s.%s is not a key of the proxy config (docs/configuration.md)", section, k)
					}
				}
			}
			for _, r := range cfg["routes"].([]any) {
				for k := range r.(map[string]any) {
					if !contains([]string{"name", "prefix", "upstream", "credential", "kind"}, k) {
						t.Errorf("routes[].%s is not a route key", k)
					}
				}
			}
		})
	}
}

func TestChecksumAnnotationsFollowPolicyAndConfig(t *testing.T) {
	ann := func(args ...string) map[string]string {
		return render(t, chartDir, args...).deployment(t).Spec.Template.Annotations
	}
	base := ann()
	policy := ann(valuesFile("policy-changed.yaml")...)
	config := ann("--set", "agentId=support-bot")
	for _, k := range []string{"checksum/countersign-config", "checksum/countersign-policy"} {
		if len(base[k]) != 64 {
			t.Fatalf("annotation %s missing: %v", k, base)
		}
	}
	if base["checksum/countersign-policy"] == policy["checksum/countersign-policy"] {
		t.Errorf("a changed policy file must change the policy checksum")
	}
	if base["checksum/countersign-config"] != policy["checksum/countersign-config"] {
		t.Errorf("a changed policy file must not change the config checksum")
	}
	if base["checksum/countersign-config"] == config["checksum/countersign-config"] || base["checksum/countersign-policy"] != config["checksum/countersign-policy"] {
		t.Errorf("a changed agentId must change the config checksum only")
	}
	if again := ann(); again["checksum/countersign-policy"] != base["checksum/countersign-policy"] {
		t.Errorf("rendering is not deterministic")
	}
}

func TestAnMcpRoutesKindReachesTheProxyConfig(t *testing.T) {
	routes := render(t, chartDir, valuesFile("mcp-route.yaml")...).proxyConfig(t)["routes"].([]any)
	if len(routes) != 2 {
		t.Fatalf("routes: %v", routes)
	}
	if _, ok := routes[0].(map[string]any)["kind"]; ok {
		t.Errorf("a route without a kind gets none (the proxy's default, http): %v", routes[0])
	}
	if kind := routes[1].(map[string]any)["kind"]; kind != "mcp" {
		t.Errorf("kind: got %v, want mcp", kind)
	}
}

func TestPoliciesAreMountedFileByFileWithoutTests(t *testing.T) {
	m := render(t, chartDir)
	data := m.configMap(t, "policy").Data
	if _, ok := data["countersign__decision.rego"]; !ok {
		t.Fatalf("the entry point is missing: %v", keys(data))
	}
	for k := range data {
		if strings.HasSuffix(k, "_test.rego") || strings.Contains(k, "schemas") {
			t.Errorf("%s must not be shipped", k)
		}
	}
	spec := m.deployment(t).Spec.Template.Spec
	for _, name := range []string{"countersign", "opa"} {
		mounted := map[string]bool{}
		for _, vm := range container(t, spec.Containers, name).VolumeMounts {
			if vm.Name == "countersign-policy" {
				if vm.SubPath == "" || !vm.ReadOnly || vm.MountPath != "/etc/countersign/rego/"+strings.ReplaceAll(vm.SubPath, "__", "/") {
					t.Errorf("%s: policy mount %+v", name, vm)
				}
				mounted[vm.SubPath] = true
			}
		}
		for k := range data {
			if !mounted[k] {
				t.Errorf("%s: %s is not mounted", name, k)
			}
		}
	}
}

// The policy files, laid out as the pod sees them, must compile with OPA, together with the OPA
// authz policy; and the authz policy must refuse policy writes.
func TestRenderedPoliciesCompileWithOpa(t *testing.T) {
	opa := tool("OPA", "opa")
	if _, err := os.Stat(opa); err != nil {
		t.Skipf("no OPA binary at %s (scripts/install-tools.sh opa)", opa)
	}
	m := render(t, chartDir)
	dir := t.TempDir()
	cms := map[string]*corev1.ConfigMap{}
	spec := m.deployment(t).Spec.Template.Spec
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			for _, c := range m.configMaps {
				if c.Name == v.ConfigMap.Name {
					cms[v.Name] = c
				}
			}
		}
	}
	opaC := container(t, spec.Containers, "opa")
	for _, vm := range opaC.VolumeMounts {
		cm, ok := cms[vm.Name]
		if !ok {
			continue
		}
		p := filepath.Join(dir, vm.MountPath)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(cm.Data[vm.SubPath]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"check", "--strict"}
	for _, a := range opaC.Args {
		if strings.HasPrefix(a, "/etc/countersign") {
			args = append(args, filepath.Join(dir, a))
		}
	}
	if len(args) != 4 {
		t.Fatalf("opa args name the authz file and the policy folder: %v", opaC.Args)
	}
	if out, err := exec.Command(opa, args...).CombinedOutput(); err != nil {
		t.Fatalf("opa %v: %v\n%s", args, err, out)
	}
	authz := filepath.Join(dir, "/etc/countersign/opa/authz.rego")
	for _, c := range []struct{ input, want string }{
		{`{"method":"POST","path":["v1","data","countersign","decision"]}`, "true"},
		{`{"method":"GET","path":["health"]}`, "true"},
		{`{"method":"PUT","path":["v1","policies","evil"]}`, "false"},
		{`{"method":"PUT","path":["v1","data","countersign","catalog"]}`, "false"},
		{`{"method":"POST","path":["v1","query"]}`, "false"},
		{`{"method":"GET","path":["v1","data"]}`, "false"},
	} {
		inputFile := filepath.Join(dir, "input.json")
		if err := os.WriteFile(inputFile, []byte(c.input), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(opa, "eval", "--format", "raw", "-d", authz, "-i", inputFile, "data.system.authz.allow").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != c.want {
			t.Errorf("authz %s: got %s (%v), want %s", c.input, out, err, c.want)
		}
	}
}

func TestParentChartIncludesTheSidecarInItsOwnDeployment(t *testing.T) {
	m := render(t, parentChart)
	if len(m.deployments) != 1 {
		t.Fatalf("want only the user's Deployment, got %d", len(m.deployments))
	}
	d := m.deployments[0]
	spec := d.Spec.Template.Spec
	for _, n := range []string{"countersign", "opa", "agent"} {
		container(t, spec.Containers, n)
	}
	if len(spec.InitContainers) != 1 || spec.InitContainers[0].Name != "countersign-redirect" {
		t.Errorf("init containers: %+v", spec.InitContainers)
	}
	for _, v := range []string{"countersign-config", "countersign-policy", "countersign-ledger", "countersign-tmp"} {
		volume(t, spec, v)
	}
	if d.Spec.Template.Annotations["checksum/countersign-policy"] == "" {
		t.Errorf("checksum annotations missing")
	}
	// The subchart's own objects carry the names the sidecar's volumes and selectors refer to.
	cmNames := map[string]bool{}
	for _, c := range m.configMaps {
		cmNames[c.Name] = true
	}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil && !cmNames[v.ConfigMap.Name] {
			t.Errorf("volume %s refers to ConfigMap %s, which is not rendered", v.Name, v.ConfigMap.Name)
		}
	}
	for _, s := range m.services {
		for k, v := range s.Spec.Selector {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("the admin Service does not select the user's pod: %s=%s", k, v)
			}
		}
	}
}

func TestBadValuesAreRejected(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(valuesDir, "bad", "*.yaml"))
	if err != nil || len(files) < 10 {
		t.Fatalf("bad values files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			content, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first := strings.SplitN(string(content), "\n", 2)[0]
			want, ok := strings.CutPrefix(first, "# expect: ")
			if !ok {
				t.Fatalf("first line must be '# expect: <error text>', is %q", first)
			}
			_, err = helmTemplate(chartDir, "-f", f)
			if err == nil {
				t.Fatalf("rendered, but should fail with %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

func TestHelmLintStrictIsClean(t *testing.T) {
	cmd := exec.Command(tool("HELM", "helm"), "lint", "--strict", chartDir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "0 chart(s) failed") {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "[WARNING]") || strings.HasPrefix(line, "[ERROR]") {
			t.Errorf("lint: %s", line)
		}
	}
}

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func keys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestExtraConfigIsMergedOverTheRenderedConfig(t *testing.T) {
	m := render(t, chartDir, "--set", "extraConfig.policy.watch=true", "--set", "extraConfig.ledger.retain_cycles=90")
	cfg := m.proxyConfig(t)
	if get(cfg, "policy", "watch") != true {
		t.Errorf("policy.watch: %v", get(cfg, "policy", "watch"))
	}
	if fmt.Sprint(get(cfg, "ledger", "retain_cycles")) != "90" {
		t.Errorf("ledger.retain_cycles: %#v", get(cfg, "ledger", "retain_cycles"))
	}
	if get(cfg, "ledger", "dir") != "/var/lib/countersign/ledger" {
		t.Errorf("the chart's own ledger.dir must survive the merge: %v", get(cfg, "ledger", "dir"))
	}
}
