package main

import (
	"bufio"
	"errors"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to 60 s, 3 significant digits.
const (
	histMinUs = 1
	histMaxUs = 60_000_000
	histSig   = 3
	// A send may go up to this much before its intended time instead of sleeping: timers cannot
	// wake a goroutine much more precisely, and sleeping for less costs more CPU than it saves.
	earlySlack = 50 * time.Microsecond
	// abandoned is stored in the ticket counter when the run gives up; far above any real count.
	abandoned = math.MaxInt64 / 2
	// A wake-up or a send later than this counts as late in the schedule report.
	lateThreshold = time.Millisecond
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
	// grace is how long after the schedule's end tickets still overdue may be sent; the rest is
	// counted as unsent, so a target that cannot keep up cannot stretch the run.
	grace time.Duration
}

// schedule hands out request tickets. Ticket i is due at start + i/rate, whichever connection
// takes it: a connection busy with a slow response leaves its due tickets to the others or to
// itself later, and their latency counts from the due time (no coordinated omission).
type schedule struct {
	start    time.Time
	interval float64 // nanoseconds between tickets
	warmupN  int64   // tickets before this index are not recorded
	totalN   int64
	cutoff   time.Time // no ticket is sent after this
	next     atomic.Int64
}

func (s *schedule) due(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) * s.interval))
}

// stats is one connection's record; merged at the end, so the hot path takes no lock.
type stats struct {
	latency  *hdrhistogram.Histogram // µs from the due time (or the send, if earlier) to the end
	service  *hdrhistogram.Histogram // µs from the actual send to the end of the response
	wakeLag  *hdrhistogram.Histogram // µs a sleeping connection woke after the due time
	measured int64                   // responses of measured tickets, any status
	ok2xx    int64
	statuses map[int]int64
	errors   map[string]int64 // connect, write, read, timeout, parse
	firstBad string
	// lateWakeups: the connection slept until the due time and woke > lateThreshold after it (the
	// generator could not keep its own schedule). queuedSends: a ticket was already overdue by
	// > lateThreshold when a connection became free (the target, or the generator, was slower than
	// the rate). Both only for measured tickets.
	lateWakeups int64
	queuedSends int64
	reconnects  int64
	unsent      int64
	lastEnd     time.Time
}

func newStats() *stats {
	return &stats{
		latency:  hdrhistogram.New(histMinUs, histMaxUs, histSig),
		service:  hdrhistogram.New(histMinUs, histMaxUs, histSig),
		wakeLag:  hdrhistogram.New(histMinUs, histMaxUs, histSig),
		statuses: map[int]int64{},
		errors:   map[string]int64{},
	}
}

func (s *stats) merge(o *stats) {
	s.latency.Merge(o.latency)
	s.service.Merge(o.service)
	s.wakeLag.Merge(o.wakeLag)
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
	s.lateWakeups += o.lateWakeups
	s.queuedSends += o.queuedSends
	s.reconnects += o.reconnects
	s.unsent += o.unsent
	if o.lastEnd.After(s.lastEnd) {
		s.lastEnd = o.lastEnd
	}
}

// run drives cfg.connections connections through the schedule and returns the merged record.
// Every wait is bounded: connects and responses by cfg.timeout, the schedule by cfg.grace.
func run(cfg config) (*stats, time.Time) {
	total := int64(cfg.rate * (cfg.warmup + cfg.duration).Seconds())
	s := &schedule{
		interval: 1e9 / cfg.rate,
		warmupN:  int64(cfg.rate * cfg.warmup.Seconds()),
		totalN:   total,
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

	all := make([]*stats, cfg.connections)
	var wg sync.WaitGroup
	for i := range conns {
		all[i] = newStats()
		wg.Add(1)
		go func(c net.Conn, st *stats) {
			defer wg.Done()
			worker(cfg, s, c, st)
		}(conns[i], all[i])
	}
	wg.Wait()
	merged := newStats()
	merged.errors["connect"] += dialErrs
	for _, st := range all {
		merged.merge(st)
	}
	return merged, s.due(s.warmupN)
}

func worker(cfg config, s *schedule, c net.Conn, st *stats) {
	var r *bufio.Reader
	if c != nil {
		r = bufio.NewReaderSize(c, 16<<10)
	}
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		i := s.next.Add(1) - 1
		if i >= s.totalN {
			return
		}
		measured := i >= s.warmupN
		due := s.due(i)
		now := time.Now()
		if now.After(s.cutoff) {
			// Behind schedule past the grace period: this ticket and every one not yet handed
			// out are given up (the first connection to get here counts the latter).
			if measured {
				st.unsent++
			}
			if old := s.next.Swap(abandoned); old < s.totalN {
				st.unsent += s.totalN - max(old, s.warmupN)
			}
			return
		}
		if wait := due.Sub(now); wait > earlySlack {
			timer.Reset(wait)
			<-timer.C
			now = time.Now()
			if measured {
				lag := now.Sub(due)
				st.wakeLag.RecordValue(max(lag.Microseconds(), 0))
				if lag > lateThreshold {
					st.lateWakeups++
				}
			}
		} else if measured && -wait > lateThreshold {
			st.queuedSends++
		}
		if c == nil {
			var err error
			c, err = net.DialTimeout("tcp", cfg.addr, cfg.timeout)
			if err != nil {
				if measured {
					st.errors["connect"]++
				}
				c = nil
				// Do not spin on a refusing port: wait out this ticket's slot (bounded by timeout).
				time.Sleep(min(cfg.timeout, 10*time.Millisecond))
				continue
			}
			st.reconnects++
			r = bufio.NewReaderSize(c, 16<<10)
		}
		sent := time.Now()
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
			// From the due time, or from the send when the early slack sent it before that: the
			// earlier of the two, so a latency is never under-counted.
			from := due
			if sent.Before(due) {
				from = sent
			}
			st.latency.RecordValue(max(end.Sub(from).Microseconds(), 1))
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
