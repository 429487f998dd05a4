package fuzz

import (
	"net/url"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestTheSameSeedMakesTheSameAnswers(t *testing.T) {
	req := &Parsed{Method: "GET", RequestURI: "/ans/3", Header: map[string][]string{"authorization": {AnswerCredential}}}
	for i := 0; i < 200; i++ {
		a, b := BuildAnswer(9, i, req), BuildAnswer(9, i, req)
		if !bytes.Equal(a.Raw, b.Raw) || a.CloseAfter != b.CloseAfter {
			t.Fatalf("answer %d differs between two builds", i)
		}
		if x, y := MakeAnswerRequest(9, i), MakeAnswerRequest(9, i); !bytes.Equal(x.Raw, y.Raw) {
			t.Fatalf("request %d differs between two builds", i)
		}
	}
	if r := MakeAnswerRequest(9, 17); answerIndex(strings.Fields(string(r.Raw))[1]) != 17 {
		t.Errorf("the request's target must name its case: %q", r.Raw)
	}
}

func TestTheHostileUpstreamEchoesTheCredentialItReceivedInManyForms(t *testing.T) {
	req := &Parsed{Method: "GET", RequestURI: "/ans/0", Header: map[string][]string{"authorization": {AnswerCredential}}}
	seen := map[string]bool{}
	for i := 0; i < 3000; i++ {
		raw := BuildAnswer(1, i, req).Raw
		for _, f := range CredentialForms() {
			if bytes.Contains(raw, []byte(f.Text)) {
				seen[f.Name] = true
			}
		}
	}
	for _, f := range CredentialForms() {
		if !seen[f.Name] {
			t.Errorf("no answer in 3000 carries the credential as %s", f.Name)
		}
	}
}

func TestTheCredentialIsLocatedInTheStatusLineHeadersOrBody(t *testing.T) {
	raw := []byte("HTTP/1.1 200 S\r\nX-A: H\r\n\r\nB")
	for sub, want := range map[string]string{"S": "status-line", "H": "headers", "B": "body"} {
		if got := wherein(raw, bytes.LastIndex(raw, []byte(sub))); got != want {
			t.Errorf("%s: %s, want %s", sub, got, want)
		}
	}
}

func TestAnswerHeadersCompareWithTheLedgerRedactedMatchingAnyValue(t *testing.T) {
	got := http.Header{"Set-Cookie": {"a=1"}, "X-A": {"1", "2"}, "Connection": {"close"}}
	if d := answerHeaderDiff(got, map[string]string{"set-cookie": "[redacted]", "x-a": "1, 2"}); d != "" {
		t.Errorf("equal headers reported as %s", d)
	}
	if d := answerHeaderDiff(got, map[string]string{"set-cookie": "[redacted]", "x-a": "1", "content-length": "0"}); !strings.Contains(d, "x-a") || !strings.Contains(d, "content-length") {
		t.Errorf("a different value and a header the agent did not get must be reported: %s", d)
	}
}

func TestTheScrubModelReplacesThePromisedFormsOnly(t *testing.T) {
	// every generated form is promised now; a spelling the proxy does not list (the token
	// percent-encoded twice) stays
	lower := url.QueryEscape(url.QueryEscape(AnswerToken))
	body := []byte("a " + AnswerCredential + " b " + percentAll(AnswerToken) + " c " + lower)
	want := "a " + scrubMark + " b " + scrubMark + " c " + lower
	if got := string(scrubModel(body)); got != want {
		t.Errorf("scrubModel: %q, want %q", got, want)
	}
}
