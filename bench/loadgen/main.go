// Command loadgen is the benchmark's open-loop HTTP/1.1 load generator: it sends requests at a
// fixed rate over N keep-alive connections and measures each latency from the time the request was
// due to be sent, not from when it was sent, so a slow response that delays the requests queued
// behind it counts against the target (no coordinated omission, as in wrk2).
//
//	loadgen -url http://127.0.0.1:19210/crm/v3/deals/42 -rate 2000 -duration 10s -warmup 3s
//
// Request i is due at t0 + i/rate; a pacer releases it then to whichever connection is free, or it
// waits for one. Requests due during the warm-up are sent but not recorded. Latencies go into an
// HdrHistogram (1 µs to 60 s, 3 significant digits). The result is one JSON object on stdout (or
// -out): counts, errors by kind, statuses, achieved rate, latency percentiles in µs, and a schedule
// report that says whether the generator kept up with its own schedule.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// result is the JSON the generator prints. Times are µs unless the name says otherwise.
type result struct {
	Label        string           `json:"label,omitempty"`
	URL          string           `json:"url"`
	Method       string           `json:"method"`
	TargetRate   float64          `json:"target_rate"`
	AchievedRate float64          `json:"achieved_rate"`
	Connections  int              `json:"connections"`
	WarmupS      float64          `json:"warmup_s"`
	DurationS    float64          `json:"duration_s"`
	Count        int64            `json:"count"`
	OK2xx        int64            `json:"ok_2xx"`
	Non2xx       int64            `json:"non_2xx"`
	Statuses     map[string]int64 `json:"statuses"`
	Errors       map[string]int64 `json:"errors"`
	ErrorsTotal  int64            `json:"errors_total"`
	Unsent       int64            `json:"unsent"`
	FirstNon2xx  string           `json:"first_non_2xx,omitempty"`
	LatencyUs    percentiles      `json:"latency_us"`
	ServiceUs    percentiles      `json:"service_time_us"`
	Schedule     scheduleReport   `json:"schedule"`
	Reconnects   int64            `json:"reconnects"`
	CPUPercent   float64          `json:"generator_cpu_pct"`
}

type percentiles struct {
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p99_9"`
	Max  int64   `json:"max"`
	Mean float64 `json:"mean"`
}

// scheduleReport says whether the numbers measure the target at the asked rate.
//
// GeneratorBehind: more than 1 % of the measured requests were released more than 1 ms after they
// were due, so the generator itself could not keep its schedule (too little CPU for it); the
// latencies then include its own lateness. TargetBehind: the achieved rate fell short of the
// target rate by more than 2 %, requests went unsent, or more than 1 % of the requests waited more
// than 1 ms for a free connection: the target (or the number of connections) could not keep up
// with the rate, and the latencies are dominated by queueing, as they would be for real clients.
type scheduleReport struct {
	Behind              bool   `json:"behind"`
	GeneratorBehind     bool   `json:"generator_behind"`
	TargetBehind        bool   `json:"target_behind"`
	Reason              string `json:"reason,omitempty"`
	LateReleasesOver1ms int64  `json:"late_releases_over_1ms"`
	ReleaseLagP99Us     int64  `json:"release_lag_p99_us"`
	ReleaseLagMaxUs     int64  `json:"release_lag_max_us"`
	QueuedSendsOver1ms  int64  `json:"queued_sends_over_1ms"`
}

func main() {
	var headers headerList
	rawURL := flag.String("url", "", "target URL (http only)")
	method := flag.String("method", "GET", "HTTP method")
	body := flag.String("body", "", "request body")
	flag.Var(&headers, "header", "request header NAME: VALUE (repeatable)")
	rate := flag.Float64("rate", 1000, "requests per second over all connections")
	conns := flag.Int("connections", 32, "keep-alive connections")
	duration := flag.Duration("duration", 10*time.Second, "measured period")
	warmup := flag.Duration("warmup", 3*time.Second, "period before the measurement, same rate, not recorded")
	timeout := flag.Duration("timeout", 2*time.Second, "connect and response deadline")
	grace := flag.Duration("grace", 2*time.Second, "how long overdue requests may still be sent after the schedule ends")
	label := flag.String("label", "", "name echoed in the JSON")
	out := flag.String("out", "", "write the JSON here instead of stdout")
	flag.Parse()

	u, err := url.Parse(*rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		usage("-url must be an http:// URL, got %q", *rawURL)
	}
	if *rate <= 0 || *conns <= 0 || *duration <= 0 || *warmup < 0 || *timeout <= 0 || *grace < 0 {
		usage("-rate, -connections, -duration and -timeout must be > 0, -warmup and -grace >= 0")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	req, err := buildRequest(*method, u, headers, *body)
	if err != nil {
		usage("%v", err)
	}
	cfg := config{
		addr: addr, request: req, method: *method, rate: *rate, connections: *conns,
		warmup: *warmup, duration: *duration, timeout: *timeout, grace: *grace,
	}

	cpu0 := cpuTime()
	wall0 := time.Now()
	rr := run(cfg)
	cpuPct := 100 * (cpuTime() - cpu0).Seconds() / time.Since(wall0).Seconds()

	res := summarize(cfg, rr)
	res.Label, res.URL, res.Method = *label, *rawURL, *method
	res.CPUPercent = math.Round(cpuPct*10) / 10
	enc, _ := json.MarshalIndent(res, "", "  ")
	enc = append(enc, '\n')
	if *out == "" {
		os.Stdout.Write(enc)
	} else if err := os.WriteFile(*out, enc, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

func summarize(cfg config, rr runResult) result {
	st, pr := rr.stats, rr.pacer
	res := result{
		TargetRate:  cfg.rate,
		Connections: cfg.connections,
		WarmupS:     cfg.warmup.Seconds(),
		DurationS:   cfg.duration.Seconds(),
		Count:       st.measured,
		OK2xx:       st.ok2xx,
		Non2xx:      st.measured - st.ok2xx,
		Statuses:    map[string]int64{},
		Errors:      map[string]int64{"connect": 0, "write": 0, "read": 0, "timeout": 0, "parse": 0},
		Unsent:      st.unsent,
		FirstNon2xx: st.firstBad,
		LatencyUs:   pct(st.latency),
		ServiceUs:   pct(st.service),
		Reconnects:  st.reconnects,
	}
	for code, n := range st.statuses {
		res.Statuses[strconv.Itoa(code)] = n
	}
	for kind, n := range st.errors {
		res.Errors[kind] += n
		res.ErrorsTotal += n
	}
	// The achieved rate counts responses over the span from the first measured due time to the
	// last response; at least the nominal duration, so an early finish cannot inflate it.
	span := max(st.lastEnd.Sub(rr.measureStart), cfg.duration)
	res.AchievedRate = math.Round(float64(st.measured)/span.Seconds()*10) / 10

	sr := scheduleReport{
		LateReleasesOver1ms: pr.late,
		ReleaseLagP99Us:     pr.lag.ValueAtQuantile(99),
		ReleaseLagMaxUs:     pr.lag.Max(),
		QueuedSendsOver1ms:  st.queuedSends,
	}
	var reasons []string
	if released := pr.lag.TotalCount(); released > 0 && float64(pr.late) > 0.01*float64(released) {
		sr.GeneratorBehind = true
		reasons = append(reasons, fmt.Sprintf("generator released %d of %d requests > 1 ms late", pr.late, released))
	}
	if res.AchievedRate < 0.98*cfg.rate {
		sr.TargetBehind = true
		reasons = append(reasons, fmt.Sprintf("achieved %.0f of %.0f req/s", res.AchievedRate, cfg.rate))
	}
	if st.unsent > 0 {
		sr.TargetBehind = true
		reasons = append(reasons, fmt.Sprintf("%d requests unsent at the end of the grace period", st.unsent))
	}
	if float64(st.queuedSends) > 0.01*float64(max(st.measured, 1)) {
		sr.TargetBehind = true
		reasons = append(reasons, fmt.Sprintf("%d requests waited > 1 ms for a free connection", st.queuedSends))
	}
	sr.Behind = sr.GeneratorBehind || sr.TargetBehind
	sr.Reason = strings.Join(reasons, "; ")
	res.Schedule = sr
	return res
}

func pct(h *hdrhistogram.Histogram) percentiles {
	return percentiles{
		P50:  h.ValueAtQuantile(50),
		P90:  h.ValueAtQuantile(90),
		P99:  h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9),
		Max:  h.Max(),
		Mean: math.Round(h.Mean()*10) / 10,
	}
}

// cpuTime is the CPU (user + system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	flag.Usage()
	os.Exit(2)
}
