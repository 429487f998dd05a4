package fuzz

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Credential is the secret the fuzz config injects on the billing route, so every check can
// also see that the agent's own credential never passes and the route's always arrives once.
const (
	CredentialHeader = "x-api-key"
	CredentialValue  = "fuzz-route-secret-7f3a"
	MaxBody          = 65536
)

// ProxyOptions says how to start the proxy under test.
type ProxyOptions struct {
	Repo      string // the repository root (bin/countersign, .tools/bin/opa)
	PolicyDir string // the echo policy (fuzz/policy)
	Engine    string // wasm or opa
	WorkDir   string // temporary: config and ledger
	Upstream  string // host:port of the recording upstream
	Log       io.Writer
	// ExtraRoutes is appended to the routes list (YAML list items, indented two spaces), and Env
	// to the proxy's environment (the secrets those routes read).
	ExtraRoutes string
	Env         []string
	// ResponseTimeout is upstream.response_timeout (default PT10S).
	ResponseTimeout string
}

// Proxy is a running `countersign run` child process and its ledger follower.
type Proxy struct {
	cmd       *exec.Cmd
	tail      *exec.Cmd
	AgentAddr string
	LedgerDir string
	Ledger    *Ledger
	stderr    *bytes.Buffer
	mu        sync.Mutex
}

var listening = regexp.MustCompile(`agent port listening on /?([0-9.]+:[0-9]+)`)

// StartProxy writes the fuzz configuration and starts the proxy, waiting (at most 120 s) for its
// "agent port listening" line; then it starts one `ledger tail --follow` for the whole run.
func StartProxy(o ProxyOptions) (*Proxy, error) {
	ledger := filepath.Join(o.WorkDir, "ledger")
	cfg := filepath.Join(o.WorkDir, "countersign.yaml")
	responseTimeout := o.ResponseTimeout
	if responseTimeout == "" {
		responseTimeout = "PT10S"
	}
	// Three routes: a plain one, a longer prefix that must win over it, and one with a base path
	// and a credential. The ledger redacts nothing, so its headers can be compared byte for byte
	// with what the upstream received (the default list would replace x-api-key by "[redacted]").
	yaml := fmt.Sprintf(`agent_id: fuzz-agent
listen: {agent: "127.0.0.1:0", admin: "127.0.0.1:0"}
limits: {max_body_bytes: %d, request_timeout: PT2S, idle_timeout: PT10S, max_pipelined: 8}
policy:
  engine: %s
  opa_binary: %q
  rego_dir: %q
  timeout: PT5S
  cache: {max_entries: 0}
ledger: {dir: %q, redact_headers: [], roll: hourly}
upstream: {connect_timeout: PT2S, response_timeout: %s}
routes:
  - {name: crm, prefix: /crm, upstream: "http://%s"}
  - {name: crm2, prefix: /crm/v2, upstream: "http://%s/base/"}
  - name: billing
    prefix: /billing
    upstream: "http://%s/b"
    credential: {header: X-Api-Key, from_env: FUZZ_ROUTE_TOKEN}
`, MaxBody, o.Engine, filepath.Join(o.Repo, ".tools/bin/opa"), o.PolicyDir, ledger, responseTimeout,
		o.Upstream, o.Upstream, o.Upstream) + o.ExtraRoutes
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		return nil, err
	}
	p := &Proxy{LedgerDir: ledger, stderr: &bytes.Buffer{}}
	p.cmd = exec.Command(filepath.Join(o.Repo, "bin/countersign"), "run", "--config", cfg)
	p.cmd.Env = append(append(os.Environ(), "FUZZ_ROUTE_TOKEN="+CredentialValue), o.Env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = o.Log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if p.stderr.Len() < 1<<20 {
				p.stderr.WriteString(line + "\n")
			}
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case addr := <-ready:
		p.AgentAddr = addr
	case err := <-exited:
		return nil, fmt.Errorf("the proxy exited before listening (%v):\n%s", err, p.Stderr())
	case <-time.After(120 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("the proxy did not listen within 120 s:\n%s", p.Stderr())
	}
	go func() {
		err := <-exited
		if o.Log != nil {
			fmt.Fprintf(o.Log, "proxy exited: %v\n", err)
		}
	}()
	l, tail, err := followLedger(filepath.Join(o.Repo, "bin/countersign"), ledger)
	if err != nil {
		p.Stop()
		return nil, err
	}
	p.Ledger, p.tail = l, tail
	return p, nil
}

// Stderr is what the proxy printed on standard error so far (its JSON log), up to 1 MiB.
func (p *Proxy) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// Stop ends the proxy and the ledger follower (their process groups).
func (p *Proxy) Stop() {
	for _, c := range []*exec.Cmd{p.tail, p.cmd} {
		if c != nil && c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, c := range []*exec.Cmd{p.tail, p.cmd} {
		if c == nil || c.Process == nil {
			continue
		}
		for time.Now().Before(deadline) && syscall.Kill(c.Process.Pid, 0) == nil && !exitedProcess(c) {
			time.Sleep(50 * time.Millisecond)
		}
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}

func exitedProcess(c *exec.Cmd) bool { return c.ProcessState != nil }

// Event is one ledger event, as `ledger tail` prints it.
type Event struct {
	Type       string          `json:"type"`
	ExchangeID string          `json:"exchange_id"`
	Body       json.RawMessage `json:"body"`
	at         time.Time
}

// Ledger collects the events of a `ledger tail --follow` process by exchange id, and indexes
// every exchange.decided by the traceparent it records, so an upstream arrival can be matched to
// the exchange that produced it (Trace) even when no case read that exchange's answer.
type Ledger struct {
	mu     sync.Mutex
	events map[string][]*Event
	traces map[string][]*Traced // traceparent -> the exchanges that recorded it
	byID   map[string]*Traced   // exchange id -> its trace entry, until its last event
	notify chan struct{}
	lines  int64
	err    error
}

// Traced is what the ledger says of one exchange, found by its traceparent.
type Traced struct {
	ID       string
	Decided  json.RawMessage // the exchange.decided body
	Terminal string          // the type of its last event so far ("" while in flight)
	Outcome  string          // exchange.completed/failed outcome
	Claimed  bool            // a case (or the stray resolution) took an upstream arrival for it
	at       time.Time
}

func followLedger(bin, dir string) (*Ledger, *exec.Cmd, error) {
	// The proxy creates the queue at startup; tail exits 2 if the folder is not a ledger yet.
	cmd := exec.Command(bin, "ledger", "tail", "--dir", dir, "--follow")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	l := &Ledger{events: map[string][]*Event{}, traces: map[string][]*Traced{}, byID: map[string]*Traced{},
		notify: make(chan struct{})}
	go func() {
		br := bufio.NewReaderSize(out, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				var e Event
				if jerr := json.Unmarshal(line, &e); jerr == nil && e.ExchangeID != "" {
					e.at = time.Now()
					l.add(&e)
				}
			}
			if err != nil {
				l.mu.Lock()
				l.err = fmt.Errorf("ledger tail ended: %v", err)
				close(l.notify)
				l.notify = make(chan struct{})
				l.mu.Unlock()
				_ = cmd.Wait()
				return
			}
		}
	}()
	return l, cmd, nil
}

// tracedHead is the part of an exchange.decided body the trace index reads.
type tracedHead struct {
	Request struct {
		Headers map[string]string `json:"headers"`
	} `json:"request"`
}

type outcomeOnly struct {
	Outcome string `json:"outcome"`
}

func (l *Ledger) add(e *Event) {
	var tp string
	if e.Type == "exchange.decided" {
		var h tracedHead
		if json.Unmarshal(e.Body, &h) == nil {
			tp = h.Request.Headers["traceparent"]
		}
	}
	var oc outcomeOnly
	if e.Type == "exchange.completed" || e.Type == "exchange.failed" {
		_ = json.Unmarshal(e.Body, &oc)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines++
	if tp != "" {
		t := &Traced{ID: e.ExchangeID, Decided: e.Body, at: e.at}
		l.traces[tp] = append(l.traces[tp], t)
		l.byID[e.ExchangeID] = t
	} else if t, ok := l.byID[e.ExchangeID]; ok {
		t.at = e.at
		switch e.Type {
		case "exchange.completed", "exchange.failed", "exchange.rejected":
			t.Terminal, t.Outcome = e.Type, oc.Outcome
			delete(l.byID, e.ExchangeID)
		}
	}
	l.events[e.ExchangeID] = append(l.events[e.ExchangeID], e)
	close(l.notify)
	l.notify = make(chan struct{})
}

// Lines is the number of exchange events read so far.
func (l *Ledger) Lines() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines
}

// Wait returns the events of an exchange once done says they are complete, or what is there at
// the deadline; it removes them from memory.
func (l *Ledger) Wait(id string, deadline time.Time, done func([]*Event) bool) ([]*Event, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		l.mu.Lock()
		evs := l.events[id]
		if done(evs) {
			delete(l.events, id)
			l.mu.Unlock()
			return evs, nil
		}
		if l.err != nil {
			err := l.err
			l.mu.Unlock()
			return evs, err
		}
		wake := l.notify
		l.mu.Unlock()
		select {
		case <-wake:
		case <-timer.C:
			l.mu.Lock()
			delete(l.events, id)
			l.mu.Unlock()
			return evs, errors.New("timed out waiting for the ledger")
		}
	}
}

// Method is the method of an exchange as the ledger records it (exchange.decided's request, or
// exchange.rejected's), waiting for it until the deadline; the events stay for Wait.
func (l *Ledger) Method(id string, deadline time.Time) (string, bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		l.mu.Lock()
		for _, e := range l.events[id] {
			var m struct {
				Method  string `json:"method"`
				Request struct {
					Method string `json:"method"`
				} `json:"request"`
			}
			switch e.Type {
			case "exchange.decided", "exchange.rejected":
				if json.Unmarshal(e.Body, &m) == nil {
					l.mu.Unlock()
					if m.Request.Method != "" {
						return m.Request.Method, true
					}
					return m.Method, m.Method != ""
				}
			}
		}
		wake := l.notify
		l.mu.Unlock()
		select {
		case <-wake:
		case <-timer.C:
			return "", false
		}
	}
}

// Prune forgets events older than age (exchanges no answer named, e.g. a closed connection),
// and trace entries older than traceAge.
func (l *Ledger) Prune(age, traceAge time.Duration) {
	cut := time.Now().Add(-age)
	tcut := time.Now().Add(-traceAge)
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, evs := range l.events {
		if evs[len(evs)-1].at.Before(cut) {
			delete(l.events, id)
		}
	}
	for tp, ts := range l.traces {
		keep := ts[:0]
		for _, t := range ts {
			if t.at.After(tcut) {
				keep = append(keep, t)
			} else if l.byID[t.ID] == t {
				delete(l.byID, t.ID)
			}
		}
		if len(keep) == 0 {
			delete(l.traces, tp)
		} else {
			l.traces[tp] = keep
		}
	}
}

// Trace returns (copies of) the exchanges that recorded this traceparent in exchange.decided.
func (l *Ledger) Trace(tp string) []Traced {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Traced
	for _, t := range l.traces[tp] {
		out = append(out, *t)
	}
	return out
}

// MarkClaimed notes that an upstream arrival was matched to this exchange.
func (l *Ledger) MarkClaimed(tp, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.traces[tp] {
		if t.ID == id {
			t.Claimed = true
		}
	}
}

// Terminal reports whether an exchange's events include its last one: rejected (refused by the
// canonicalizer), completed (forwarded or answered) or failed.
func Terminal(evs []*Event) bool {
	for _, e := range evs {
		switch e.Type {
		case "exchange.rejected", "exchange.completed", "exchange.failed":
			return true
		}
	}
	return false
}
