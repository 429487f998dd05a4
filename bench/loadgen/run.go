package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to 60 s, 3 significant digits.
const (
	histMinUs = 1
	histMaxUs = 60_000_000
	histSig   = 3
	// The pacer does not sleep for less than this: the kernel's timer slack is about as long.
	minSleep = 20 * time.Microsecond
	// A release or a send later than this counts as late in the schedule report.
	lateThreshold = time.Millisecond
	// The most releases that may wait for a free connection; past it the pacer waits too (which
	// then shows as pacer lag). Bounds the memory of a run against a stalled target.
	maxQueued = 1 << 20
)

// config is one open-loop run: a constant rate over warm-up plus measurement.
type config struct {
	addr        string // host:port to dial
	request     []byte // the serialized request, sent as is
	method      string
	rate        float64 // requests per second, over all connections
	connections int
	warmup      time.Duration
	duration    time.Duration
	timeout     time.Duration // per connect and per response
	// grace is how long after the schedule's end requests still waiting may be sent; the rest is
	// counted as unsent, so a target that cannot keep up cannot stretch the run.
	grace time.Duration
}

// schedule says when request i is due: start + i/rate.
type schedule struct {
	start    time.Time
	interval float64 // nanoseconds between requests
	warmupN  int64   // requests before this index are not recorded
	totalN   int64
	cutoff   time.Time // nothing is sent after this
}

func (s *schedule) due(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) * s.interval))
}

// release is one request the pacer let go: its index and when it was let go.
type release struct {
	i        int64
	released time.Time
}

// stats is one connection's record; merged at the end, so the hot path takes no lock.
type stats struct {
	latency  *hdrhistogram.Histogram // µs from the due time to the end of the response
	service  *hdrhistogram.Histogram // µs from the actual send to the end of the response
	measured int64                   // responses of measured requests, any status
	ok2xx    int64
	statuses map[int]int64
	errors   map[string]int64 // connect, write, read, timeout, parse
	firstBad string
	// queuedSends: a measured request waited > lateThreshold between its release and its send,
	// because every connection was busy (the target was slower than the rate).
	queuedSends int64
	reconnects  int64
	unsent      int64
	lastEnd     time.Time
}

func newStats() *stats {
	return &stats{
		latency:  hdrhistogram.New(histMinUs, histMaxUs, histSig),
		service:  hdrhistogram.New(histMinUs, histMaxUs, histSig),
		statuses: map[int]int64{},
		errors:   map[string]int64{},
	}
}

func (s *stats) merge(o *stats) {
	s.latency.Merge(o.latency)
	s.service.Merge(o.service)
	s.measured += o.measured
	s.ok2xx += o.ok2xx
	for k, v := range o.statuses {
		s.statuses[k] += v
	}
	for k, v := range o.errors {
		s.errors[k] += v
	}
	if s.firstBad == "" {
		s.firstBad = o.firstBad
	}
	s.queuedSends += o.queuedSends
	s.reconnects += o.reconnects
	s.unsent += o.unsent
	if o.lastEnd.After(s.lastEnd) {
		s.lastEnd = o.lastEnd
	}
}

// pacerReport is what the pacer knows about its own timeliness.
type pacerReport struct {
	lag     *hdrhistogram.Histogram // µs from the due time to the release, measured requests
	late    int64                   // measured releases later than lateThreshold
	unsent  int64                   // measured requests never released (past the cutoff)
	elapsed time.Duration
}

// result is a whole run.
type runResult struct {
	*stats
	pacer        pacerReport
	measureStart time.Time
}

// run drives cfg.connections connections at cfg.rate and returns the merged record.
//
// One pacer, on its own OS thread, sleeps with nanosleep until each request is due and releases
// it to whichever connection is free; a release no connection is free for waits in a queue, and
// its latency still counts from its due time (no coordinated omission). Go's own timers are not
// used for pacing: when the process is idle they wake through the netpoller, whose timeout has
// millisecond granularity, which would add up to a millisecond of the generator's own lateness
// to latencies measured in tenths of one.
//
// Every wait is bounded: connects and responses by cfg.timeout, the schedule by cfg.grace.
func run(cfg config) runResult {
	s := &schedule{
		interval: 1e9 / cfg.rate,
		warmupN:  int64(cfg.rate * cfg.warmup.Seconds()),
		totalN:   int64(cfg.rate * (cfg.warmup + cfg.duration).Seconds()),
	}
	// Dial every connection before the clock starts, so connection setup is not measured.
	conns := make([]net.Conn, cfg.connections)
	dialErrs := int64(0)
	for i := range conns {
		c, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
		if err != nil {
			dialErrs++
			continue
		}
		conns[i] = c
	}
	s.start = time.Now().Add(10 * time.Millisecond)
	s.cutoff = s.start.Add(cfg.warmup + cfg.duration + cfg.grace)

	queue := make(chan release, min(s.totalN, maxQueued))
	all := make([]*stats, cfg.connections)
	var wg sync.WaitGroup
	for i := range conns {
		all[i] = newStats()
		wg.Add(1)
		go func(c net.Conn, st *stats) {
			defer wg.Done()
			worker(cfg, s, queue, c, st)
		}(conns[i], all[i])
	}
	pr := pace(s, queue)
	wg.Wait()
	merged := newStats()
	merged.errors["connect"] += dialErrs
	for _, st := range all {
		merged.merge(st)
	}
	merged.unsent += pr.unsent
	return runResult{stats: merged, pacer: pr, measureStart: s.due(s.warmupN)}
}

// pace releases requests at their due times until the schedule ends or the cutoff passes, then
// closes the queue. It keeps its OS thread, which spends its time in nanosleep.
func pace(s *schedule, queue chan<- release) pacerReport {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pr := pacerReport{lag: hdrhistogram.New(histMinUs, histMaxUs, histSig)}
	defer close(queue)
	for i := int64(0); i < s.totalN; i++ {
		due := s.due(i)
		now := time.Now()
		if wait := due.Sub(now); wait > minSleep {
			ts := syscall.NsecToTimespec(int64(wait))
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
			now = time.Now()
		}
		if now.After(s.cutoff) {
			pr.unsent = s.totalN - max(i, s.warmupN)
			break
		}
		if i >= s.warmupN {
			lag := now.Sub(due)
			pr.lag.RecordValue(max(lag.Microseconds(), 0))
			if lag > lateThreshold {
				pr.late++
			}
		}
		queue <- release{i: i, released: now}
	}
	pr.elapsed = time.Since(s.start)
	return pr
}

func worker(cfg config, s *schedule, queue <-chan release, c net.Conn, st *stats) {
	var r *bufio.Reader
	if c != nil {
		r = bufio.NewReaderSize(c, 16<<10)
	}
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for rel := range queue {
		measured := rel.i >= s.warmupN
		if time.Now().After(s.cutoff) {
			// Still waiting past the grace period: given up.
			if measured {
				st.unsent++
			}
			continue
		}
		if c == nil {
			var err error
			c, err = net.DialTimeout("tcp", cfg.addr, cfg.timeout)
			if err != nil {
				if measured {
					st.errors["connect"]++
				}
				c = nil
				// Do not spin on a refusing port (bounded: the queue ends at the cutoff).
				time.Sleep(min(cfg.timeout, 10*time.Millisecond))
				continue
			}
			st.reconnects++
			r = bufio.NewReaderSize(c, 16<<10)
		}
		sent := time.Now()
		if measured && sent.Sub(rel.released) > lateThreshold {
			st.queuedSends++
		}
		c.SetDeadline(sent.Add(cfg.timeout))
		resp, kind := exchange(c, r, cfg)
		end := time.Now()
		if kind != "" {
			if measured {
				st.errors[kind]++
			}
			c.Close()
			c = nil
			continue
		}
		if measured {
			st.latency.RecordValue(max(end.Sub(s.due(rel.i)).Microseconds(), 1))
			st.service.RecordValue(max(end.Sub(sent).Microseconds(), 1))
			st.measured++
			st.statuses[resp.status]++
			if resp.status >= 200 && resp.status <= 299 {
				st.ok2xx++
			} else if st.firstBad == "" {
				st.firstBad = strconv.Itoa(resp.status) + " " + string(resp.snippet)
			}
			st.lastEnd = end
		}
		if resp.closeAfter {
			c.Close()
			c = nil
		}
	}
}

// exchange writes the request and reads one response; kind names the failure, "" on success.
func exchange(c net.Conn, r *bufio.Reader, cfg config) (response, string) {
	if _, err := c.Write(cfg.request); err != nil {
		return response{}, errorKind(err, "write")
	}
	resp, err := readResponse(r, cfg.method)
	if err != nil {
		return resp, errorKind(err, "read")
	}
	return resp, ""
}

func errorKind(err error, fallback string) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, errParse):
		return "parse"
	default:
		return fallback
	}
}
