package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	cases := []struct {
		note       string
		wire       string
		status     int
		closeAfter bool
		snippet    string
	}{
		{note: "content-length body", wire: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200},
		{note: "chunked body with trailer", wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n", status: 200},
		{note: "connection close", wire: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 200, closeAfter: true},
		{note: "non-2xx keeps a snippet", wire: "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\n{\"d\":\"n\"}", status: 403, snippet: `{"d":"n"}`},
		{note: "204 has no body", wire: "HTTP/1.1 204 No Content\r\n\r\n", status: 204},
		{note: "http/1.0 closes", wire: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, closeAfter: true},
	}
	for _, c := range cases {
		// Two responses back to back: the first must be consumed exactly.
		r := bufio.NewReader(strings.NewReader(c.wire + c.wire))
		for n := 0; n < 2; n++ {
			resp, err := readResponse(r, "GET")
			if err != nil {
				t.Fatalf("%s: response %d: %v", c.note, n, err)
			}
			if resp.status != c.status || resp.closeAfter != c.closeAfter || string(resp.snippet) != c.snippet {
				t.Errorf("%s: got status %d close %v snippet %q", c.note, resp.status, resp.closeAfter, resp.snippet)
			}
		}
	}
}

func TestReadResponseRefusesGarbage(t *testing.T) {
	for _, wire := range []string{"SSH-2.0-x\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"} {
		if _, err := readResponse(bufio.NewReader(strings.NewReader(wire)), "GET"); err == nil {
			t.Errorf("%q: no error", wire)
		}
	}
}

// A response that stalls holds up the requests due behind it on the same connection; their
// latency must count from when they were due, not from when they could finally be sent.
func TestStallCountsAgainstTheRequestsQueuedBehindIt(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 50 {
			time.Sleep(200 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/x")
	req, _ := buildRequest("GET", u, nil, "")
	rr := run(config{
		addr: u.Host, request: req, method: "GET", rate: 100, connections: 1,
		duration: 2 * time.Second, timeout: 2 * time.Second, grace: time.Second,
	})
	st := rr.stats
	if st.measured != 200 || st.ok2xx != 200 {
		t.Fatalf("measured %d, 2xx %d, errors %v, unsent %d", st.measured, st.ok2xx, st.errors, st.unsent)
	}
	// About 20 requests were due during the 200 ms stall: ~10 % of the run waited 100 ms or more.
	if got := st.latency.ValueAtQuantile(95); got < 80_000 {
		t.Errorf("p95 latency from the due time = %d µs, want >= 80 ms (coordinated omission?)", got)
	}
	// Measured from the send, only the one stalled request is slow.
	if got := st.service.ValueAtQuantile(95); got > 50_000 {
		t.Errorf("p95 service time = %d µs, want < 50 ms", got)
	}
	if st.queuedSends < 10 {
		t.Errorf("queued sends = %d, want the ~20 requests due during the stall", st.queuedSends)
	}
}

func TestWarmupIsNotRecorded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	req, _ := buildRequest("PATCH", u, []string{"Content-Type: application/json"}, `{"discount_pct": 10}`)
	rr := run(config{
		addr: u.Host, request: req, method: "PATCH", rate: 200, connections: 4,
		warmup: 500 * time.Millisecond, duration: time.Second, timeout: time.Second,
	})
	if st := rr.stats; st.measured != 200 {
		t.Errorf("measured %d requests, want the 200 due after the warm-up", st.measured)
	}
}

func TestUnreachableTargetCountsConnectErrorsAndStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	u, _ := url.Parse(srv.URL)
	srv.Close() // nothing listens there any more
	req, _ := buildRequest("GET", u, nil, "")
	start := time.Now()
	rr := run(config{
		addr: u.Host, request: req, method: "GET", rate: 100, connections: 2,
		duration: 500 * time.Millisecond, timeout: 200 * time.Millisecond, grace: 200 * time.Millisecond,
	})
	if st := rr.stats; st.errors["connect"] == 0 || st.measured != 0 {
		t.Errorf("errors %v, measured %d", st.errors, st.measured)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("run took %v against a closed port", took)
	}
}

func TestTargetThatCannotKeepUpIsGivenUpAfterTheGracePeriod(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // 20 req/s on one connection
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	req, _ := buildRequest("GET", u, nil, "")
	start := time.Now()
	rr := run(config{
		addr: u.Host, request: req, method: "GET", rate: 200, connections: 1,
		duration: time.Second, timeout: time.Second, grace: 200 * time.Millisecond,
	})
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("run took %v; the grace period should have ended it after ~1.2 s", took)
	}
	if rr.unsent < 150 || rr.measured > 40 {
		t.Errorf("unsent %d, measured %d: want most of the 200 requests given up", rr.unsent, rr.measured)
	}
}
