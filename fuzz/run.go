package fuzz

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options of one fuzz run.
type Options struct {
	Repo        string
	Engine      string
	Seed        uint64
	Cases       int           // generated cases (the corpus files are replayed first, on top)
	MaxDuration time.Duration // stop generating after this (0 = no limit)
	Concurrency int
	CorpusDirs  []string // seeds and reproducers to replay and mutate
	ReproDir    string   // where minimized reproducers are written ("" = not written)
	OpenFile    string   // classes known open (reported, not failing)
	Minimize    int      // budget of replays per reproducer (0 = no minimization)
	Out         io.Writer
}

// Report is the result of a run.
type Report struct {
	Cases, Exchanges, Forwarded, Refused, NoAnswer int
	FailedClosed, Strays, StrayBytes               int
	Elapsed                                        time.Duration
	Answered, Journaled                            time.Duration // summed over cases
	ByClass                                        map[string]int
	Examples                                       map[string]example
	Reproducers                                    map[string]string // class -> file
	// Strays, each matched by its traceparent to the exchange.decided that recorded it:
	StrayForwarded              int      // allowed and forwarded, but no case read the answer: claimed from the ledger and checked
	StrayRefused                int      // the exchange was refused (or failed closed), yet its request reached the upstream
	StrayDuplicate              int      // one more arrival for an exchange already claimed
	StrayUnknown                int      // no exchange.decided records the arrival's traceparent (or it has none)
	LateAnswers                 int      // answers read in the background after a case's short wait (Harness.Late)
	Unreproduced                []string // examples that did not reproduce alone
	UpstreamBytes, ClaimedBytes int64
	Open                        map[string]string
}

type example struct {
	c Case
	d Discrepancy
}

// Failed reports whether a class outside the open list was seen.
func (r *Report) Failed() []string {
	var out []string
	for c := range r.ByClass {
		if _, open := r.Open[c]; !open {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// ReadOpen reads the open list: `class  # why` per line.
func ReadOpen(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		cls, why, _ := strings.Cut(l, "#")
		out[strings.TrimSpace(cls)] = strings.TrimSpace(why)
	}
	return out, sc.Err()
}

// Run starts the recording upstream and the proxy, replays the corpus, runs the generated cases,
// attributes stray upstream bytes, minimizes one reproducer per class and reports.
func Run(o Options) (*Report, error) {
	out := o.Out
	open, err := ReadOpen(o.OpenFile)
	if err != nil {
		return nil, err
	}
	corpus, err := ReadCorpus(o.CorpusDirs...)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "csfuzz-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	up, err := StartUpstream(1 << 20)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	logf, _ := os.Create(filepath.Join(work, "proxy.log"))
	defer logf.Close()
	t0 := time.Now()
	px, err := StartProxy(ProxyOptions{Repo: o.Repo, PolicyDir: filepath.Join(o.Repo, "fuzz/policy"), Engine: o.Engine,
		WorkDir: work, Upstream: up.Addr(), Log: logf})
	if err != nil {
		return nil, err
	}
	defer px.Stop()
	fmt.Fprintf(out, "csfuzz: proxy (engine %s) on %s after %.1fs, upstream %s, %d corpus files, seed %d\n",
		o.Engine, px.AgentAddr, time.Since(t0).Seconds(), up.Addr(), len(corpus), o.Seed)

	if err := warmUp(px.AgentAddr, 30*time.Second); err != nil {
		return nil, err
	}
	// The warm-up's own requests are not cases: drop their arrivals.
	time.Sleep(200 * time.Millisecond)
	warm := up.Unclaimed(0)
	baseline := up.Bytes()
	seeds := make([][]byte, len(corpus))
	for i, f := range corpus {
		seeds[i] = f.Raw
	}
	gen := &Generator{Seed: o.Seed, Seeds: seeds}
	h := &Harness{Proxy: px, Upstream: up, UpstreamAuthority: up.Addr(), ResponseTimeout: 3 * time.Second}
	rep := &Report{ByClass: map[string]int{}, Examples: map[string]example{}, Reproducers: map[string]string{}, Open: open}

	total := len(corpus) + o.Cases
	caseAt := func(i int) Case {
		if i < len(corpus) {
			return Case{Index: i, Raw: corpus[i].Raw, How: "corpus " + filepath.Base(corpus[i].Path)}
		}
		c := gen.Make(i - len(corpus))
		c.How = fmt.Sprintf("generated #%d, %s", c.Index, c.How)
		c.Index = i
		return c
	}
	var (
		mu      sync.Mutex
		pending []*Arrival // strays not yet matched to the ledger
		lateWG  sync.WaitGroup
	)
	var minimizer Harness // concurrent, short waits: minimizes a new class at once (set below)
	found := make(chan example, 64)
	foundClosed := false // under mu: no more in-run minimizing (late answers may still come)
	notice := func(c Case, d Discrepancy) {
		tag := "NEW"
		if _, ok := open[d.Class]; ok {
			tag = "open, in fuzz/corpus/open.txt"
		}
		fmt.Fprintf(out, "csfuzz: found %s (%s) in case %d (%s): %s\n", d.ID(), tag, c.Index, c.How, d.Detail)
		if c.Raw != nil {
			fmt.Fprintf(out, "csfuzz:   bytes: %s\n", strings.ReplaceAll(clip([]byte(Escape(c.Raw))), "\n", ""))
		}
		if c.Index >= 0 && o.Minimize > 0 && !byteAccounting[d.Class] && !foundClosed {
			select {
			case found <- example{c, d}:
			default:
			}
		}
	}
	// record merges an outcome into the report; mu is held.
	record := func(oc Outcome) {
		if !oc.Late {
			rep.Cases++
			rep.Answered += oc.Answered
			rep.Journaled += oc.Journaled
		} else {
			rep.LateAnswers += oc.Responses
		}
		rep.Exchanges += oc.Responses
		rep.Forwarded += oc.Forwarded
		rep.Refused += oc.Refused
		rep.FailedClosed += oc.FailedClosed
		rep.ClaimedBytes += oc.Claimed
		if oc.NoAnswer {
			rep.NoAnswer++
		}
		if os.Getenv("CSFUZZ_DEBUG_SLOW") != "" && oc.Answered > time.Second {
			fmt.Fprintf(out, "slow case %d (%s) %v statuses %v: %s\n", oc.Case.Index, oc.Case.How, oc.Answered, oc.Statuses, clip([]byte(Escape(oc.Case.Raw))))
		}
		for _, d := range oc.Discrepancies {
			rep.ByClass[d.Class]++
			if _, ok := rep.Examples[d.ID()]; !ok {
				rep.Examples[d.ID()] = example{oc.Case, d}
				notice(oc.Case, d)
			}
		}
	}
	h.Late = func(oc Outcome) {
		mu.Lock()
		defer mu.Unlock()
		record(oc)
	}
	h.LateWG = &lateWG
	minimizer = *h
	minimizer.Late = func(oc Outcome) {
		// the minimizer's own late answers: their upstream bytes are claimed, their findings are
		// the minimizer's business (it replays a known class), not new cases
		mu.Lock()
		defer mu.Unlock()
		rep.ClaimedBytes += oc.Claimed
	}
	resolver := &strayResolver{ledger: px.Ledger, authority: up.Addr()}
	resolve := func(final bool) {
		mu.Lock()
		defer mu.Unlock()
		keep := pending[:0]
		for _, a := range pending {
			oc, ok := resolver.resolve(a, final)
			if !ok {
				keep = append(keep, a)
				continue
			}
			rep.Strays++
			rep.StrayBytes += len(a.Raw)
			record(oc)
		}
		pending = keep
	}
	minDone := make(chan struct{})
	go func() {
		defer close(minDone)
		for ex := range found {
			id := ex.d.ID()
			pred := func(b []byte) bool {
				oc := minimizer.Run(Case{Raw: b})
				mu.Lock()
				rep.ClaimedBytes += oc.Claimed // its bytes reached the upstream too
				mu.Unlock()
				for _, d := range oc.Discrepancies {
					if d.ID() == id {
						return true
					}
				}
				return false
			}
			if !pred(ex.c.Raw) {
				fmt.Fprintf(out, "csfuzz: %s did not recur when case %d was sent again (timing?); not minimized now\n", id, ex.c.Index)
				continue
			}
			m, calls := Minimize(ex.c.Raw, o.Minimize, pred)
			fmt.Fprintf(out, "csfuzz: %s minimized (%d -> %d bytes, %d replays): %s\n", id, len(ex.c.Raw), len(m), calls,
				strings.ReplaceAll(clip([]byte(Escape(m))), "\n", ""))
		}
	}()
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, o.Concurrency); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				oc := h.Run(caseAt(i))
				mu.Lock()
				record(oc)
				mu.Unlock()
			}
		}()
	}
	stopSweep := make(chan struct{})
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stopSweep:
				return
			case <-tick.C:
			}
			s := up.Unclaimed(10 * time.Second)
			px.Ledger.Prune(60*time.Second, 60*time.Second)
			mu.Lock()
			pending = append(pending, s...)
			n := rep.Cases
			classes := len(rep.ByClass)
			mu.Unlock()
			resolve(false)
			if time.Since(last) >= 30*time.Second {
				last = time.Now()
				el := time.Since(start).Seconds()
				fmt.Fprintf(out, "csfuzz: %d/%d cases, %.0f cases/s, %d discrepancy classes so far\n", n, total, float64(n)/el, classes)
			}
		}
	}()
	sent := 0
	for i := 0; i < total; i++ {
		if o.MaxDuration > 0 && time.Since(start) > o.MaxDuration && i >= len(corpus) {
			fmt.Fprintf(out, "csfuzz: time limit %s reached after %d cases\n", o.MaxDuration, i)
			break
		}
		jobs <- i
		sent++
	}
	close(jobs)
	wg.Wait()
	rep.Elapsed = time.Since(start)
	mu.Lock()
	foundClosed = true
	close(found)
	mu.Unlock()
	<-minDone
	lateWG.Wait() // after the minimizer: it starts background readers too
	close(stopSweep)
	<-sweepDone
	// Everything still unclaimed once traffic has stopped is a stray: bytes that reached the
	// upstream that no case claimed. Each is matched by its traceparent to the ledger.
	time.Sleep(500 * time.Millisecond) // let in-flight upstream writes land before the last sweep
	mu.Lock()
	pending = append(pending, up.Unclaimed(0)...)
	mu.Unlock()
	for wait := time.Now().Add(5 * time.Second); ; {
		resolve(false)
		mu.Lock()
		left := len(pending)
		mu.Unlock()
		if left == 0 || time.Now().After(wait) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the ledger follower may still be catching up
	}
	resolve(true)
	rep.UpstreamBytes = up.Bytes() - baseline
	rep.StrayForwarded, rep.StrayRefused, rep.StrayDuplicate, rep.StrayUnknown =
		resolver.forwarded, resolver.refused, resolver.duplicate, resolver.unknown
	for _, u := range resolver.unclaimed {
		fmt.Fprintf(out, "csfuzz: forwarded, no case read its answer (claimed from the ledger): %s\n", u)
	}
	fmt.Fprintf(out, "csfuzz: warm-up sent %d requests before the cases\n", len(warm))
	for conn, n := range up.Pending() {
		rep.ByClass["upstream_leftover_bytes"]++
		if _, ok := rep.Examples["upstream_leftover_bytes"]; !ok {
			rep.Examples["upstream_leftover_bytes"] = example{Case{Index: -1}, Discrepancy{Class: "upstream_leftover_bytes",
				Detail: fmt.Sprintf("connection %d holds %d bytes that are not a complete request", conn, n)}}
		}
	}
	serial := *h
	serial.Serial, serial.Patient, serial.Late, serial.LateWG = true, true, nil, nil
	quick := serial
	quick.Patient = false // exact byte accounting, short waits: for minimizing
	// A class outside the open list fails the run only if its example reproduces when replayed
	// alone with full timeouts: a wait that ran out on a loaded machine is not a finding.
	for id, ex := range rep.Examples {
		if _, open := open[ex.d.Class]; open || ex.c.Index < 0 {
			continue
		}
		again := false
		for _, d := range serial.Run(ex.c).Discrepancies {
			again = again || d.ID() == id
		}
		if !again {
			rep.Unreproduced = append(rep.Unreproduced, id+": "+ex.d.Detail)
			delete(rep.Examples, id)
			still := false
			for _, other := range rep.Examples {
				still = still || other.d.Class == ex.d.Class
			}
			if !still {
				delete(rep.ByClass, ex.d.Class)
			}
		}
	}
	// One minimized reproducer per class.
	if o.Minimize > 0 && o.ReproDir != "" {
		classes := make([]string, 0, len(rep.Examples))
		for c := range rep.Examples {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		for _, id := range classes {
			ex := rep.Examples[id]
			cls := ex.d.Class
			if ex.c.Index < 0 || cls == "harness" {
				continue
			}
			pred := func(b []byte) bool {
				oc := quick.Run(Case{Raw: b})
				for _, d := range oc.Discrepancies {
					if d.ID() == id {
						return true
					}
				}
				return false
			}
			min, calls := ex.c.Raw, 0
			if pred(ex.c.Raw) {
				min, calls = Minimize(ex.c.Raw, o.Minimize, pred)
			} else {
				fmt.Fprintf(out, "csfuzz: %s did not reproduce serially; stored unminimized\n", id)
			}
			final := serial.Run(Case{Raw: min})
			detail := ex.d.Detail
			for _, d := range final.Discrepancies {
				if d.ID() == id {
					detail = d.Detail
				}
			}
			sum := sha256.Sum256(min)
			name := fmt.Sprintf("%s-%s.req", fileSafe(id), hex.EncodeToString(sum[:4]))
			path := filepath.Join(o.ReproDir, name)
			meta := map[string]string{"class": cls, "key": ex.d.Key, "detail": detail, "found": fmt.Sprintf("seed %d case %d (%s)", o.Seed, ex.c.Index, ex.c.How),
				"minimized": fmt.Sprintf("%d -> %d bytes in %d replays", len(ex.c.Raw), len(min), calls), "statuses": fmt.Sprint(final.Statuses)}
			if err := WriteCorpusFile(path, []string{"class", "key", "detail", "found", "minimized", "statuses"}, meta, nil, min); err != nil {
				return rep, err
			}
			rep.Reproducers[id] = path
		}
	}
	if s := px.Stderr(); strings.Contains(s, "OutOfMemoryError") || strings.Contains(s, "\"level\":\"ERROR\"") {
		fmt.Fprintf(out, "csfuzz: the proxy logged errors (first lines):\n%s\n", firstMatching(s, "\"level\":\"ERROR\"", 5))
	}
	fmt.Fprintln(out, up.Stats())
	return rep, nil
}

func firstMatching(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, clip([]byte(l)))
			if len(out) == n {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	rate := float64(r.Cases) / r.Elapsed.Seconds()
	fmt.Fprintf(w, "csfuzz: %d cases in %.1fs (%.0f cases/s); %d answers, %d forwarded, %d refused (exchange.rejected), %d without a full answer\n",
		r.Cases, r.Elapsed.Seconds(), rate, r.Exchanges, r.Forwarded, r.Refused, r.NoAnswer)
	if r.Cases > 0 {
		fmt.Fprintf(w, "csfuzz: per case, on average: %.2f ms to the last answer, then %.2f ms until the ledger showed it\n",
			float64(r.Answered.Microseconds())/float64(r.Cases)/1000, float64(r.Journaled.Microseconds())/float64(r.Cases)/1000)
	}
	fmt.Fprintf(w, "csfuzz: %d denied because the policy engine could not judge the input (fail closed)\n", r.FailedClosed)
	fmt.Fprintf(w, "csfuzz: %d answers were read in the background after a case's short wait\n", r.LateAnswers)
	fmt.Fprintf(w, "csfuzz: upstream received %d bytes during the cases: %d inside the forwarded requests the cases claimed, %d in %d stray arrivals\n",
		r.UpstreamBytes, r.ClaimedBytes, r.StrayBytes, r.Strays)
	fmt.Fprintf(w, "csfuzz: strays matched by traceparent to the ledger: %d forwarded with no case reading the answer (claimed from the ledger and checked), %d refused yet upstream, %d duplicates of a claimed exchange, %d no exchange records\n",
		r.StrayForwarded, r.StrayRefused, r.StrayDuplicate, r.StrayUnknown)
	for _, u := range r.Unreproduced {
		fmt.Fprintf(w, "csfuzz: not reproduced when replayed alone (timing on a loaded machine?), not counted: %s\n", u)
	}
	if left := r.UpstreamBytes - r.ClaimedBytes - int64(r.StrayBytes); left != 0 {
		fmt.Fprintf(w, "csfuzz: %d upstream bytes are in neither: see upstream_leftover_bytes\n", left)
	}
	classes := make([]string, 0, len(r.ByClass))
	for c := range r.ByClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		fmt.Fprintln(w, "csfuzz: 0 discrepancies")
	}
	ids := make([]string, 0, len(r.Examples))
	for id := range r.Examples {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, c := range classes {
		tag := "NEW"
		if why, ok := r.Open[c]; ok {
			tag = "open (" + why + ")"
		}
		fmt.Fprintf(w, "  %-32s %7d  %s\n", c, r.ByClass[c], tag)
		for _, id := range ids {
			ex := r.Examples[id]
			if ex.d.Class != c {
				continue
			}
			fmt.Fprintf(w, "      %s e.g. %s\n", strings.TrimPrefix(strings.TrimPrefix(id, c), "/"), ex.d.Detail)
			if f, ok := r.Reproducers[id]; ok {
				fmt.Fprintf(w, "        reproducer: %s\n", f)
			} else if ex.c.Raw != nil {
				fmt.Fprintf(w, "        case %d (%s): %s\n", ex.c.Index, ex.c.How, strings.ReplaceAll(clip([]byte(Escape(ex.c.Raw))), "\n", ""))
			}
		}
	}
	for c := range r.Open {
		if strings.HasPrefix(c, "answers:") {
			continue // the answer side's (RunAnswers)
		}
		if _, seen := r.ByClass[c]; !seen {
			fmt.Fprintf(w, "  note: open class %s was not seen in this run (fixed? then remove it from the open list)\n", c)
		}
	}
}

// warmUp sends plain requests until one is answered within 100 ms (the JVM's first requests are
// slow: class loading, JIT, the first upstream connection), at most for limit.
func warmUp(addr string, limit time.Duration) error {
	end := time.Now().Add(limit)
	for n := 0; time.Now().Before(end); n++ {
		t := time.Now()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Write([]byte(fmt.Sprintf("PATCH /crm/warmup/%d HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\":1}\n", n)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err == nil {
			resp.Body.Close()
			if time.Since(t) < 100*time.Millisecond && n >= 20 {
				return nil
			}
		}
	}
	return fmt.Errorf("the proxy still answers slowly after %s of warm-up", limit)
}

func fileSafe(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}
