package fuzz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HostileUpstream reads each request the proxy forwards with Go's parser and answers it with the
// mutated answer of the case its target names (BuildAnswer); other requests (the warm-up) get a
// plain 200. It keeps what it sent per case, for the checks.
type HostileUpstream struct {
	ln    net.Listener
	seed  uint64
	mu    sync.Mutex
	sent  map[int]HostileAnswer
	conns atomic.Int64
	wg    sync.WaitGroup
}

// StartHostileUpstream listens on 127.0.0.1:0.
func StartHostileUpstream(seed uint64) (*HostileUpstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &HostileUpstream{ln: ln, seed: seed, sent: map[int]HostileAnswer{}}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.conns.Add(1)
			u.wg.Add(1)
			go u.serve(c)
		}
	}()
	return u, nil
}

// Addr is host:port of the listener.
func (u *HostileUpstream) Addr() string { return u.ln.Addr().String() }

// Close stops the listener (open connections end with the proxy).
func (u *HostileUpstream) Close() { u.ln.Close() }

// Sent takes what was sent for case i.
func (u *HostileUpstream) Sent(i int) (HostileAnswer, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, ok := u.sent[i]
	delete(u.sent, i)
	return a, ok
}

func (u *HostileUpstream) serve(c net.Conn) {
	defer u.wg.Done()
	defer c.Close()
	s := NewStream(c, 1<<20)
	for {
		p, err := s.Next()
		if err != nil {
			return
		}
		i := answerIndex(p.RequestURI)
		if i < 0 {
			resp := okResponse
			if p.Method == "HEAD" {
				resp = okHeadResponse
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
			continue
		}
		a := BuildAnswer(u.seed, i, p)
		u.mu.Lock()
		u.sent[i] = a
		u.mu.Unlock()
		if _, err := c.Write(a.Raw); err != nil || a.CloseAfter {
			return
		}
	}
}

// AnswerOptions of an answer-side run.
type AnswerOptions struct {
	Repo, Engine string
	Seed         uint64
	Cases        int
	MaxDuration  time.Duration
	Concurrency  int
	OpenFile     string
	Out          io.Writer
}

// AnswerReport is the result of an answer-side run.
type AnswerReport struct {
	Cases, Completed, Errored, Streamed, Interrupted int
	FailedBy                                         map[string]int // exchange.failed error codes
	Scrubbed                                         int            // answers marked X-Countersign-Scrubbed
	StricterThanGo                                   int            // Go reads the upstream's answer, the proxy refused it (502)
	StricterWhy                                      map[string]int // ... by the kind of the proxy's reason
	CredentialHits                                   int
	Elapsed                                          time.Duration
	ByClass                                          map[string]int
	Examples                                         map[string]answerExample
	Open                                             map[string]string
}

type answerExample struct {
	req  AnswerRequest
	sent HostileAnswer
	d    Discrepancy
}

// Failed lists the classes outside the open list.
func (r *AnswerReport) Failed() []string {
	var out []string
	for id := range r.Examples {
		if !r.isOpen(id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// isOpen: the open list names the class ("answers:CLASS") or a prefix of class/key
// ("answers:credential_to_agent/status-line").
func (r *AnswerReport) isOpen(id string) bool {
	for k := range r.Open {
		if p, ok := strings.CutPrefix(k, "answers:"); ok && (id == p || strings.HasPrefix(id, p+"/")) {
			return true
		}
	}
	return false
}

func (r *AnswerReport) openWhy(id string) (string, bool) {
	for k, why := range r.Open {
		if p, ok := strings.CutPrefix(k, "answers:"); ok && (id == p || strings.HasPrefix(id, p+"/")) {
			return why, true
		}
	}
	return "", false
}

// RunAnswers starts the hostile upstream and the proxy and checks every answer (issue 19).
func RunAnswers(o AnswerOptions) (*AnswerReport, error) {
	out := o.Out
	open, err := ReadOpen(o.OpenFile)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "csfuzz-answers-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	up, err := StartHostileUpstream(o.Seed)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	logf, _ := os.Create(filepath.Join(work, "proxy.log"))
	defer logf.Close()
	t0 := time.Now()
	px, err := StartProxy(ProxyOptions{Repo: o.Repo, PolicyDir: filepath.Join(o.Repo, "fuzz/policy"), Engine: o.Engine,
		WorkDir: work, Upstream: up.Addr(), Log: logf, ExtraRoutes: fmt.Sprintf(answerRoutes, up.Addr()),
		Env: []string{"FUZZ_ANSWER_TOKEN=" + AnswerToken}, ResponseTimeout: "PT1S"})
	if err != nil {
		return nil, err
	}
	defer px.Stop()
	fmt.Fprintf(out, "csfuzz answers: proxy (engine %s) on %s after %.1fs, hostile upstream %s, seed %d\n",
		o.Engine, px.AgentAddr, time.Since(t0).Seconds(), up.Addr(), o.Seed)
	if err := warmUp(px.AgentAddr, 30*time.Second); err != nil {
		return nil, err
	}
	rep := &AnswerReport{FailedBy: map[string]int{}, StricterWhy: map[string]int{}, ByClass: map[string]int{}, Examples: map[string]answerExample{}, Open: open}
	forms := CredentialForms()
	var mu sync.Mutex
	record := func(res answerResult) {
		mu.Lock()
		defer mu.Unlock()
		rep.Cases++
		switch res.outcome {
		case "completed":
			rep.Completed++
		case "failed":
			rep.Errored++
			rep.FailedBy[res.failure]++
		}
		if res.streamed {
			rep.Streamed++
		}
		if res.interrupted {
			rep.Interrupted++
		}
		if res.scrubbed {
			rep.Scrubbed++
		}
		if res.stricter {
			rep.StricterThanGo++
			rep.StricterWhy[res.stricterWhy]++
		}
		for _, d := range res.discrepancies {
			if d.Class == "credential_to_agent" {
				rep.CredentialHits++
			}
			rep.ByClass[d.Class]++
			if _, ok := rep.Examples[d.ID()]; !ok {
				rep.Examples[d.ID()] = answerExample{res.req, res.sent, d}
				tag := "NEW"
				if rep.isOpen(d.ID()) {
					tag = "open"
				}
				fmt.Fprintf(out, "csfuzz answers: found %s (%s) in case %d (%s %s; upstream: %s): %s\n", d.ID(), tag, res.req.Index,
					res.req.Method, res.req.Route, strings.Join(res.sent.How, ", "), d.Detail)
				fmt.Fprintf(out, "csfuzz answers:   upstream sent: %s\n", strings.ReplaceAll(clip([]byte(Escape(res.sent.Raw))), "\n", ""))
			}
		}
	}
	h := &answerHarness{px: px, up: up, forms: forms}
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, o.Concurrency); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				record(h.run(MakeAnswerRequest(o.Seed, i)))
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			px.Ledger.Prune(60*time.Second, 10*time.Second)
			mu.Lock()
			n, classes := rep.Cases, len(rep.ByClass)
			mu.Unlock()
			fmt.Fprintf(out, "csfuzz answers: %d/%d answers, %.0f/s, %d discrepancy classes so far\n", n, o.Cases, float64(n)/time.Since(start).Seconds(), classes)
		}
	}()
	for i := 0; i < o.Cases; i++ {
		if o.MaxDuration > 0 && time.Since(start) > o.MaxDuration {
			fmt.Fprintf(out, "csfuzz answers: time limit %s reached after %d answers\n", o.MaxDuration, i)
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(done)
	rep.Elapsed = time.Since(start)
	if s := px.Stderr(); strings.Contains(s, "OutOfMemoryError") || strings.Contains(s, "\"level\":\"ERROR\"") {
		fmt.Fprintf(out, "csfuzz answers: the proxy logged errors (first lines):\n%s\n", firstMatching(s, "\"level\":\"ERROR\"", 5))
	}
	return rep, nil
}

// Print writes the report.
func (r *AnswerReport) Print(w io.Writer) {
	defer func() {
		for k := range r.Open {
			p, ok := strings.CutPrefix(k, "answers:")
			if !ok {
				continue
			}
			seen := false
			for id := range r.Examples {
				seen = seen || id == p || strings.HasPrefix(id, p+"/")
			}
			if !seen {
				fmt.Fprintf(w, "  note: open entry %s was not seen in this run (fixed? then remove it from the open list)\n", k)
			}
		}
	}()
	fmt.Fprintf(w, "csfuzz answers: %d answers in %.1fs (%.0f/s): %d forwarded (exchange.completed), %d refused as 502/504 (exchange.failed), %d streamed, %d streams cut\n",
		r.Cases, r.Elapsed.Seconds(), float64(r.Cases)/r.Elapsed.Seconds(), r.Completed, r.Errored, r.Streamed, r.Interrupted)
	codes := make([]string, 0, len(r.FailedBy))
	for c := range r.FailedBy {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "  failed %-32s %7d\n", c, r.FailedBy[c])
	}
	fmt.Fprintf(w, "csfuzz answers: %d answers scrubbed by the proxy; %d credential sightings at the agent (promised forms)\n", r.Scrubbed, r.CredentialHits)
	fmt.Fprintf(w, "csfuzz answers: %d answers Go's client reads were refused upstream_bad_response (stricter, or bytes left on a pooled connection by an earlier answer):\n", r.StricterThanGo)
	whys := make([]string, 0, len(r.StricterWhy))
	for k := range r.StricterWhy {
		whys = append(whys, k)
	}
	sort.Strings(whys)
	for _, k := range whys {
		fmt.Fprintf(w, "  %7d  %s\n", r.StricterWhy[k], k)
	}
	classes := make([]string, 0, len(r.ByClass))
	for c := range r.ByClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		fmt.Fprintln(w, "csfuzz answers: 0 discrepancies")
	}
	ids := make([]string, 0, len(r.Examples))
	for id := range r.Examples {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, c := range classes {
		fmt.Fprintf(w, "  %-32s %7d\n", c, r.ByClass[c])
		for _, id := range ids {
			ex := r.Examples[id]
			if ex.d.Class != c {
				continue
			}
			tag := "NEW"
			if why, ok := r.openWhy(id); ok {
				tag = "open (" + why + ")"
			}
			fmt.Fprintf(w, "    [%s]\n", tag)
			fmt.Fprintf(w, "      %s e.g. case %d (%s %s; upstream: %s): %s\n", strings.TrimPrefix(strings.TrimPrefix(id, c), "/"),
				ex.req.Index, ex.req.Method, ex.req.Route, strings.Join(ex.sent.How, ", "), ex.d.Detail)
			fmt.Fprintf(w, "        upstream sent: %s\n", strings.ReplaceAll(clip([]byte(Escape(ex.sent.Raw))), "\n", ""))
		}
	}
}

type answerHarness struct {
	px    *Proxy
	up    *HostileUpstream
	forms []CredentialForm
}

type answerResult struct {
	req                                       AnswerRequest
	sent                                      HostileAnswer
	outcome, failure                          string
	streamed, interrupted, scrubbed, stricter bool
	stricterWhy                               string
	discrepancies                             []Discrepancy
}

func (r *answerResult) add(class, key, detail string) {
	r.discrepancies = append(r.discrepancies, Discrepancy{Class: class, Key: key, Detail: detail})
}

// completedRecord is the part of exchange.completed / exchange.failed the checks read.
type completedRecord struct {
	Outcome  string `json:"outcome"`
	Status   int    `json:"status"`
	Error    string `json:"error"`
	Message  string `json:"message"`
	Response *struct {
		Status     int               `json:"status"`
		Headers    map[string]string `json:"headers"`
		Size       int64             `json:"size"`
		BodySHA256 string            `json:"body_sha256"`
		Sha256     string            `json:"sha256"`
		Stream     *struct {
			Ended string `json:"ended"`
		} `json:"stream"`
	} `json:"response"`
}

// run sends case i, reads every byte the proxy sends back until it closes, and checks it.
func (h *answerHarness) run(req AnswerRequest) (res answerResult) {
	res.req = req
	raw, readErr := h.exchange(req.Raw)
	sent, haveSent := h.up.Sent(req.Index)
	res.sent = sent
	// 1. No form of the credential, anywhere in what the agent got. Keyed by where it was (status
	// line, headers, body) and which form; forms the scrubber does not promise are another class.
	for _, f := range h.forms {
		if at := bytes.Index(raw, []byte(f.Text)); at >= 0 {
			cls := "credential_to_agent"
			if !f.Promised {
				cls = "credential_form_to_agent"
			}
			res.add(cls, wherein(raw, at)+"/"+f.Name, fmt.Sprintf("the agent got %q (the credential as %s) in its %s: %s", f.Text, f.Name, wherein(raw, at), clipAround(raw, f.Text)))
		}
	}
	// 2. A valid HTTP answer, or a 502/504.
	br := bufio.NewReader(bytes.NewReader(raw))
	resp, err := http.ReadResponse(br, &http.Request{Method: req.Method})
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 {
		res.add("interim_to_agent", fmt.Sprint(resp.StatusCode), fmt.Sprintf("the agent got an interim %d answer (the proxy consumes 1xx)", resp.StatusCode))
		resp, err = http.ReadResponse(br, &http.Request{Method: req.Method})
	}
	if err != nil {
		res.add("agent_unreadable_answer", goReason(err), fmt.Sprintf("Go's client cannot read what the agent got (%v; read: %v): %q", err, readErr, clip(raw)))
		return res
	}
	body, bodyErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A streamed answer reaches the agent chunked: a secret split by the chunk framing is whole
	// again in the decoded body.
	for _, f := range h.forms {
		if !bytes.Contains(raw, []byte(f.Text)) && bytes.Contains(body, []byte(f.Text)) {
			cls := "credential_to_agent"
			if !f.Promised {
				cls = "credential_form_to_agent"
			}
			res.add(cls, "decoded-body/"+f.Name, fmt.Sprintf("the agent's decoded body holds %q (the credential as %s), split by the framing on the wire: %s", f.Text, f.Name, clipAround(body, f.Text)))
		}
	}
	id := resp.Header.Get("X-Countersign-Exchange-Id")
	if id == "" {
		res.add("answer_without_exchange_id", "", fmt.Sprintf("status %d without X-Countersign-Exchange-Id", resp.StatusCode))
		return res
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 && bodyErr == nil {
		res.add("agent_extra_bytes", "", fmt.Sprintf("%d bytes after the answer: %q", len(rest), clip(rest)))
	}
	evs, lerr := h.px.Ledger.Wait(id, time.Now().Add(10*time.Second), Terminal)
	if lerr != nil {
		res.add("ledger_missing", "", fmt.Sprintf("exchange %s (status %d): %v; events %s", id, resp.StatusCode, lerr, types(evs)))
		return res
	}
	for _, e := range evs {
		for _, f := range h.forms {
			if bytes.Contains(e.Body, []byte(f.Text)) {
				cls := "credential_in_ledger"
				if !f.Promised {
					cls = "credential_form_in_ledger"
				}
				res.add(cls, e.Type+"/"+f.Name, fmt.Sprintf("%s of exchange %s holds the credential as %s: %s", e.Type, id, f.Name, clipAround(e.Body, f.Text)))
			}
		}
	}
	var rec completedRecord
	for _, e := range evs {
		if e.Type == "exchange.completed" || e.Type == "exchange.failed" || e.Type == "exchange.rejected" {
			_ = json.Unmarshal(e.Body, &rec)
			res.outcome = strings.TrimPrefix(e.Type, "exchange.")
		}
	}
	switch res.outcome {
	case "failed":
		res.failure = rec.Error
		if resp.StatusCode != rec.Status || (rec.Status != 502 && rec.Status != 504) {
			res.add("failed_answer_mismatch", "", fmt.Sprintf("exchange.failed %d %s, the agent got %d", rec.Status, rec.Error, resp.StatusCode))
		}
		if bodyErr != nil {
			res.add("agent_truncated_answer", "failed", fmt.Sprintf("the 502 itself was cut: %v", bodyErr))
		}
		if haveSent && rec.Error == "upstream_bad_response" {
			if gs, _, ok := goReadsAnswer(sent.Raw, req.Method); ok && gs >= 200 {
				res.stricter, res.stricterWhy = true, reasonKind(rec.Message)
			}
		}
		return res
	case "completed":
	default:
		res.add("ledger_outcome", res.outcome, fmt.Sprintf("exchange %s ended %s; the agent got %d", id, res.outcome, resp.StatusCode))
		return res
	}
	r := rec.Response
	if r == nil {
		res.add("ledger_no_response", "", fmt.Sprintf("exchange.completed %s (%s) without a response record", id, rec.Outcome))
		return res
	}
	if r.Sha256 != "" && r.BodySHA256 == "" {
		r.BodySHA256 = r.Sha256
	}
	if rec.Status != r.Status || resp.StatusCode != r.Status {
		res.add("status_mismatch", "", fmt.Sprintf("the agent got %d, exchange.completed says %d, its response %d", resp.StatusCode, rec.Status, r.Status))
	}
	if _, ok := r.Headers[CredentialScrubberHeader]; ok {
		res.scrubbed = true
	}
	// 204, 205 and 304 answers carry no content (RFC 9110 15.3.5, 15.3.6, 15.4.5): kept apart.
	noContent := ""
	if s := resp.StatusCode; s == 204 || s == 205 || s == 304 {
		noContent = "no-content"
	}
	if diff := answerHeaderDiff(resp.Header, r.Headers); diff != "" {
		res.add("answer_header_mismatch", noContent, fmt.Sprintf("status %d, agent vs ledger: %s", resp.StatusCode, diff))
	}
	sum := sha256.Sum256(body)
	if int64(len(body)) != r.Size || hex.EncodeToString(sum[:]) != r.BodySHA256 {
		res.add("answer_body_mismatch", noContent, fmt.Sprintf("status %d: the agent got %d bytes %s, the ledger says %d %s", resp.StatusCode, len(body), short(hex.EncodeToString(sum[:])), r.Size, short(r.BodySHA256)))
	}
	ended := ""
	if r.Stream != nil {
		res.streamed = true
		ended = r.Stream.Ended
	}
	if bodyErr != nil {
		if ended == "upstream_broke" || ended == "limit" {
			res.interrupted = true
		} else {
			res.add("agent_truncated_answer", ended, fmt.Sprintf("the agent's body was cut (%v) but the ledger's stream ended %q", bodyErr, ended))
		}
	} else if ended == "upstream_broke" || ended == "limit" {
		res.add("stream_end_mismatch", ended, "the agent read a complete answer, the ledger says the stream ended "+ended)
	}
	if v := resp.Header.Get("X-Fuzz-Answer"); v != "" && v != fmt.Sprint(req.Index) {
		res.add("answer_desync", "", fmt.Sprintf("case %d got the upstream's answer marked %q: another exchange's answer, or bytes smuggled on a pooled connection", req.Index, v))
		return res
	}
	// 3. What Go's client reads of the upstream's bytes is what the proxy forwarded, less what the
	// proxy promises to remove (the credential's forms, cookies on a route with a credential).
	if !haveSent || ended != "" {
		return res
	}
	gs, gbody, ok, gerr := goReadsAnswerWhy(sent.Raw, req.Method)
	if !ok {
		res.add("forwarded_answer_go_refuses", goReason(gerr), fmt.Sprintf("Go's client refuses the upstream's answer (%v), the proxy forwarded it as %d", gerr, resp.StatusCode))
		return res
	}
	if gs != resp.StatusCode {
		res.add("answer_status_disagreement", "", fmt.Sprintf("Go reads status %d in the upstream's answer, the agent got %d", gs, resp.StatusCode))
	}
	want := gbody
	if req.Route == "vault" {
		want = scrubModel(gbody)
	}
	if noContent != "" && len(body) == 0 {
		want = body // the proxy drops the content a 204/205/304 must not have; Go's client reads it
	}
	if !bytes.Equal(want, body) {
		res.add("answer_body_disagreement", "", fmt.Sprintf("Go reads a %d-byte body in the upstream's answer (%d after scrubbing), the agent got %d: %q vs %q",
			len(gbody), len(want), len(body), clip(want), clip(body)))
	}
	return res
}

// clipAround is the text around the first occurrence of sub, escaped.
func clipAround(raw []byte, sub string) string {
	at := bytes.Index(raw, []byte(sub))
	from, to := max(0, at-60), min(len(raw), at+len(sub)+20)
	return strings.ReplaceAll(Escape(raw[from:to]), "\n", "")
}

// CredentialScrubberHeader is the header the proxy adds when it scrubbed an answer.
const CredentialScrubberHeader = "x-countersign-scrubbed"

// exchange sends the request and reads until the proxy closes the connection (the request says
// Connection: close), at most 20 s.
func (h *answerHarness) exchange(raw []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", h.px.AgentAddr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(raw); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, io.LimitReader(c, 4<<20))
	return buf.Bytes(), err
}

// goReadsAnswer is Go's client's reading of the upstream's bytes: the final status and body, and
// whether it read them without error (1xx interim answers skipped, 101 included as final).
func goReadsAnswer(raw []byte, method string) (int, []byte, bool) {
	s, b, ok, _ := goReadsAnswerWhy(raw, method)
	return s, b, ok
}

func goReadsAnswerWhy(raw []byte, method string) (int, []byte, bool, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return 0, nil, false, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return resp.StatusCode, body, false, err
		}
		return resp.StatusCode, body, true, nil
	}
}

// reasonKind is the proxy's failure message without the upstream's bytes it quotes.
func reasonKind(msg string) string {
	msg = strings.TrimPrefix(msg, "the upstream's answer is not valid HTTP: ")
	if i := strings.IndexAny(msg, ":\"'"); i > 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// wherein names the part of an answer that byte offset at is in.
func wherein(raw []byte, at int) string {
	if eol := bytes.Index(raw, []byte("\n")); eol < 0 || at < eol {
		return "status-line"
	}
	if end := bytes.Index(raw, []byte("\r\n\r\n")); end < 0 || at < end {
		return "headers"
	}
	return "body"
}

// scrubModel is what the proxy promises to do to an answer body on a route with a credential:
// every promised form replaced by the mark, longest first.
func scrubModel(body []byte) []byte {
	var forms []string
	for _, f := range CredentialForms() {
		if f.Promised {
			forms = append(forms, f.Text)
		}
	}
	sort.SliceStable(forms, func(a, b int) bool { return len(forms[a]) > len(forms[b]) })
	out := body
	for _, f := range forms {
		out = bytes.ReplaceAll(out, []byte(f), []byte(scrubMark))
	}
	return out
}

// answerHeaderDiff compares the headers the agent got with the ledger's record of them: names
// lower-cased, repeated lines joined by ", ", "[redacted]" matching any value; Connection is the
// agent connection's own (the proxy adds "close" when it ends the connection) and is not compared.
func answerHeaderDiff(got http.Header, rec map[string]string) string {
	agent := map[string]string{}
	for n, vs := range got {
		agent[strings.ToLower(n)] = strings.Join(vs, ", ")
	}
	delete(agent, "connection")
	delete(rec, "connection")
	var diffs []string
	for n, v := range agent {
		lv, ok := rec[n]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: %q not in the ledger", n, clip([]byte(v))))
		case lv != v && lv != "[redacted]":
			diffs = append(diffs, fmt.Sprintf("%s: agent %q, ledger %q", n, clip([]byte(v)), clip([]byte(lv))))
		}
	}
	for n, lv := range rec {
		if _, ok := agent[n]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: ledger %q, not sent to the agent", n, clip([]byte(lv))))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}
