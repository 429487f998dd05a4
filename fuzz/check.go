package fuzz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	mpart "mime/multipart"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Discrepancy is one way the three readings of a request (the upstream's Go parse, the ledger's
// canonical record, the policy input) or the agent-side Go parse disagree, or a refused request
// that left bytes upstream.
type Discrepancy struct {
	Class  string
	Detail string
	// Key tells apart the kinds within a class (which header, which Go refusal, which body
	// kind): one reproducer is kept per class and key.
	Key string
}

// ID is class/key, or the class alone.
func (d Discrepancy) ID() string {
	if d.Key == "" {
		return d.Class
	}
	return d.Class + "/" + d.Key
}

func (d Discrepancy) String() string { return d.Class + ": " + d.Detail }

// decided is the part of an exchange.decided body the checks read.
type decided struct {
	Route   string `json:"route"`
	Request struct {
		Method         string            `json:"method"`
		Path           string            `json:"path"`
		UpstreamTarget string            `json:"upstream_target"`
		Query          string            `json:"query"`
		Headers        map[string]string `json:"headers"`
		Size           int64             `json:"size"`
		BodySHA256     string            `json:"body_sha256"`
		Body           json.RawMessage   `json:"body"`
		BodyKind       string            `json:"body_kind"`
	} `json:"request"`
	Decision struct {
		Action      string `json:"action"`
		Failure     string `json:"failure"`
		Obligations struct {
			Echo *echoInput `json:"echo"`
		} `json:"obligations"`
	} `json:"decision"`
}

// echoInput is the policy input as the echo policy handed it back.
type echoInput struct {
	Request struct {
		Method       string              `json:"method"`
		Route        string              `json:"route"`
		Path         string              `json:"path"`
		UpstreamPath string              `json:"upstream_path"`
		Query        map[string][]string `json:"query"`
		Headers      map[string]string   `json:"headers"`
		Body         json.RawMessage     `json:"body"`
		BodyKind     string              `json:"body_kind"`
		BodySHA256   string              `json:"body_sha256"`
		Size         int64               `json:"size"`
	} `json:"request"`
	Caller map[string]json.RawMessage `json:"caller"`
}

type completed struct {
	Outcome string `json:"outcome"`
}

// Outcome is what happened to one case.
type Outcome struct {
	Case          Case
	Responses     int
	Forwarded     int
	Refused       int // exchange.rejected
	FailedClosed  int // decided with a failure (the policy engine could not judge): denied
	Statuses      []int
	Discrepancies []Discrepancy
	Claimed       int64 // upstream bytes in the arrivals this case's exchanges account for
	NoAnswer      bool  // the proxy sent no complete answer for some request (closed, or timed out)
	Late          bool  // the rest of a case, read in the background (Harness.Late): not a case of its own
	Start, End    time.Time
	Answered      time.Duration // from the write to the last answer
	Journaled     time.Duration // from the last answer to the last ledger event checked
}

// Harness sends cases through a running proxy and checks them.
type Harness struct {
	Proxy    *Proxy
	Upstream *Upstream
	// UpstreamAuthority is what the forwarded Host must be.
	UpstreamAuthority string
	// ResponseTimeout bounds the wait for each answer (the proxy's request_timeout is 2 s).
	ResponseTimeout time.Duration
	// Serial: one case at a time, so every upstream byte received during a case is that case's.
	Serial bool
	// Patient: wait the full ResponseTimeout for every answer, even where Go's parse says no
	// more can come (stray attribution); otherwise such waits are 150 ms.
	Patient bool
	// Late, when set, takes the rest of a case that stopped on a 150 ms wait: the connection is
	// kept and read on in the background (full timeouts) until the proxy closes it or stays
	// silent, and every later answer is checked and handed to Late. So a pipelined request the
	// proxy answers slowly is still claimed by its own case, not left upstream as a stray.
	Late func(Outcome)
	// LateWG counts the background readers still running.
	LateWG *sync.WaitGroup
}

type answer struct {
	status int
	id     string
}

var dropped = map[string]bool{"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true, "content-length": true, "expect": true,
	"host": true, "authorization": true, "proxy-authorization": true, "cookie": true, "forwarded": true,
	"x-real-ip": true, "via": true}

// Run sends one case on a fresh connection and checks every answer.
func (h *Harness) Run(c Case) (o Outcome) {
	o = Outcome{Case: c, Start: time.Now()}
	defer func() { o.End = time.Now() }()
	agent, agentErr := ParseAll(c.Raw, 1<<20)
	before := h.Upstream.Bytes()
	conn, err := net.DialTimeout("tcp", h.Proxy.AgentAddr, 5*time.Second)
	if err != nil {
		o.Discrepancies = append(o.Discrepancies, Discrepancy{Class: "harness", Detail: "dial: " + err.Error()})
		return o
	}
	closeConn := true
	defer func() {
		if closeConn {
			conn.Close()
		}
	}()
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(c.Raw); err != nil {
		// The proxy may close early on a bad request; what it answered is still read below.
		_ = err
	}
	want := len(agent)
	if agentErr != nil || want == 0 {
		want++
	}
	var answers []answer
	guessed := requestLineMethods(c.Raw)
	br := bufio.NewReader(conn)
	// Read the answers Go's parse predicts; after them, while the agent's bytes hold more than
	// Go could read (an error, or bytes left over), keep reading briefly: the proxy may read
	// further requests there, and each answer it gives must be checked too.
	extra := agentErr != nil || (len(agent) > 0 && agent[len(agent)-1].End < int64(len(c.Raw)))
	handOff := false
	for len(answers) < want || (extra && len(answers) < 64) {
		timeout := h.ResponseTimeout
		short := false
		if len(answers) >= want {
			timeout, short = 150*time.Millisecond, !h.Patient
			if h.Patient {
				timeout = h.ResponseTimeout
			}
		} else if len(answers) >= len(agent) && agentErr != nil && !h.Patient {
			// Go cannot read the rest as a request (incomplete or malformed). The proxy answers
			// a malformed request at once and waits up to its request_timeout for an incomplete
			// one; bulk runs do not wait that long here: the rest is read on in the background
			// (Late), or, for a harness without Late, an arrival no case claims is a stray,
			// matched to its exchange in the ledger by its traceparent.
			timeout, short = 150*time.Millisecond, true
		}
		a, closed, err := h.readAnswer(conn, br, timeout, answerMethod(len(answers), agent, guessed))
		if err != nil {
			if len(answers) < len(agent) {
				o.NoAnswer = true
			}
			handOff = short && h.Late != nil && isTimeout(err)
			break
		}
		answers = append(answers, a)
		o.Statuses = append(o.Statuses, a.status)
		if closed {
			break
		}
	}
	o.Answered = time.Since(o.Start)
	o.Responses = len(answers)
	h.checkAnswers(&o, answers, 0, agent)
	h.forwardCount(&o, o.Forwarded, len(agent), agentErr)
	if handOff {
		closeConn = false
		if h.LateWG != nil {
			h.LateWG.Add(1)
		}
		go h.readLate(c, conn, br, len(answers), agent, agentErr, guessed, o.Forwarded)
	} else {
		conn.Close()
	}
	if h.Serial {
		// Everything received upstream during this case is this case's: it must be exactly the
		// arrivals of its forwarded exchanges. A refused request must leave 0 bytes.
		time.Sleep(20 * time.Millisecond) // a late write is still attributed to this case
		got := h.Upstream.Bytes() - before
		if got != o.Claimed {
			cls := "upstream_unattributed"
			if o.Refused > 0 || o.Forwarded == 0 {
				cls = "refused_bytes_upstream"
			}
			o.add(cls, fmt.Sprintf("%d bytes reached the upstream, %d of them in this case's forwarded requests (forwarded %d, refused %d)",
				got, o.Claimed, o.Forwarded, o.Refused))
		}
	}
	return o
}

// answerMethod is the method the k-th answer is for (HEAD answers have no body).
func answerMethod(k int, agent []*Parsed, guessed []string) string {
	if k < len(agent) {
		return agent[k].Method
	}
	if k < len(guessed) {
		return guessed[k] // Go could not parse it: the method as the request line spells it
	}
	return "GET"
}

// readAnswer reads one final answer (100 Continue, the proxy's answer to Expect, is skipped).
// Whether a body follows the head depends on the request's method, and where the proxy and Go
// split the agent's bytes differently the guess can be wrong (a HEAD read as a GET would eat the
// next answer as its body): so the head is read alone, and the method is the one the ledger
// records for the exchange the answer names, the guess only when it names none.
func (h *Harness) readAnswer(conn net.Conn, br *bufio.Reader, timeout time.Duration, guess string) (answer, bool, error) {
	for {
		_ = conn.SetReadDeadline(time.Now().Add(timeout))
		resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
		if err != nil {
			if os.Getenv("CSFUZZ_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "answer (%s): %v\n", guess, err)
			}
			return answer{}, false, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			continue
		}
		id := resp.Header.Get("X-Countersign-Exchange-Id")
		method := guess
		if id != "" {
			if m, ok := h.Proxy.Ledger.Method(id, time.Now().Add(5*time.Second)); ok {
				method = m
			}
		}
		if method != "HEAD" && resp.StatusCode != 204 && resp.StatusCode != 304 {
			var body io.Reader
			switch {
			case len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked":
				body = httputil.NewChunkedReader(br)
			case resp.ContentLength >= 0:
				body = io.LimitReader(br, resp.ContentLength)
			default:
				body = br // until the close
			}
			if _, err := io.Copy(io.Discard, io.LimitReader(body, 1<<20)); err != nil {
				return answer{}, false, err
			}
			if len(resp.TransferEncoding) > 0 {
				for { // the trailer section, up to its empty line
					l, err := br.ReadString('\n')
					if err != nil || strings.TrimRight(l, "\r\n") == "" {
						break
					}
				}
			}
		}
		return answer{resp.StatusCode, id}, resp.Close, nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// checkAnswers checks the exchanges the answers name; first is the index of answers[0] among
// all the case's answers.
func (h *Harness) checkAnswers(o *Outcome, answers []answer, first int, agent []*Parsed) {
	deadline := time.Now().Add(5 * time.Second)
	for j, a := range answers {
		if a.id == "" {
			continue
		}
		evs, err := h.Proxy.Ledger.Wait(a.id, deadline, Terminal)
		if err != nil {
			o.add("ledger_missing", fmt.Sprintf("exchange %s (status %d): %v; events %s", a.id, a.status, err, types(evs)))
			continue
		}
		var g *Parsed
		if k := first + j; k < len(agent) {
			g = agent[k]
		}
		o.Journaled = time.Since(o.Start) - o.Answered
		h.checkExchange(o, a.status, evs, g)
	}
}

// forwardCount: the proxy must not forward more requests than Go reads in the agent's bytes.
func (h *Harness) forwardCount(o *Outcome, forwarded, goRead int, agentErr error) {
	if forwarded <= goRead {
		return
	}
	if agentErr != nil {
		o.addKey("forwarded_what_go_refuses", goReason(agentErr), fmt.Sprintf("the proxy forwarded %d requests; Go's parser reads %d, then refuses the bytes: %v", forwarded, goRead, agentErr))
	} else {
		o.add("request_count", fmt.Sprintf("the proxy forwarded %d requests where Go's parser reads %d", forwarded, goRead))
	}
}

// readLate reads the rest of a case's answers with full timeouts, checks them and hands the
// result to h.Late. before is how many answers were read already, forwarded how many of them
// were forwarded.
func (h *Harness) readLate(c Case, conn net.Conn, br *bufio.Reader, before int, agent []*Parsed, agentErr error, guessed []string, forwarded int) {
	defer conn.Close()
	o := Outcome{Case: c, Start: time.Now(), Late: true}
	var answers []answer
	for before+len(answers) < 64 {
		a, closed, err := h.readAnswer(conn, br, h.ResponseTimeout, answerMethod(before+len(answers), agent, guessed))
		if err != nil {
			break
		}
		answers = append(answers, a)
		o.Statuses = append(o.Statuses, a.status)
		if closed {
			break
		}
	}
	conn.Close()
	o.Answered = time.Since(o.Start)
	o.Responses = len(answers)
	h.checkAnswers(&o, answers, before, agent)
	if forwarded <= len(agent) {
		h.forwardCount(&o, forwarded+o.Forwarded, len(agent), agentErr)
	}
	o.End = time.Now()
	h.Late(o)
	if h.LateWG != nil {
		h.LateWG.Done()
	}
}

func (o *Outcome) add(class, detail string) { o.addKey(class, "", detail) }

func (o *Outcome) addKey(class, key, detail string) {
	o.Discrepancies = append(o.Discrepancies, Discrepancy{Class: class, Detail: detail, Key: key})
}

// goReason shortens a Go parse error to its kind (no quoted bytes), for a Key.
func goReason(err error) string {
	s := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "go net/http: "), "http: ")
	if i := strings.IndexAny(s, "\"';:"); i > 0 {
		s = s[:i]
	}
	return strings.TrimRight(strings.TrimSpace(s), ":")
}

func types(evs []*Event) string {
	var t []string
	for _, e := range evs {
		t = append(t, e.Type)
	}
	return "[" + strings.Join(t, ",") + "]"
}

// matches says whether an upstream arrival is the request this record describes.
func (d *decided) matches(a *Arrival) bool {
	return a.Req != nil && a.Req.Method == d.Request.Method && a.Req.RequestURI == d.Request.UpstreamTarget &&
		a.Req.BodySHA256 == d.Request.BodySHA256
}

func (h *Harness) checkExchange(o *Outcome, status int, evs []*Event, g *Parsed) {
	id := ""
	if len(evs) > 0 {
		id = evs[0].ExchangeID
	}
	var d *decided
	var outcome string
	for _, e := range evs {
		switch e.Type {
		case "exchange.rejected":
			o.Refused++
			if g != nil && g.Refusal == "" && status < 400 {
				o.add("harness", "a rejected exchange answered "+fmt.Sprint(status))
			}
			return
		case "exchange.decided":
			d = &decided{}
			if err := json.Unmarshal(e.Body, d); err != nil {
				o.add("ledger_unreadable", err.Error())
				return
			}
		case "exchange.completed", "exchange.failed":
			var c completed
			_ = json.Unmarshal(e.Body, &c)
			outcome = c.Outcome
		}
	}
	if d == nil {
		o.add("ledger_missing", "no exchange.decided for a terminal exchange "+types(evs))
		return
	}
	if outcome != "forwarded" {
		// The echo policy allows everything: an allowed exchange that was not forwarded is an
		// upstream or proxy failure, not a canonicalization question; nothing to compare.
		switch {
		case d.Decision.Failure != "":
			o.FailedClosed++ // the engine could not judge this input: denied, nothing forwarded
		case d.Decision.Action != "allow":
			o.add("policy_not_allow", "the echo policy's decision came back as "+d.Decision.Action)
		}
		return
	}
	o.Forwarded++
	tp := d.Request.Headers["traceparent"]
	if tp == "" {
		o.add("ledger_no_traceparent", "a forwarded exchange without traceparent in its record")
		return
	}
	a := h.Upstream.Claim(tp, d.matches, time.Now().Add(5*time.Second))
	if a == nil {
		o.add("forwarded_missing_upstream", "the ledger says forwarded, the upstream parsed no request with traceparent "+tp)
		return
	}
	o.Claimed += int64(len(a.Raw))
	if id != "" {
		h.Proxy.Ledger.MarkClaimed(tp, id)
	}
	if a.Err != nil {
		o.add("upstream_parse_error", a.Err.Error())
		return
	}
	compare(o, d, a.Req, g, h.UpstreamAuthority)
}

// compare checks one forwarded exchange: upstream parse u, ledger record d (with the policy input
// it echoes), agent-side parse g (nil when Go could not read the agent's bytes that far).
func compare(o *Outcome, d *decided, u *Parsed, g *Parsed, authority string) {
	r := &d.Request
	e := d.Decision.Obligations.Echo
	if e == nil {
		o.add("policy_input_missing", "the decision carries no echo of the policy input")
		return
	}
	ei := &e.Request
	if u.Refusal != "" {
		o.add("upstream_server_refuses", "Go's HTTP server would answer 400 to the forwarded request: "+u.Refusal)
	}
	// Method and target.
	if u.Method != r.Method || ei.Method != r.Method {
		o.add("method_mismatch", fmt.Sprintf("upstream %q, ledger %q, policy %q", u.Method, r.Method, ei.Method))
	}
	if u.RequestURI != r.UpstreamTarget {
		o.add("target_mismatch", fmt.Sprintf("upstream %q, ledger %q", u.RequestURI, r.UpstreamTarget))
	}
	upath, uquery, _ := splitTarget(u.RequestURI)
	if ei.UpstreamPath != upath || ei.Path != r.Path || ei.Route != d.Route {
		o.add("policy_path_mismatch", fmt.Sprintf("policy upstream_path %q path %q route %q; upstream path %q, ledger path %q route %q",
			ei.UpstreamPath, ei.Path, ei.Route, upath, r.Path, d.Route))
	}
	if uquery != r.Query {
		o.add("query_mismatch", fmt.Sprintf("upstream query %q, ledger %q", uquery, r.Query))
	}
	goQuery, qerr := url.ParseQuery(uquery)
	if qerr != nil {
		cls := "query_parse_disagreement"
		if strings.Contains(qerr.Error(), "semicolon") {
			cls = "query_semicolon"
		}
		o.add(cls, fmt.Sprintf("Go's url.ParseQuery of %q: %v; the policy saw %v", uquery, qerr, ei.Query))
	} else if !sameQuery(goQuery, ei.Query) {
		o.add("query_meaning_mismatch", fmt.Sprintf("Go reads %v from %q, the policy saw %v", goQuery, uquery, ei.Query))
	}
	// Headers: the upstream's, less what the proxy adds on the way out, must be the ledger's
	// and the policy's, name for name and value for value.
	if u.Hosts != 1 || u.Host != authority {
		o.add("upstream_host", fmt.Sprintf("%d Host lines, %q (want one, %q)", u.Hosts, u.Host, authority))
	}
	if len(u.TransferEncoding) > 0 {
		o.add("upstream_framing", fmt.Sprintf("forwarded with Transfer-Encoding %v", u.TransferEncoding))
	}
	if cl, ok := u.Header["content-length"]; ok && (len(cl) != 1 || cl[0] != fmt.Sprint(len(u.Body))) {
		o.add("upstream_framing", fmt.Sprintf("Content-Length %v for a %d-byte body", cl, len(u.Body)))
	}
	cred := u.Header[CredentialHeader]
	if d.Route == "billing" {
		if len(cred) != 1 || cred[0] != CredentialValue {
			o.add("credential", fmt.Sprintf("billing must carry exactly the route's credential, got %q", cred))
		}
	}
	upHeaders := map[string]string{}
	for _, n := range u.Names() {
		if n == "content-length" || n == "host" || (n == CredentialHeader && d.Route == "billing") {
			continue
		}
		v, _ := u.Joined(n)
		if len(u.Header[n]) > 1 {
			o.add("header_repeated_upstream", fmt.Sprintf("%q reached the upstream %d times: %q", n, len(u.Header[n]), u.Header[n]))
		}
		upHeaders[n] = v
	}
	for n, v := range upHeaders {
		if lv, ok := r.Headers[n]; ok && lv != v && latin1(v) == lv {
			upHeaders[n] = lv // reported once, by header_non_ascii below
			o.add("header_non_ascii", fmt.Sprintf("%q: the upstream got bytes %q, the ledger holds them read as Latin-1, %q", n, v, lv))
		}
	}
	for n, v := range upHeaders {
		if lv, ok := r.Headers[n]; ok && lv != v && strings.Trim(lv, " \t") == v {
			upHeaders[n] = lv // reported once, here
			o.add("header_whitespace", fmt.Sprintf("%q: the ledger and the policy hold %q, but on the wire that value reads %q (a field value cannot end or start with whitespace)", n, lv, v))
		}
	}
	if diff := headerDiff(upHeaders, r.Headers); diff != "" {
		o.add("header_mismatch", "upstream vs ledger: "+diff)
	}
	if diff := headerDiff(ei.Headers, r.Headers); diff != "" {
		o.add("policy_header_mismatch", "policy vs ledger: "+diff)
	}
	// Body: bytes, digest, and for JSON the parsed value.
	sum := u.BodySHA256
	if int64(len(u.Body)) != r.Size || sum != r.BodySHA256 || ei.Size != r.Size || ei.BodySHA256 != r.BodySHA256 {
		o.add("body_mismatch", fmt.Sprintf("upstream %d bytes %s; ledger %d %s; policy %d %s", len(u.Body), short(sum), r.Size, short(r.BodySHA256), ei.Size, short(ei.BodySHA256)))
	}
	ledgerBody := nullish(r.Body)
	policyBody := nullish(ei.Body)
	if ledgerBody != nil && policyBody != nil && !jsonEqual(ledgerBody, policyBody) {
		o.add("policy_body_mismatch", fmt.Sprintf("ledger %s, policy %s", clip(ledgerBody), clip(policyBody)))
	}
	kind := ei.BodyKind
	if kind == "" {
		kind = r.BodyKind
	}
	if policyBody != nil && (kind == "" || kind == "json") {
		var goVal any
		dec := json.NewDecoder(bytes.NewReader(u.Body))
		dec.UseNumber()
		if err := dec.Decode(&goVal); err != nil {
			o.addKey("json_body_disagreement", "go-refuses", fmt.Sprintf("the policy got JSON %s, Go's encoding/json refuses the bytes: %v", clip(policyBody), err))
		} else if dec.More() || trailing(dec) {
			o.addKey("json_body_disagreement", "trailing-data", "Go's encoding/json finds data after the JSON value the policy got")
		} else if gv, _ := json.Marshal(goVal); !jsonEqual(gv, policyBody) {
			o.addKey("json_body_disagreement", "value", fmt.Sprintf("Go reads %s, the policy got %s", clip(gv), clip(policyBody)))
		}
	}
	if len(u.Body) > 0 && policyBody == nil {
		o.addKey("body_invisible_to_policy", coarseKind(bodyKind(u)), fmt.Sprintf("a %d-byte %s body was forwarded; the policy got body null (body_kind %q)",
			len(u.Body), bodyKind(u), kind))
	}
	switch {
	case kind == "form" && policyBody != nil:
		checkForm(o, u.Body, policyBody)
	case kind == "multipart" && policyBody != nil:
		checkMultipart(o, u, policyBody)
	case kind == "text" && policyBody != nil:
		var text string
		if json.Unmarshal(policyBody, &text) != nil || text != string(u.Body) {
			o.add("text_body_disagreement", fmt.Sprintf("the upstream got %q, the policy %s", clip(u.Body), clip(policyBody)))
		}
	}
	semantic(o, u, ei.Method)
	if g != nil {
		agentSide(o, g, d, e)
	}
}

// semantic: what an application behind the proxy would act on, where that is not what the
// policy judged. Frameworks honour verb-tunnelling headers and parameters, URL-override headers,
// matrix parameters and a second percent-decoding.
func semantic(o *Outcome, u *Parsed, method string) {
	for _, n := range methodOverrideHeaders {
		if v, ok := u.Joined(strings.ToLower(n)); ok {
			o.addKey("method_override_forwarded", strings.ToLower(n), fmt.Sprintf("%s: %s reached the upstream; the policy judged %s", n, v, method))
			break
		}
	}
	path, rawq, _ := splitTarget(u.RequestURI)
	if q, _ := url.ParseQuery(rawq); q != nil {
		for k, v := range q {
			if strings.EqualFold(k, "_method") || strings.EqualFold(k, "x-http-method-override") {
				o.addKey("method_override_forwarded", "query", fmt.Sprintf("query %s=%v reached the upstream; the policy judged %s", k, v, method))
			}
		}
	}
	if ct, _ := u.Joined("content-type"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
		if q, _ := url.ParseQuery(string(u.Body)); q != nil {
			if v, ok := q["_method"]; ok {
				o.addKey("method_override_forwarded", "form", fmt.Sprintf("form field _method=%v reached the upstream; the policy judged %s", v, method))
			}
		}
	}
	for _, n := range urlOverrideHeaders {
		if v, ok := u.Joined(strings.ToLower(n)); ok {
			o.addKey("url_override_forwarded", strings.ToLower(n), fmt.Sprintf("%s: %s reached the upstream", n, v))
			break
		}
	}
	for _, n := range hostOverrideHeaders {
		if v, ok := u.Joined(strings.ToLower(n)); ok {
			o.addKey("host_override_forwarded", strings.ToLower(n), fmt.Sprintf("%s: %s reached the upstream", n, v))
			break
		}
	}
	// A servlet container drops ";params" from each segment before resolving dot segments; a
	// second decoder turns %252e into '.'. Either way the application may route another path.
	for _, seg := range strings.Split(path, "/") {
		bare, _, hasParam := strings.Cut(seg, ";")
		once, err1 := url.PathUnescape(bare)
		twice, err2 := url.PathUnescape(once)
		switch {
		case hasParam && err1 == nil && (once == "." || once == ".."):
			o.addKey("path_resolves_differently", "matrix", fmt.Sprintf("segment %q is a dot segment once ;params are dropped (servlet containers): %s", seg, path))
		case err1 == nil && err2 == nil && twice != once && (twice == "." || twice == ".." || strings.ContainsAny(twice, "/\\")):
			o.addKey("path_resolves_differently", "double-decoding", fmt.Sprintf("segment %q decodes twice to %q: %s", seg, twice, path))
		}
	}
}

// agentSide compares Go's reading of the agent's own bytes with what the proxy recorded: a
// difference in method, body or header meaning is a request the two parsers split or read
// differently (smuggling, ambiguous headers), even when the forwarded copy is self-consistent.
func agentSide(o *Outcome, g *Parsed, d *decided, e *echoInput) {
	r := &d.Request
	if g.Refusal != "" {
		o.addKey("forwarded_what_go_refuses", g.Refusal, "Go's HTTP server answers 400 to the agent's request ("+g.Refusal+"); the proxy forwarded it")
	}
	if g.Method != r.Method {
		o.add("agent_method_disagreement", fmt.Sprintf("Go reads %q from the agent, the proxy %q", g.Method, r.Method))
	}
	kind := e.Request.BodyKind
	if kind == "" {
		kind = r.BodyKind
	}
	// Form bodies are forwarded re-encoded and multipart ones minus a stripped part (the
	// canonical form), so their bytes may differ from the agent's; their meaning is compared
	// on the forwarded copy (checkForm, checkMultipart).
	if g.BodySHA256 != r.BodySHA256 && kind != "form" && kind != "multipart" {
		o.add("framing_disagreement", fmt.Sprintf("Go reads a %d-byte body from the agent's bytes, the proxy %d bytes", len(g.Body), r.Size))
	}
	gpath, gq, _ := splitTarget(g.RequestURI)
	if dp, err := url.PathUnescape(gpath); err == nil {
		if lp, err := url.PathUnescape(r.Path); err == nil && dp != lp {
			o.add("agent_path_disagreement", fmt.Sprintf("Go decodes the agent's path to %q, the proxy's canonical path decodes to %q", dp, lp))
		}
	}
	if q, err := url.ParseQuery(gq); err == nil && !sameQuery(q, e.Request.Query) {
		o.add("agent_query_disagreement", fmt.Sprintf("Go reads %v from the agent's query, the policy saw %v", q, e.Request.Query))
	}
	// Headers the agent sent that the proxy keeps must keep their meaning.
	nominated := map[string]bool{}
	if c, ok := g.Joined("connection"); ok {
		for _, t := range strings.Split(c, ",") {
			nominated[strings.ToLower(strings.TrimSpace(t))] = true
		}
	}
	for _, n := range g.Names() {
		if dropped[n] || nominated[n] || strings.HasPrefix(n, "x-forwarded-") || strings.HasPrefix(n, "x-countersign-") ||
			n == "traceparent" || n == "tracestate" || n == "prefer" || (n == CredentialHeader && d.Route == "billing") {
			continue
		}
		gv, _ := g.Joined(n)
		lv, ok := r.Headers[n]
		switch {
		case !ok:
			o.add("agent_header_lost", fmt.Sprintf("the agent's %q: %q is not in the canonical request", n, gv))
		case lv != gv && latin1(gv) == lv:
			o.add("header_non_ascii", fmt.Sprintf("%q: the agent sent bytes %q, the ledger and the policy hold them read as Latin-1, %q", n, gv, lv))
		case lv != gv:
			o.add("agent_header_disagreement", fmt.Sprintf("%q: Go reads %q from the agent, the proxy recorded %q", n, gv, lv))
		}
	}
	for n := range r.Headers {
		if _, ok := g.Header[n]; !ok && n != "traceparent" && n != "prefer" {
			o.add("agent_header_added", fmt.Sprintf("the canonical request has %q, which Go does not read in the agent's request", n))
		}
	}
	for n := range nominated {
		// traceparent is always present: the proxy starts a new one when it drops the agent's.
		if _, ok := r.Headers[n]; ok && n != "" && n != "traceparent" {
			o.add("connection_nominated_forwarded", fmt.Sprintf("%q is named in Connection (hop-by-hop), yet forwarded", n))
		}
	}
	// Identity headers: what the policy's caller says must be what the agent sent.
	for _, h := range identityHeaders {
		n := strings.ToLower(h)
		vals := g.Header[n]
		if len(vals) != 1 || n == "x-countersign-context-refs" {
			continue
		}
		want := strings.TrimSpace(vals[0])
		if want == "" || len(want) > 256 {
			continue
		}
		field := strings.ReplaceAll(strings.TrimPrefix(n, "x-countersign-"), "-", "_")
		var got string
		_ = json.Unmarshal(e.Caller[field], &got)
		if got != want && latin1(want) == got {
			o.add("header_non_ascii", fmt.Sprintf("%s: the agent sent bytes %q, caller.%s holds them read as Latin-1, %q", h, want, field, got))
		} else if got != want {
			o.add("identity_mismatch", fmt.Sprintf("%s: %q from the agent, caller.%s %q", h, want, field, got))
		}
	}
}

func checkForm(o *Outcome, body []byte, policy json.RawMessage) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		o.add("form_body_disagreement", fmt.Sprintf("Go's url.ParseQuery refuses the form body the policy read: %v", err))
		return
	}
	var got map[string][]string
	if json.Unmarshal(policy, &got) != nil {
		return // another shape (e.g. nested bracket keys only): not compared
	}
	if !sameQuery(q, got) {
		o.add("form_body_disagreement", fmt.Sprintf("Go reads %v, the policy got %v", q, got))
	}
}

func bodyKind(u *Parsed) string {
	ct, ok := u.Joined("content-type")
	if !ok {
		if json.Valid(u.Body) {
			return "undeclared JSON"
		}
		return "undeclared"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("unparsable-type %q", ct)
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return "form"
	case strings.HasPrefix(mt, "multipart/"):
		return "multipart"
	case strings.HasPrefix(mt, "text/"):
		return "text"
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return "json"
	}
	return mt
}

func sameQuery(a url.Values, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || len(v) != len(w) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return true
}

func headerDiff(a, b map[string]string) string {
	var diffs []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("+%s=%q", k, v))
		} else if w != v {
			diffs = append(diffs, fmt.Sprintf("%s: %q vs %q", k, v, w))
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("-%s=%q", k, w))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

func nullish(m json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(m)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	return t
}

func trailing(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err != io.EOF
}

// jsonEqual compares two JSON texts as values; numbers compare exactly as decimals, so 100 and
// 100.0 and 1E2 are equal and 0.1 and 0.10000000000000001 are not.
func jsonEqual(a, b []byte) bool {
	va, ea := decodeExact(a)
	vb, eb := decodeExact(b)
	if ea != nil || eb != nil {
		return false
	}
	return valueEqual(va, vb)
}

func decodeExact(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if hugeExponent(string(x)) || hugeExponent(string(y)) {
			return string(x) == string(y) // big.Rat would build 10^huge
		}
		rx, ok1 := new(big.Rat).SetString(string(x))
		ry, ok2 := new(big.Rat).SetString(string(y))
		if !ok1 || !ok2 {
			return string(x) == string(y)
		}
		return rx.Cmp(ry) == 0
	default:
		return a == b
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

func hugeExponent(n string) bool {
	i := strings.IndexAny(n, "eE")
	if i < 0 {
		return false
	}
	e := strings.TrimLeft(n[i+1:], "+-0")
	return len(e) > 3
}

// latin1 reads bytes as ISO-8859-1 (each byte one code point), as Netty reads header bytes.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// requestLineMethods finds the methods of the lines that look like request lines ("TOKEN SP ...
// HTTP/"), in order: how to read a HEAD answer to a request Go's parser could not read.
func requestLineMethods(raw []byte) []string {
	var out []string
	for _, line := range bytes.Split(raw, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) >= 3 && bytes.HasPrefix(f[len(f)-1], []byte("HTTP/")) && isUpperToken(f[0]) {
			out = append(out, string(f[0]))
		}
	}
	return out
}

func isUpperToken(b []byte) bool {
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(b) > 0
}

// coarseKind folds a body kind into the few families a key tells apart.
func coarseKind(k string) string {
	switch {
	case k == "form" || k == "multipart" || k == "text" || k == "json":
		return k
	case strings.HasPrefix(k, "undeclared"):
		return "undeclared"
	case strings.HasPrefix(k, "unparsable-type"):
		return "unparsable-type"
	case strings.Contains(k, "json"):
		return "json-like"
	}
	return "other"
}

// checkMultipart reads the forwarded multipart body with Go's mime/multipart and compares it with
// the policy's {"fields": {name: [values]}, "files": [{name, filename, type, size, sha256}]}.
func checkMultipart(o *Outcome, u *Parsed, policy json.RawMessage) {
	var got struct {
		Fields map[string][]string `json:"fields"`
		Files  []struct {
			Name, Filename, Type, Sha256 string
			Size                         int64
		} `json:"files"`
	}
	if json.Unmarshal(policy, &got) != nil {
		o.add("multipart_body_disagreement", "the policy's multipart body is not {fields, files}: "+clip(policy))
		return
	}
	ct, _ := u.Joined("content-type")
	_, params, err := mime.ParseMediaType(ct)
	if err != nil || params["boundary"] == "" {
		o.add("multipart_body_disagreement", fmt.Sprintf("Go cannot read the forwarded multipart type %q: %v", ct, err))
		return
	}
	mr := mpart.NewReader(bytes.NewReader(u.Body), params["boundary"])
	fields := map[string][]string{}
	var files []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			o.add("multipart_body_disagreement", fmt.Sprintf("Go's mime/multipart refuses the forwarded body the policy read: %v", err))
			return
		}
		data, err := io.ReadAll(p)
		if err != nil {
			o.add("multipart_body_disagreement", fmt.Sprintf("Go's mime/multipart refuses a part: %v", err))
			return
		}
		if p.FileName() != "" {
			sum := sha256.Sum256(data)
			files = append(files, fmt.Sprintf("%s|%s|%d|%s", p.FormName(), p.FileName(), len(data), hex.EncodeToString(sum[:])))
		} else {
			fields[p.FormName()] = append(fields[p.FormName()], string(data))
		}
	}
	var want []string
	for _, f := range got.Files {
		want = append(want, fmt.Sprintf("%s|%s|%d|%s", f.Name, f.Filename, f.Size, f.Sha256))
	}
	sort.Strings(files)
	sort.Strings(want)
	if !sameQuery(fields, got.Fields) || strings.Join(files, ";") != strings.Join(want, ";") {
		o.add("multipart_body_disagreement", fmt.Sprintf("Go reads fields %v files %v, the policy got fields %v files %v", fields, files, got.Fields, want))
	}
}
