// Command holdclient is the load client of bench/approvals-memory.sh: it opens held requests on a
// Countersign agent port and counts pending approvals on its admin port. Standard library only.
//
//	holdclient sync     -addr 127.0.0.1:18080 -n 10000 -status FILE   # N connections, one held PATCH each, kept open
//	holdclient requests -addr 127.0.0.1:18080 -n 100000 -c 8 -method PATCH -body '{"discount_pct": 30}' \
//	                    -header 'Prefer: respond-async' -expect 202     # keep-alive load, counts statuses
//	holdclient count    -admin http://127.0.0.1:19090 -token T [-query workflow=W]   # GET /v1/approvals
//	holdclient pending  -admin http://127.0.0.1:19090 -token T   # /metrics gauges, else the list
//
// Every mode is bounded in time (-max). Output is key=value lines on stdout; progress on stderr.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: holdclient sync|requests|count [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "sync":
		os.Exit(syncHolds(os.Args[2:]))
	case "requests":
		os.Exit(requests(os.Args[2:]))
	case "count":
		os.Exit(count(os.Args[2:]))
	case "pending":
		os.Exit(pending(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "holdclient: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

func loopbackAddr(addr string) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "holdclient: %q is not a loopback address\n", addr)
		os.Exit(2)
	}
}

// ------------------------------------------------------------------------------------------ sync

// syncState counts what happened to the held connections.
type syncState struct {
	dialed, written, answered, closed, dialErrors, writeErrors atomic.Int64
	mu                                                         sync.Mutex
	statuses                                                   map[string]int
	firstAnswer, firstError                                    string
	allWrittenMs                                               atomic.Int64
}

func (s *syncState) note(status, first string, isErr bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status != "" {
		s.statuses[status]++
	}
	if isErr && s.firstError == "" {
		s.firstError = first
	}
	if !isErr && first != "" && s.firstAnswer == "" {
		s.firstAnswer = first
	}
}

func (s *syncState) line() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.statuses))
	for k := range s.statuses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var st []string
	for _, k := range keys {
		st = append(st, fmt.Sprintf("%s:%d", k, s.statuses[k]))
	}
	return fmt.Sprintf("dialed=%d written=%d answered=%d closed_by_peer=%d dial_errors=%d write_errors=%d all_written_ms=%d statuses=%s first_answer=%q first_error=%q",
		s.dialed.Load(), s.written.Load(), s.answered.Load(), s.closed.Load(), s.dialErrors.Load(),
		s.writeErrors.Load(), s.allWrittenMs.Load(), strings.Join(st, ","), s.firstAnswer, s.firstError)
}

func syncHolds(args []string) int {
	fs := flag.NewFlagSet("sync", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "agent port")
	n := fs.Int("n", 10000, "connections, one held request each")
	dialers := fs.Int("dialers", 128, "connections being opened at once (the agent port's backlog is 1024)")
	path := fs.String("path", "/crm/v3/deals/%d", "request path; %d is the connection's number")
	body := fs.String("body", `{"discount_pct": 30}`, "PATCH body")
	workflow := fs.String("workflow", "", "X-Countersign-Workflow (none when empty)")
	status := fs.String("status", "", "file rewritten every 500 ms with the counters")
	maxDur := fs.Duration("max", 30*time.Minute, "exit after this long at the latest")
	_ = fs.Parse(args)
	loopbackAddr(*addr)

	st := &syncState{statuses: map[string]int{}}
	st.allWrittenMs.Store(-1)
	start := time.Now()
	var connsMu sync.Mutex
	conns := make([]net.Conn, 0, *n)

	writeStatus := func() {
		if *status == "" {
			return
		}
		tmp := *status + ".tmp"
		if os.WriteFile(tmp, []byte(st.line()+"\n"), 0o644) == nil {
			_ = os.Rename(tmp, *status)
		}
	}

	sem := make(chan struct{}, *dialers)
	var wg sync.WaitGroup
	go func() {
		for i := 0; i < *n; i++ {
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var c net.Conn
				var err error
				for try := 0; try < 5; try++ { // a full backlog drops SYNs; retry a few times
					c, err = net.DialTimeout("tcp", *addr, 10*time.Second)
					if err == nil {
						break
					}
					time.Sleep(time.Duration(200*(try+1)) * time.Millisecond)
				}
				if err != nil {
					<-sem
					st.dialErrors.Add(1)
					st.note("", "dial: "+err.Error(), true)
					return
				}
				st.dialed.Add(1)
				connsMu.Lock()
				conns = append(conns, c)
				connsMu.Unlock()
				wf := ""
				if *workflow != "" {
					wf = "X-Countersign-Workflow: " + *workflow + "\r\n"
				}
				req := fmt.Sprintf("PATCH "+*path+" HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
					"Content-Length: %d\r\n%s\r\n%s", i, *addr, len(*body), wf, *body)
				_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				_, err = io.WriteString(c, req)
				<-sem
				if err != nil {
					st.writeErrors.Add(1)
					st.note("", "write: "+err.Error(), true)
					return
				}
				if st.written.Add(1) == int64(*n) {
					st.allWrittenMs.Store(time.Since(start).Milliseconds())
				}
				// A held request gets no answer until someone approves, denies, or it times out.
				r := bufio.NewReaderSize(c, 512)
				line, err := r.ReadString('\n')
				if line != "" {
					st.answered.Add(1)
					code := strings.Fields(line)
					s := "?"
					if len(code) > 1 {
						s = code[1]
					}
					rest, _ := io.ReadAll(io.LimitReader(r, 400))
					st.note(s, strings.TrimSpace(line)+" "+string(bytes.TrimSpace(rest)), false)
					return
				}
				if err != nil {
					st.closed.Add(1)
				}
			}(i)
		}
	}()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(*maxDur)
	lastLog := time.Now()
	for {
		select {
		case <-tick.C:
			writeStatus()
			if time.Since(lastLog) >= 5*time.Second {
				fmt.Fprintf(os.Stderr, "[holdclient sync %s] %s\n", time.Since(start).Round(time.Second), st.line())
				lastLog = time.Now()
			}
			continue
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "[holdclient sync] %v: closing %d connections\n", s, len(conns))
		case <-deadline:
			fmt.Fprintf(os.Stderr, "[holdclient sync] -max %v reached: closing\n", *maxDur)
		}
		break
	}
	connsMu.Lock()
	for _, c := range conns {
		_ = c.Close()
	}
	connsMu.Unlock()
	writeStatus()
	fmt.Println(st.line())
	return 0
}

// -------------------------------------------------------------------------------------- requests

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, "; ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func requests(args []string) int {
	fs := flag.NewFlagSet("requests", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "agent port")
	n := fs.Int("n", 1000, "requests in all")
	c := fs.Int("c", 8, "keep-alive connections in parallel")
	method := fs.String("method", "GET", "method")
	path := fs.String("path", "/crm/v3/deals/%d", "request path; %d is the request's number")
	body := fs.String("body", "", "body (sent as application/json when not empty)")
	expect := fs.Int("expect", 200, "the expected status; others are counted as errors")
	var headers headerList
	fs.Var(&headers, "header", "extra header 'Name: value' (repeatable)")
	maxDur := fs.Duration("max", 15*time.Minute, "stop sending after this long")
	failAfter := fs.Int64("fail-after", 0, "stop after this many unexpected answers or errors (0: never)")
	_ = fs.Parse(args)
	loopbackAddr(*addr)

	tr := &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, ok, bad, errs atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var firstBad, firstOK string
	start := time.Now()
	stop := time.Now().Add(*maxDur)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < *c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(*n) || time.Now().After(stop) || (*failAfter > 0 && bad.Load()+errs.Load() >= *failAfter) {
					return
				}
				var rb io.Reader
				if *body != "" {
					rb = strings.NewReader(*body)
				}
				req, _ := http.NewRequest(*method, "http://"+*addr+fmt.Sprintf(*path, i), rb)
				if *body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				for _, h := range headers {
					if k, v, found := strings.Cut(h, ":"); found {
						req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
					}
				}
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstBad == "" {
						firstBad = "error: " + err.Error()
					}
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode == *expect {
					ok.Add(1)
					if firstOK == "" {
						firstOK = string(bytes.TrimSpace(b))
					}
				} else {
					bad.Add(1)
					if firstBad == "" {
						firstBad = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
					}
				}
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			fmt.Fprintf(os.Stderr, "[holdclient requests %s] %d/%d answered (ok %d, other %d, errors %d)\n",
				time.Since(start).Round(time.Second), ok.Load()+bad.Load()+errs.Load(), *n, ok.Load(), bad.Load(), errs.Load())
		}
	}
	elapsed := time.Since(start)
	keys := make([]int, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var st []string
	for _, k := range keys {
		st = append(st, fmt.Sprintf("%d:%d", k, statuses[k]))
	}
	sent := ok.Load() + bad.Load() + errs.Load()
	fmt.Printf("requests=%d ok=%d other_status=%d errors=%d elapsed_ms=%d per_s=%.0f statuses=%s first_ok=%q first_bad=%q\n",
		sent, ok.Load(), bad.Load(), errs.Load(), elapsed.Milliseconds(), float64(sent)/elapsed.Seconds(),
		strings.Join(st, ","), trim(firstOK, 300), trim(firstBad, 400))
	if sent < int64(*n) || bad.Load() > 0 || errs.Load() > 0 {
		return 1
	}
	return 0
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ----------------------------------------------------------------------------------------- count

func count(args []string) int {
	fs := flag.NewFlagSet("count", flag.ExitOnError)
	admin := fs.String("admin", "http://127.0.0.1:19090", "admin base URL")
	token := fs.String("token", "", "approver bearer token")
	query := fs.String("query", "", "filter, e.g. workflow=bench-sync")
	timeout := fs.Duration("timeout", 120*time.Second, "deadline for the call")
	_ = fs.Parse(args)
	u := *admin + "/v1/approvals"
	if *query != "" {
		u += "?" + *query
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+*token)
	start := time.Now()
	resp, err := (&http.Client{Timeout: *timeout}).Do(req)
	if err != nil {
		fmt.Printf("count=-1 status=0 bytes=0 ms=%d error=%q\n", time.Since(start).Milliseconds(), err.Error())
		return 1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ms := time.Since(start).Milliseconds()
	if err != nil {
		fmt.Printf("count=-1 status=%d bytes=%d ms=%d error=%q\n", resp.StatusCode, len(b), ms, err.Error())
		return 1
	}
	var v struct {
		Count int `json:"count"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &v) != nil {
		fmt.Printf("count=-1 status=%d bytes=%d ms=%d error=%q\n", resp.StatusCode, len(b), ms, trim(string(b), 300))
		return 1
	}
	fmt.Printf("count=%d status=%d bytes=%d ms=%d\n", v.Count, resp.StatusCode, len(b), ms)
	return 0
}

// pending prints the open holds by mode from the admin port's Prometheus gauge
// countersign_approvals_pending{mode=...}; without /metrics, the total from GET /v1/approvals.
func pending(args []string) int {
	fs := flag.NewFlagSet("pending", flag.ExitOnError)
	admin := fs.String("admin", "http://127.0.0.1:19090", "admin base URL")
	token := fs.String("token", "", "approver bearer token (for the list fallback)")
	_ = fs.Parse(args)
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(*admin + "/metrics")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "countersign_approvals_pending{") {
				continue
			}
			f := strings.Fields(l)
			for _, mode := range []string{"sync", "async"} {
				if strings.Contains(l, `mode="`+mode+`"`) && len(f) == 2 {
					got[mode] = strings.TrimSuffix(f[1], ".0")
				}
			}
		}
		if resp.StatusCode == 200 && got["sync"] != "" && got["async"] != "" {
			fmt.Printf("sync=%s async=%s source=metrics\n", got["sync"], got["async"])
			return 0
		}
	}
	return count([]string{"-admin", *admin, "-token", *token})
}
