package fuzz

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Replay sends each corpus file alone (serially, exact byte accounting) and prints every
// discrepancy: the way to check one reproducer after a fix. Exit status 0 when none is found.
func Replay(repo, engine string, files []string, out io.Writer) int {
	work, err := os.MkdirTemp("", "csfuzz-replay-*")
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	defer os.RemoveAll(work)
	up, err := StartUpstream(1 << 20)
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	defer up.Close()
	px, err := StartProxy(ProxyOptions{Repo: repo, PolicyDir: filepath.Join(repo, "fuzz/policy"), Engine: engine, WorkDir: work, Upstream: up.Addr(), Log: io.Discard})
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	defer px.Stop()
	if err := warmUp(px.AgentAddr, 30*time.Second); err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	h := &Harness{Proxy: px, Upstream: up, UpstreamAuthority: up.Addr(), ResponseTimeout: 3 * time.Second, Serial: true, Patient: true}
	status := 0
	for _, f := range files {
		cf, err := ReadCorpusFile(f)
		if err != nil {
			fmt.Fprintln(out, err)
			status = 2
			continue
		}
		oc := h.Run(Case{Raw: cf.Raw, How: f})
		fmt.Fprintf(out, "%s: statuses %v, forwarded %d, refused %d, %d discrepancies\n", f, oc.Statuses, oc.Forwarded, oc.Refused, len(oc.Discrepancies))
		for _, d := range oc.Discrepancies {
			fmt.Fprintf(out, "  %s\n", d)
			if status == 0 {
				status = 1
			}
		}
	}
	return status
}
