package fuzz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestEscapedCorpusTextReadsBackToTheSameBytes(t *testing.T) {
	raw := []byte("GET /a\\b HTTP/1.1\r\n#x: 1\r\nX-A: \x00\xff\t\r\n\r\n#")
	back, err := Unescape(Escape(raw))
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("round trip: %q, %v", back, err)
	}
	if strings.Contains(Escape(raw), "\n#") {
		t.Errorf("a '#' at a line start must be escaped, or it reads as a comment: %q", Escape(raw))
	}
}

func TestUnescapeRefusesABrokenEscape(t *testing.T) {
	for _, bad := range []string{`\q`, `\x4`, `\xzz`, `a\`} {
		if _, err := Unescape(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestTheSameSeedMakesTheSameCases(t *testing.T) {
	a, b := &Generator{Seed: 42}, &Generator{Seed: 42}
	for i := 0; i < 200; i++ {
		if x, y := a.Make(i), b.Make(i); !bytes.Equal(x.Raw, y.Raw) {
			t.Fatalf("case %d differs between two generators with one seed", i)
		}
	}
	if bytes.Equal((&Generator{Seed: 43}).Make(5).Raw, a.Make(5).Raw) && bytes.Equal((&Generator{Seed: 43}).Make(6).Raw, a.Make(6).Raw) {
		t.Errorf("another seed should make other cases")
	}
}

func TestMinimizeKeepsOnlyWhatTheFailureNeeds(t *testing.T) {
	raw := []byte("POST /crm/v3/deals/42?a=1 HTTP/1.1\r\nHost: x\r\nX-HTTP-Method-Override: DELETE\r\nX-Other: 1\r\nContent-Length: 5\r\n\r\nhello")
	got, calls := Minimize(raw, 500, func(b []byte) bool { return bytes.Contains(b, []byte("Override: DELETE")) })
	if !bytes.Contains(got, []byte("Override: DELETE")) || len(got) > len("Override: DELETE")+2 || calls == 0 {
		t.Errorf("minimized to %q in %d calls", got, calls)
	}
}

func TestGoParseReportsEachPipelinedRequestWithItsByteSpan(t *testing.T) {
	one := "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
	two := "GET /b HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"
	ps, err := ParseAll([]byte(one+two), 1<<20)
	if len(ps) != 1 || err == nil || !strings.Contains(err.Error(), "Host") {
		t.Fatalf("want one request then Go's refusal of two Host lines, got %d, %v", len(ps), err)
	}
	if ps[0].Start != 0 || ps[0].End != int64(len(one)) || string(ps[0].Body) != "hi" {
		t.Errorf("span %d-%d body %q", ps[0].Start, ps[0].End, ps[0].Body)
	}
}

func TestTheRecordingUpstreamCountsEveryByteAndClaimsByTraceparent(t *testing.T) {
	up, err := StartUpstream(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	c, err := net.Dial("tcp", up.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /x HTTP/1.1\r\nHost: h\r\ntraceparent: tp-1\r\n\r\n"
	garbage := "NOT HTTP\x00\r\n\r\n"
	if _, err := c.Write([]byte(req + garbage)); err != nil {
		t.Fatal(err)
	}
	got := up.Claim("tp-1", nil, time.Now().Add(5*time.Second))
	if got == nil || string(got.Raw) != req || got.Req.RequestURI != "/x" {
		t.Fatalf("claimed %+v", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	var strays []*Arrival
	for len(strays) == 0 && time.Now().Before(deadline) {
		strays = up.Unclaimed(0)
		time.Sleep(10 * time.Millisecond)
	}
	if len(strays) != 1 || strays[0].Err == nil || !bytes.Contains(strays[0].Raw, []byte("NOT HTTP")) {
		t.Fatalf("the unparsable bytes must be a stray with its raw bytes, got %+v", strays)
	}
	if up.Bytes() != int64(len(req)+len(garbage)) {
		t.Errorf("counted %d bytes, sent %d", up.Bytes(), len(req)+len(garbage))
	}
}

func TestComparisonFindsAForwardedMethodOverrideAndADoubleEncodedDot(t *testing.T) {
	u := &Parsed{Method: "POST", RequestURI: "/v3/%252e%252e/admin", Header: map[string][]string{"x-http-method-override": {"DELETE"}}}
	var o Outcome
	semantic(&o, u, "POST")
	got := map[string]bool{}
	for _, d := range o.Discrepancies {
		got[d.ID()] = true
	}
	if !got["method_override_forwarded/x-http-method-override"] || !got["path_resolves_differently/double-decoding"] {
		t.Errorf("got %v", got)
	}
}

func TestJSONNumbersCompareAsExactDecimals(t *testing.T) {
	if !jsonEqual([]byte(`{"a":1E2}`), []byte(`{"a":100.0}`)) {
		t.Errorf("1E2 and 100.0 are one number")
	}
	if jsonEqual([]byte(`{"a":0.1}`), []byte(`{"a":0.10000000000000001}`)) {
		t.Errorf("0.1 and 0.10000000000000001 are two numbers")
	}
	if jsonEqual([]byte(`{"a":1e999999999}`), []byte(`{"a":1e999999998}`)) {
		t.Errorf("huge exponents compare as text, and these differ")
	}
}

func newTestLedger() *Ledger {
	return &Ledger{events: map[string][]*Event{}, traces: map[string][]*Traced{}, byID: map[string]*Traced{}, notify: make(chan struct{})}
}

func decidedEvent(id, tp, action, target string) *Event {
	body := fmt.Sprintf(`{"route":"crm","request":{"method":"GET","path":"/crm%s","upstream_target":%q,"headers":{"traceparent":%q},"size":0,
"body_sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"decision":{"action":%q,"obligations":{}}}`, target, target, tp, action)
	return &Event{Type: "exchange.decided", ExchangeID: id, Body: json.RawMessage(body), at: time.Now()}
}

func strayArrival(t *testing.T, tp, target string) *Arrival {
	raw := "GET " + target + " HTTP/1.1\r\nHost: h\r\ntraceparent: " + tp + "\r\n\r\n"
	ps, err := ParseAll([]byte(raw), 1<<20)
	if err != nil || len(ps) != 1 {
		t.Fatalf("parse: %v", err)
	}
	return &Arrival{At: time.Now(), Req: ps[0], Raw: []byte(raw)}
}

func TestAStrayIsMatchedByItsTraceparentToTheExchangeTheLedgerRecords(t *testing.T) {
	l := newTestLedger()
	l.add(decidedEvent("x-allowed", "tp-a", "allow", "/a"))
	l.add(decidedEvent("x-denied", "tp-d", "deny", "/d"))
	s := &strayResolver{ledger: l, authority: "h"}
	classes := func(a *Arrival) []string {
		oc, ok := s.resolve(a, true)
		if !ok {
			t.Fatalf("not resolved: %+v", a)
		}
		var out []string
		for _, d := range oc.Discrepancies {
			out = append(out, d.ID())
		}
		return out
	}
	// Forwarded but unclaimed: claimed now and checked (the record has no echo: policy_input_missing).
	if got := classes(strayArrival(t, "tp-a", "/a")); len(got) != 1 || got[0] != "policy_input_missing" || s.forwarded != 1 {
		t.Errorf("allowed stray: %v, forwarded %d", got, s.forwarded)
	}
	// The same exchange again: a duplicate.
	if got := classes(strayArrival(t, "tp-a", "/a")); len(got) != 1 || got[0] != "upstream_duplicate" {
		t.Errorf("second arrival: %v", got)
	}
	if got := classes(strayArrival(t, "tp-d", "/d")); len(got) != 1 || got[0] != "refused_bytes_upstream/decision-deny" {
		t.Errorf("denied stray: %v", got)
	}
	if got := classes(strayArrival(t, "tp-none", "/n")); len(got) != 1 || got[0] != "upstream_unattributed/not-in-ledger" {
		t.Errorf("unknown stray: %v", got)
	}
	garbage := &Arrival{At: time.Now(), Err: fmt.Errorf("bad"), Raw: []byte("X / HTTP/1.1\r\ntraceparent: tp-d\r\nbad line\r\n\r\n")}
	if got := classes(garbage); len(got) != 1 || got[0] != "upstream_duplicate" {
		t.Errorf("unparsable bytes must be matched by the traceparent line they hold: %v", got)
	}
	if _, ok := s.resolve(strayArrival(t, "tp-late", "/l"), false); ok {
		t.Error("a stray the ledger does not show yet must wait (the follower may lag)")
	}
}
