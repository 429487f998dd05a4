package fuzz

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Minimize shrinks raw while still reproduces(raw) holds, within budget calls: first whole
// header lines, then the body (with Content-Length kept in step), then the target's segments
// and query, then single bytes. It returns the smallest input found and how many calls it made.
func Minimize(raw []byte, budget int, reproduces func([]byte) bool) ([]byte, int) {
	calls := 0
	try := func(c []byte) bool {
		if calls >= budget || bytes.Equal(c, raw) {
			return false
		}
		calls++
		if reproduces(c) {
			raw = c
			return true
		}
		return false
	}
	// 1. Header lines, last first (the request line and the blank line stay).
	for progress := true; progress && calls < budget; {
		progress = false
		head, body, sep := splitHead(raw)
		lines := strings.Split(head, "\n")
		for i := len(lines) - 1; i >= 1 && calls < budget; i-- {
			cand := append(append([]string(nil), lines[:i]...), lines[i+1:]...)
			if try(joinHead(strings.Join(cand, "\n"), sep, body)) {
				progress = true
				break
			}
		}
	}
	// 2. The body: halves, then single trailing bytes, Content-Length adjusted.
	for progress := true; progress && calls < budget; {
		progress = false
		head, body, sep := splitHead(raw)
		for _, n := range []int{0, len(body) / 2, len(body) - 1} {
			if n < 0 || n >= len(body) {
				continue
			}
			nb := body[:n]
			if try(joinHead(fixLength(head, len(body), n), sep, nb)) || try(joinHead(head, sep, nb)) {
				progress = true
				break
			}
		}
	}
	// 3. The target: drop the query, then each path segment.
	for progress := true; progress && calls < budget; {
		progress = false
		line, rest, ok := strings.Cut(string(raw), " ")
		if !ok {
			break
		}
		tgt, after, ok := strings.Cut(rest, " ")
		if !ok {
			break
		}
		var cands []string
		if p, _, hasQ := strings.Cut(tgt, "?"); hasQ {
			cands = append(cands, p)
		}
		segs := strings.Split(tgt, "/")
		for i := len(segs) - 1; i >= 2; i-- {
			cands = append(cands, strings.Join(append(append([]string(nil), segs[:i]...), segs[i+1:]...), "/"))
		}
		for _, c := range cands {
			if try([]byte(line + " " + c + " " + after)) {
				progress = true
				break
			}
		}
	}
	// 4. Bytes: delete chunks, from big to single bytes.
	for chunk := max(1, len(raw)/4); chunk >= 1 && calls < budget; chunk /= 2 {
		for i := 0; i+chunk <= len(raw) && calls < budget; {
			c := append(append([]byte(nil), raw[:i]...), raw[i+chunk:]...)
			if !try(c) {
				i += chunk
			}
		}
		if chunk == 1 {
			break
		}
	}
	return raw, calls
}

// splitHead splits at the first empty line (CRLF CRLF or LF LF). head keeps its line ends
// except the last; sep is the empty line's bytes.
func splitHead(raw []byte) (head string, body []byte, sep string) {
	s := string(raw)
	for _, sp := range []string{"\r\n\r\n", "\n\n"} {
		if i := strings.Index(s, sp); i >= 0 {
			return s[:i], raw[i+len(sp):], sp
		}
	}
	return s, nil, ""
}

func joinHead(head, sep string, body []byte) []byte {
	return append([]byte(head+sep), body...)
}

// fixLength rewrites a Content-Length header equal to old into n.
func fixLength(head string, old, n int) string {
	lines := strings.Split(head, "\n")
	for i, l := range lines {
		name, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "content-length") && strings.TrimSpace(strings.TrimSuffix(v, "\r")) == strconv.Itoa(old) {
			cr := ""
			if strings.HasSuffix(l, "\r") {
				cr = "\r"
			}
			lines[i] = fmt.Sprintf("%s: %d%s", name, n, cr)
		}
	}
	return strings.Join(lines, "\n")
}
