package fuzz

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Arrival is one request the recording upstream parsed (or failed to parse) on a connection.
type Arrival struct {
	Conn int64
	At   time.Time
	Req  *Parsed // nil when Err is set
	Err  error   // Go's parser refused the bytes
	Raw  []byte  // the request's own bytes (or, on Err, the connection's unparsed bytes)
}

// Upstream is the recording upstream: a raw TCP listener on loopback that reads every connection
// with Go's net/http request parser (http.ReadRequest, the parser net/http's Server uses), records
// each request with its exact byte span, and answers 200. It counts every byte it receives, parsed
// or not, so a refused request that leaked even one byte shows up.
type Upstream struct {
	ln       net.Listener
	maxBody  int64
	bytes    atomic.Int64 // every byte received, on every connection
	parsed   atomic.Int64 // bytes inside complete parsed requests
	conns    atomic.Int64
	mu       sync.Mutex
	byTrace  map[string][]*Arrival // traceparent -> arrivals not yet claimed
	orphans  []*Arrival            // arrivals without a traceparent, or parse errors
	open     map[int64]*connState
	notify   chan struct{} // closed and replaced whenever an arrival is recorded
	wg       sync.WaitGroup
	closed   atomic.Bool
	arrivals atomic.Int64
}

type connState struct {
	c    net.Conn
	recv atomic.Int64 // bytes received on this connection
	done atomic.Int64 // offset just past the last complete request
}

// StartUpstream listens on 127.0.0.1:0.
func StartUpstream(maxBody int64) (*Upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &Upstream{ln: ln, maxBody: maxBody, byTrace: map[string][]*Arrival{}, open: map[int64]*connState{},
		notify: make(chan struct{})}
	u.wg.Add(1)
	go u.accept()
	return u, nil
}

// Addr is host:port of the listener.
func (u *Upstream) Addr() string { return u.ln.Addr().String() }

// Bytes is the number of bytes received so far, on all connections.
func (u *Upstream) Bytes() int64 { return u.bytes.Load() }

// Arrivals is the number of requests (and parse failures) recorded so far.
func (u *Upstream) Arrivals() int64 { return u.arrivals.Load() }

// Close stops the listener and every connection.
func (u *Upstream) Close() {
	u.closed.Store(true)
	u.ln.Close()
	u.mu.Lock()
	for _, cs := range u.open {
		cs.c.Close()
	}
	u.mu.Unlock()
	u.wg.Wait()
}

func (u *Upstream) accept() {
	defer u.wg.Done()
	for {
		c, err := u.ln.Accept()
		if err != nil {
			return
		}
		id := u.conns.Add(1)
		u.wg.Add(1)
		go u.serve(id, c)
	}
}

// tee counts every byte and keeps the bytes of the request being read, so a parse failure or a
// request can be stored with its exact raw form.
type tee struct {
	u   *Upstream
	cs  *connState
	buf []byte
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.cs.c.Read(p)
	if n > 0 {
		t.u.bytes.Add(int64(n))
		t.cs.recv.Add(int64(n))
		t.buf = append(t.buf, p[:n]...)
	}
	return n, err
}

var okResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
var okHeadResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n")

func (u *Upstream) serve(id int64, c net.Conn) {
	defer u.wg.Done()
	defer c.Close()
	cs := &connState{c: c}
	t := &tee{u: u, cs: cs}
	s := NewStream(t, u.maxBody)
	u.mu.Lock()
	u.open[id] = cs
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.open, id)
		u.mu.Unlock()
	}()
	var consumed int64 // offset in the stream of t.buf[0]
	for {
		p, err := s.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if u.closed.Load() {
				return
			}
			if isConnReset(err) && s.Pulled() == s.Pos() {
				return // the proxy closed a pooled connection between requests
			}
			raw := append([]byte(nil), t.buf...)
			u.record(&Arrival{Conn: id, At: time.Now(), Err: err, Raw: raw})
			return
		}
		raw := append([]byte(nil), t.buf[p.Start-consumed:p.End-consumed]...)
		t.buf = t.buf[p.End-consumed:]
		consumed = p.End
		cs.done.Store(p.End)
		u.parsed.Add(p.End - p.Start)
		u.record(&Arrival{Conn: id, At: time.Now(), Req: p, Raw: raw})
		resp := okResponse
		if p.Method == "HEAD" {
			resp = okHeadResponse
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

func isConnReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func (u *Upstream) record(a *Arrival) {
	u.arrivals.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	close(u.notify)
	u.notify = make(chan struct{})
	if a.Req != nil {
		if tp, ok := a.Req.Joined("traceparent"); ok {
			u.byTrace[tp] = append(u.byTrace[tp], a)
			return
		}
	}
	u.orphans = append(u.orphans, a)
}

// Claim takes one arrival that carries this traceparent: the first that match accepts (the
// request the ledger recorded), waiting for one until the deadline; at the deadline, the first
// arrival with this traceparent, whatever it holds (the checks then say how it differs). Other
// arrivals with the same traceparent stay: another exchange may have recorded it too (an agent's
// own traceparent in two cases), and what no exchange claims is a stray.
func (u *Upstream) Claim(traceparent string, match func(*Arrival) bool, deadline time.Time) *Arrival {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		u.mu.Lock()
		got := u.byTrace[traceparent]
		for i, a := range got {
			if match == nil || match(a) {
				u.takeLocked(traceparent, i)
				u.mu.Unlock()
				return a
			}
		}
		wake := u.notify
		u.mu.Unlock()
		select {
		case <-wake:
		case <-timer.C:
			u.mu.Lock()
			defer u.mu.Unlock()
			if got := u.byTrace[traceparent]; len(got) > 0 {
				a := got[0]
				u.takeLocked(traceparent, 0)
				return a
			}
			return nil
		}
	}
}

func (u *Upstream) takeLocked(tp string, i int) {
	got := u.byTrace[tp]
	rest := append(append([]*Arrival(nil), got[:i]...), got[i+1:]...)
	if len(rest) == 0 {
		delete(u.byTrace, tp)
	} else {
		u.byTrace[tp] = rest
	}
}

// Unclaimed removes and returns the arrivals that nobody claimed and that are older than age:
// requests whose traceparent matched no forwarded exchange, parse failures, requests without a
// traceparent.
func (u *Upstream) Unclaimed(age time.Duration) []*Arrival {
	cut := time.Now().Add(-age)
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []*Arrival
	keep := u.orphans[:0]
	for _, a := range u.orphans {
		if a.At.Before(cut) {
			out = append(out, a)
		} else {
			keep = append(keep, a)
		}
	}
	u.orphans = keep
	for tp, as := range u.byTrace {
		var young []*Arrival
		for _, a := range as {
			if a.At.Before(cut) {
				out = append(out, a)
			} else {
				young = append(young, a)
			}
		}
		if len(young) == 0 {
			delete(u.byTrace, tp)
		} else {
			u.byTrace[tp] = young
		}
	}
	return out
}

// Pending returns, per open connection, the bytes received but not (yet) part of a complete
// request: at the end of a run every one must be 0, or bytes reached the upstream that no parse
// accounts for.
func (u *Upstream) Pending() map[int64]int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[int64]int64{}
	for id, cs := range u.open {
		if d := cs.recv.Load() - cs.done.Load(); d != 0 {
			out[id] = d
		}
	}
	return out
}

// Stats is a one-line summary.
func (u *Upstream) Stats() string {
	return fmt.Sprintf("upstream: %d connections, %d requests, %d bytes (%d inside parsed requests)",
		u.conns.Load(), u.arrivals.Load(), u.bytes.Load(), u.parsed.Load())
}
