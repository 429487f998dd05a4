package fuzz

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// byteAccounting are the classes that only a serial replay (or the ledger) can establish: they
// are not minimized concurrently.
var byteAccounting = map[string]bool{"refused_bytes_upstream": true, "upstream_unattributed": true,
	"upstream_leftover_bytes": true, "forwarded_missing_upstream": true, "upstream_duplicate": true}

// strayResolver matches an upstream arrival no case claimed to the exchange that produced it: the
// proxy forwards every request with a traceparent (the agent's, or one it starts) and records it
// in exchange.decided before anything leaves, so the ledger names the exchange exactly. Then:
//   - allowed (forwarded) but no case read its answer: the fuzzer's bookkeeping missed it; it is
//     claimed now and checked like any forwarded request (without the agent-side reading, since
//     the case is not known);
//   - refused, or failed closed, yet upstream: refused_bytes_upstream, a real finding;
//   - every exchange with that traceparent already claimed: upstream_duplicate;
//   - no exchange records the traceparent, or the bytes hold none: upstream_unattributed.
type strayResolver struct {
	ledger                                 *Ledger
	authority                              string
	forwarded, refused, duplicate, unknown int
	unclaimed                              []string // the first forwarded-but-unclaimed exchanges, for the report
}

var rawTraceparent = regexp.MustCompile(`(?i)\ntraceparent:[ \t]*([^\r\n]*)`)

// arrivalTrace is the arrival's traceparent: the parsed header, or for bytes Go refused, the
// first traceparent line in them.
func arrivalTrace(a *Arrival) string {
	if a.Req != nil {
		tp, _ := a.Req.Joined("traceparent")
		return tp
	}
	if m := rawTraceparent.FindSubmatch(a.Raw); m != nil {
		return strings.Trim(string(m[1]), " \t")
	}
	return ""
}

// resolve returns the stray's outcome, or false when the ledger does not show its exchange yet
// and final is not set (the follower may lag a little behind the upstream).
func (s *strayResolver) resolve(a *Arrival, final bool) (Outcome, bool) {
	tp := arrivalTrace(a)
	o := Outcome{Late: true, Case: Case{Index: -1, Raw: a.Raw, How: fmt.Sprintf("upstream arrival at %s on upstream connection %d", a.At.Format("15:04:05.000"), a.Conn)}}
	if tp == "" {
		s.unknown++
		o.addKey("upstream_unattributed", "no-traceparent", fmt.Sprintf("%d bytes reached the upstream without a traceparent (the proxy sends one with every request it forwards)%s: %q",
			len(a.Raw), errSuffix(a.Err), clip(a.Raw)))
		return o, true
	}
	ts := s.ledger.Trace(tp)
	if len(ts) == 0 {
		if !final && time.Since(a.At) < 30*time.Second {
			return o, false
		}
		s.unknown++
		o.addKey("upstream_unattributed", "not-in-ledger", fmt.Sprintf("an upstream request with traceparent %s that no exchange.decided records%s: %q", tp, errSuffix(a.Err), clip(a.Raw)))
		return o, true
	}
	var pick *Traced
	var d *decided
	for i := range ts {
		if ts[i].Claimed {
			continue
		}
		var x decided
		if json.Unmarshal(ts[i].Decided, &x) != nil {
			continue
		}
		if pick == nil || x.matches(a) {
			pick, d = &ts[i], &x
			if x.matches(a) {
				break
			}
		}
	}
	if pick == nil {
		s.duplicate++
		ids := make([]string, len(ts))
		for i := range ts {
			ids[i] = ts[i].ID
		}
		o.add("upstream_duplicate", fmt.Sprintf("one more upstream request with traceparent %s, whose exchange(s) %v already had theirs: %q", tp, ids, clip(a.Raw)))
		return o, true
	}
	s.ledger.MarkClaimed(tp, pick.ID)
	if d.Decision.Action != "allow" || d.Decision.Failure != "" {
		s.refused++
		why := d.Decision.Action
		if d.Decision.Failure != "" {
			why = "failed closed (" + d.Decision.Failure + ")"
		}
		o.addKey("refused_bytes_upstream", "decision-"+d.Decision.Action, fmt.Sprintf("exchange %s was decided %s (ledger: %s %s), yet %d bytes of it reached the upstream: %q",
			pick.ID, why, pick.Terminal, pick.Outcome, len(a.Raw), clip(a.Raw)))
		return o, true
	}
	s.forwarded++
	if len(s.unclaimed) < 20 {
		line, _, _ := strings.Cut(string(a.Raw), "\r\n")
		s.unclaimed = append(s.unclaimed, fmt.Sprintf("exchange %s (ledger: %s %s), upstream arrival at %s: %q",
			pick.ID, pick.Terminal, pick.Outcome, a.At.Format("15:04:05.000"), clip([]byte(line))))
	}
	o.Forwarded = 1
	o.How(pick.ID)
	if a.Err != nil {
		o.add("upstream_parse_error", a.Err.Error())
		return o, true
	}
	compare(&o, d, a.Req, nil, s.authority)
	return o, true
}

// How names the exchange in the outcome's case description.
func (o *Outcome) How(exchange string) {
	o.Case.How = "exchange " + exchange + " (no case read its answer), " + o.Case.How
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (Go's parser: " + err.Error() + ")"
}
