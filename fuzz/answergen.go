package fuzz

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
)

// The answer side (issue 19): the route "vault" injects `Authorization: Bearer AnswerToken`; a
// hostile upstream echoes it back in every form it can think of, inside answers whose status
// line, version, framing and interim answers are mutated. The token holds '+', '/' and '=' so that
// its percent-encoded, base64 and JSON-escaped forms all differ from it.
const (
	AnswerToken      = "fz+S3cret/route=7f3a"
	AnswerCredential = "Bearer " + AnswerToken
	scrubMark        = "[removed-by-countersign]"
)

// answerRoutes are the routes the answer fuzzer adds to the fuzz config.
const answerRoutes = `  - name: vault
    prefix: /vault
    upstream: "http://%s"
    credential: {header: Authorization, value_prefix: "Bearer ", from_env: FUZZ_ANSWER_TOKEN}
`

// CredentialForm is one spelling of the route's secret that must never reach the agent.
type CredentialForm struct {
	Name string
	Text string
	// Promised: the proxy documents that it scrubs this form (CredentialScrubber.forms):
	// the value, the token after the scheme, each percent-encoded (form and %20 style) and
	// base64-encoded. The others are what a hostile upstream can send as easily.
	Promised bool
}

// CredentialForms are the spellings searched for in every byte the agent gets.
func CredentialForms() []CredentialForm {
	var out []CredentialForm
	seen := map[string]bool{}
	add := func(name, text string, promised bool) {
		if !seen[text] {
			seen[text] = true
			out = append(out, CredentialForm{name, text, promised})
		}
	}
	for _, p := range []struct{ name, v string }{{"value", AnswerCredential}, {"token", AnswerToken}} {
		add(p.name, p.v, true)
		add(p.name+"-percent", url.QueryEscape(p.v), true)
		add(p.name+"-percent20", strings.ReplaceAll(url.QueryEscape(p.v), "+", "%20"), true)
		add(p.name+"-base64", base64.StdEncoding.EncodeToString([]byte(p.v)), true)
	}
	add("token-base64-unpadded", strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(AnswerToken)), "="), true)
	add("token-base64url", base64.RawURLEncoding.EncodeToString([]byte(AnswerToken)), true)
	add("token-path-escaped", url.PathEscape(AnswerToken), true)
	add("token-json-slash", strings.ReplaceAll(AnswerToken, "/", `\/`), true)
	add("token-percent-all", percentAll(AnswerToken), true)
	return out
}

func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// AnswerRequest is what the agent sends for answer case i.
type AnswerRequest struct {
	Index  int
	Method string
	Route  string // "vault" (credential injected) or "crm" (none)
	Raw    []byte
}

func answerRand(seed uint64, i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^stream, uint64(i)*0x9E3779B97F4A7C15+7))
}

// MakeAnswerRequest builds the agent's request of case i: the path names the case, so the hostile
// upstream knows which answer to send (/vault/ans/<i> reaches it as /ans/<i>).
func MakeAnswerRequest(seed uint64, i int) AnswerRequest {
	r := answerRand(seed, i, 1)
	m := pick(r, []string{"GET", "GET", "GET", "POST", "POST", "HEAD"})
	route := "vault"
	if r.IntN(5) == 0 {
		route = "crm"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s /%s/ans/%d HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n", m, route, i)
	if m == "POST" {
		body := fmt.Sprintf(`{"case":%d}`, i)
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	} else {
		b.WriteString("\r\n")
	}
	return AnswerRequest{Index: i, Method: m, Route: route, Raw: []byte(b.String())}
}

// answerIndex reads the case index from the upstream target (/ans/<i>), or -1.
func answerIndex(target string) int {
	at := strings.LastIndex(target, "/ans/")
	if at < 0 {
		return -1
	}
	n, err := strconv.Atoi(target[at+5:])
	if err != nil {
		return -1
	}
	return n
}

// HostileAnswer is what the hostile upstream sends for one request.
type HostileAnswer struct {
	Raw        []byte
	CloseAfter bool     // close the connection after writing (else keep it for the next request)
	How        []string // the mutations, for the report
}

// echoForms are the ways the upstream writes the credential it received back.
var echoForms = []string{"raw", "raw", "token", "percent", "percent20", "base64", "token-base64", "base64url",
	"json-slash", "percent-all", "token-percent", "path-escaped"}

func encodeEcho(form, cred string) string {
	token := strings.TrimPrefix(cred, "Bearer ")
	switch form {
	case "token":
		return token
	case "percent":
		return url.QueryEscape(cred)
	case "percent20":
		return strings.ReplaceAll(url.QueryEscape(cred), "+", "%20")
	case "token-percent":
		return url.QueryEscape(token)
	case "base64":
		return base64.StdEncoding.EncodeToString([]byte(cred))
	case "token-base64":
		return base64.StdEncoding.EncodeToString([]byte(token))
	case "base64url":
		return base64.RawURLEncoding.EncodeToString([]byte(token))
	case "json-slash":
		return strings.ReplaceAll(token, "/", `\/`)
	case "percent-all":
		return percentAll(token)
	case "path-escaped":
		return url.PathEscape(token)
	}
	return cred
}

type answerDraft struct {
	version, status, reason string
	headers                 []string // "Name: value" lines
	body                    []byte
	framing                 string // "cl", "chunked", "close", "none"
	chunks                  []int  // chunk sizes when chunked (sum = len(body))
	trailers                []string
	interim                 []string // whole interim answers, sent before the final one
	eol                     string
}

// BuildAnswer makes the answer of case i to the request the upstream parsed (req: its headers,
// so that an echo holds what the proxy really sent, the injected credential included).
func BuildAnswer(seed uint64, i int, req *Parsed) HostileAnswer {
	r := answerRand(seed, i, 2)
	head := req.Method == "HEAD"
	cred, _ := req.Joined("authorization")
	d := &answerDraft{version: "HTTP/1.1", status: "200", reason: "OK", eol: "\r\n", framing: "cl"}
	var how []string
	note := func(s string) { how = append(how, s) }
	d.status = pick(r, []string{"200", "200", "200", "201", "404", "500", "302", "400", "503"})
	d.reason = map[string]string{"200": "OK", "201": "Created", "404": "Not Found", "500": "Internal Server Error",
		"302": "Found", "400": "Bad Request", "503": "Service Unavailable"}[d.status]
	d.headers = []string{"X-Fuzz-Answer: " + strconv.Itoa(i)}
	switch r.IntN(4) {
	case 0:
		d.headers = append(d.headers, "Content-Type: application/json")
		d.body = []byte(fmt.Sprintf(`{"case":%d,"ok":true}`, i))
	case 1:
		d.headers = append(d.headers, "Content-Type: text/plain")
		d.body = []byte(strings.Repeat(fmt.Sprintf("answer %d. ", i), 1+r.IntN(400)))
	case 2:
		// httpbin's /anything: every request header echoed in a JSON body.
		d.headers = append(d.headers, "Content-Type: application/json")
		var b strings.Builder
		fmt.Fprintf(&b, `{"case":%d,"headers":{`, i)
		for k, n := range req.Names() {
			v, _ := req.Joined(n)
			if k > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%q", n, v)
		}
		b.WriteString("}}")
		d.body = []byte(b.String())
		note("echo-all-headers-json")
	default:
		d.body = nil
	}
	// The credential, echoed (an error page, a debug header, a session cookie...).
	if cred != "" && r.IntN(10) < 6 {
		for k := 0; k < 1+r.IntN(2); k++ {
			form := pick(r, echoForms)
			v := encodeEcho(form, cred)
			switch where := r.IntN(14); where {
			case 0:
				d.headers = append(d.headers, "X-Echo-Authorization: "+v)
				note("echo-header/" + form)
			case 1:
				d.headers = append(d.headers, "Authorization: "+v)
				note("echo-authorization/" + form)
			case 2:
				d.headers = append(d.headers, "Set-Cookie: sid="+v+"; Path=/; HttpOnly")
				note("set-cookie/" + form)
			case 3:
				d.headers = append(d.headers, "Set-Cookie2: sid="+v)
				note("set-cookie2/" + form)
			case 4:
				d.headers = append(d.headers, "Location: https://api.example.com/cb?token="+v)
				note("location/" + form)
			case 5:
				d.headers = append(d.headers, "Connection: X-Leak", "X-Leak: "+v)
				note("connection-nominated/" + form)
			case 6:
				d.reason = "Echo " + v
				note("reason-phrase/" + form)
			case 7:
				d.headers = append(d.headers, "WWW-Authenticate: Bearer realm=\"x\", error=\"invalid_token\", token=\""+v+"\"")
				note("www-authenticate/" + form)
			case 8:
				d.headers = append(d.headers, "X-Debug: request had", " authorization "+v)
				note("obs-fold/" + form)
			case 9:
				d.trailers = append(d.trailers, "X-Trailer-Echo: "+v)
				d.framing = "chunked"
				note("trailer/" + form)
			default:
				at := r.IntN(len(d.body) + 1)
				d.body = append(append(append([]byte{}, d.body[:at]...), []byte(" "+v+" ")...), d.body[at:]...)
				note("body/" + form)
			}
		}
	}
	if r.IntN(12) == 0 {
		d.headers = append(d.headers, "Set-Cookie: theme=dark; Path=/")
		note("set-cookie-plain")
	}
	if r.IntN(12) == 0 {
		d.headers = append(d.headers, "Connection: X-Hop, keep-alive", "X-Hop: 1", "Keep-Alive: timeout=5")
		note("connection-nominated-plain")
	}
	// Framing.
	switch n := r.IntN(20); {
	case n < 3:
		d.framing = "chunked"
	case n < 5:
		d.framing = "close"
	}
	if d.framing == "chunked" {
		d.chunks = splitChunks(r, len(d.body))
		note("chunked")
	}
	closeAfter := r.IntN(5) == 0
	raw, closeMore := d.render(r, head, i, &how)
	return HostileAnswer{Raw: raw, CloseAfter: closeAfter || closeMore || d.framing == "close", How: how}
}

func splitChunks(r *rand.Rand, n int) []int {
	var out []int
	for n > 0 {
		k := 1 + r.IntN(min(n, 1+r.IntN(4096)))
		out = append(out, k)
		n -= k
	}
	return out
}

// render writes the draft with mutations of the status line, framing and interim answers; it
// says whether the connection must be closed after (a body only the close can end, a framing the
// upstream itself would not trust).
func (d *answerDraft) render(r *rand.Rand, head bool, i int, how *[]string) ([]byte, bool) {
	note := func(s string) { *how = append(*how, s) }
	closeAfter := false
	// Status line and version.
	if r.IntN(8) == 0 {
		switch k := r.IntN(16); k {
		case 0:
			d.version = pick(r, []string{"HTTP/1.0", "HTTP/1.0"})
		case 1:
			d.version = pick(r, []string{"HTTP/2", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "http/1.1", "HTTP/1", "HTTP/11", "HTTP/1.1 ", "ICY"})
		case 2:
			d.status = pick(r, []string{"99", "600", "999", "2000", "20", "0", "-1", "abc", "20x", " 200", "0200"})
		case 3:
			d.reason = ""
		case 4:
			d.reason = pick(r, []string{"OK\x00", "O\rK", "\xc3\xa9t\xc3\xa9", "OK OK OK", "\tOK"})
		case 5:
			d.eol = "\n"
		case 6:
			d.status = pick(r, []string{"101", "100", "103", "199", "204", "304", "205"})
		case 7:
			raw := pick(r, []string{"hello world\r\n\r\n", "\x00\x01\x02", "<html>not http</html>", "HTTP/1.1\r\n\r\n", "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"})
			note("not-http")
			return []byte(raw), true
		case 8:
			note("leading-crlf")
			d.interim = append(d.interim, "\r\n")
		default:
			d.version = "HTTP/1.1"
		}
		note(fmt.Sprintf("status-line %q", d.version+" "+d.status+" "+d.reason))
	}
	// Interim answers before the final one.
	if r.IntN(8) == 0 {
		for k := 0; k < 1+r.IntN(3); k++ {
			switch r.IntN(6) {
			case 0, 1:
				d.interim = append(d.interim, "HTTP/1.1 100 Continue\r\n\r\n")
			case 2:
				d.interim = append(d.interim, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
			case 3:
				d.interim = append(d.interim, "HTTP/1.1 102 Processing\r\n\r\n")
			case 4:
				d.interim = append(d.interim, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				closeAfter = true
			default:
				d.interim = append(d.interim, "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n")
			}
		}
		note(fmt.Sprintf("interim x%d", len(d.interim)))
	}
	var b strings.Builder
	for _, s := range d.interim {
		b.WriteString(s)
	}
	fmt.Fprintf(&b, "%s %s", d.version, d.status)
	if d.reason != "" || r.IntN(2) == 0 {
		b.WriteString(" " + d.reason)
	}
	b.WriteString(d.eol)
	for _, h := range d.headers {
		if strings.HasPrefix(h, " ") {
			// obs-fold: a continuation of the previous line
			s := b.String()
			b.Reset()
			b.WriteString(strings.TrimSuffix(s, d.eol) + d.eol + h + d.eol)
			continue
		}
		b.WriteString(h + d.eol)
	}
	body := d.body
	cl := strconv.Itoa(len(body))
	var framed []byte
	switch d.framing {
	case "chunked":
		b.WriteString("Transfer-Encoding: chunked" + d.eol)
		framed = chunk(body, d.chunks, d.trailers, d.eol)
	case "close":
		framed = body
		closeAfter = true
		note("close-delimited")
	default:
		b.WriteString("Content-Length: " + cl + d.eol)
		framed = body
	}
	// Framing mutations.
	if r.IntN(6) == 0 {
		switch k := r.IntN(14); k {
		case 0:
			b.WriteString("Content-Length: " + cl + d.eol)
			note("content-length-twice-same")
		case 1:
			b.WriteString("Content-Length: " + strconv.Itoa(len(body)+3) + d.eol)
			note("content-length-twice-differ")
			closeAfter = true
		case 2:
			if d.framing != "chunked" {
				b.WriteString("Transfer-Encoding: chunked" + d.eol)
				framed = chunk(body, []int{len(body)}, nil, d.eol)
			} else {
				b.WriteString("Content-Length: " + cl + d.eol)
			}
			note("content-length-and-chunked")
			closeAfter = true
		case 3:
			if d.framing == "cl" && len(body) > 2 {
				framed = body[:len(body)-2]
				note("body-shorter-than-content-length")
				closeAfter = true
			}
		case 4:
			if d.framing == "cl" {
				framed = append(append([]byte{}, body...), []byte("EXTRA")...)
				note("body-longer-than-content-length")
				closeAfter = r.IntN(2) == 0
			}
		case 5:
			if d.framing == "cl" {
				// a second, smuggled answer after the body, on a connection kept open: the next
				// exchange on this pooled connection must not get it
				smug := fmt.Sprintf("HTTP/1.1 200 OK\r\nX-Fuzz-Answer: smuggled-by-%d\r\nContent-Length: 8\r\n\r\nsmuggled", i)
				framed = append(append([]byte{}, body...), []byte(smug)...)
				note("smuggled-answer")
			}
		case 6:
			if d.framing == "chunked" {
				framed = []byte(pick(r, []string{"zz\r\nab\r\n0\r\n\r\n", "-1\r\nab\r\n0\r\n\r\n", "ffffffffffffffffff\r\nab\r\n",
					"2 \r\nab\r\n0\r\n\r\n", "0x2\r\nab\r\n0\r\n\r\n", "2\nab\n0\n\n", "2;ext=1\r\nab\r\n0\r\n\r\n", "3\r\nab\r\n0\r\n\r\n"}))
				note(fmt.Sprintf("chunks %q", framed))
				closeAfter = true
			}
		case 7:
			if d.framing == "chunked" && len(framed) > 5 {
				framed = framed[:len(framed)-5] // no last chunk: ends by the close
				note("chunked-without-last-chunk")
				closeAfter = true
			}
		case 8:
			b.WriteString("Transfer-Encoding: " + pick(r, []string{"gzip", "identity", "chunked, chunked", "gzip, chunked", "xchunked"}) + d.eol)
			note("odd-transfer-encoding")
			closeAfter = true
		case 9:
			if d.framing == "cl" {
				s := b.String()
				b.Reset()
				b.WriteString(strings.Replace(s, "Content-Length: "+cl, "Content-Length: "+pick(r, []string{"+" + cl, " " + cl + " ", cl + ", " + cl, "0x" + strconv.FormatInt(int64(len(body)), 16), "-" + cl, cl + "0000000000000000000"}), 1))
				note("odd-content-length")
				closeAfter = true
			}
		case 10:
			b.WriteString(pick(r, []string{"Bad Header" + d.eol, "X-No-Colon" + d.eol, "X-Space : 1" + d.eol, ": empty-name" + d.eol, "X-Ctl: a\x01b" + d.eol, "X-Nul: a\x00b" + d.eol}))
			note("bad-header-line")
			closeAfter = true
		case 11:
			b.WriteString("X-Big: " + strings.Repeat("b", 9000+r.IntN(60000)) + d.eol)
			note("big-header")
		case 12:
			b.WriteString("Content-Type: text/html" + d.eol)
			note("content-type-twice")
		default:
			b.WriteString("Connection: close" + d.eol)
			closeAfter = true
			note("connection-close")
		}
	}
	b.WriteString(d.eol)
	out := []byte(b.String())
	if head && r.IntN(4) != 0 {
		return out, closeAfter // a HEAD answer has no body (sometimes the upstream sends one anyway)
	}
	if head {
		note("body-after-head")
	}
	return append(out, framed...), closeAfter
}

func chunk(body []byte, sizes []int, trailers []string, eol string) []byte {
	var b strings.Builder
	at := 0
	for _, n := range sizes {
		fmt.Fprintf(&b, "%x%s", n, eol)
		b.Write(body[at : at+n])
		b.WriteString(eol)
		at += n
	}
	b.WriteString("0" + eol)
	for _, t := range trailers {
		b.WriteString(t + eol)
	}
	b.WriteString(eol)
	return []byte(b.String())
}
