// Command redirect-init renders the chart with `helm template` and writes out the iptables
// redirect init container exactly as a pod would run it: its script (args[0] of
// `/bin/sh -ec`) and its environment, so scripts/egress-test.sh runs the chart's real rules.
//
//	go run ./cmd/redirect-init -helm HELM -chart ../countersign -script OUT.sh -env OUT.env [--set k=v ...]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

type sets []string

func (s *sets) String() string     { return strings.Join(*s, ",") }
func (s *sets) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	helm := flag.String("helm", "helm", "the helm binary")
	chart := flag.String("chart", "../countersign", "the chart folder")
	script := flag.String("script", "", "write the init container's script here")
	env := flag.String("env", "", "write its environment here, as shell assignments")
	var set sets
	flag.Var(&set, "set", "a value for helm template (repeatable)")
	flag.Parse()
	args := []string{"template", "rel", *chart, "--namespace", "agents"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(*helm, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("helm template: %v: %s", err, errb.String()))
	}
	for _, doc := range strings.Split(out.String(), "\n---") {
		if !strings.Contains(doc, "kind: Deployment") {
			continue
		}
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
			fail(fmt.Errorf("a rendered Deployment does not parse: %v", err))
		}
		for _, c := range d.Spec.Template.Spec.InitContainers {
			if c.Name != "countersign-redirect" {
				continue
			}
			if len(c.Command) != 2 || c.Command[0] != "/bin/sh" || c.Command[1] != "-ec" || len(c.Args) != 1 {
				fail(fmt.Errorf("the init container's command is %q %q, not /bin/sh -ec SCRIPT", c.Command, c.Args))
			}
			var e strings.Builder
			for _, v := range c.Env {
				if v.ValueFrom != nil {
					fail(fmt.Errorf("env %s comes from %v; only literal values can be replayed", v.Name, v.ValueFrom))
				}
				fmt.Fprintf(&e, "%s='%s'\n", v.Name, strings.ReplaceAll(v.Value, "'", `'\''`))
			}
			caps := ""
			if c.SecurityContext != nil && c.SecurityContext.Capabilities != nil {
				caps = fmt.Sprint(c.SecurityContext.Capabilities.Add)
			}
			fmt.Fprintf(&e, "REDIRECT_CAPABILITIES='%s'\n", caps)
			write(*script, c.Args[0])
			write(*env, e.String())
			fmt.Printf("redirect-init: %s of Deployment %s (capabilities %s)\n", c.Name, d.Name, caps)
			return
		}
	}
	fail(fmt.Errorf("no Deployment renders the countersign-redirect init container"))
}

func write(path, s string) {
	if path == "" {
		return
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "redirect-init:", err)
	os.Exit(1)
}
