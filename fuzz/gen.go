package fuzz

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

// The generator's vocabulary. Each list is written from the facts of public HTTP-parser and
// proxy research (request smuggling, path confusion, verb tunnelling, header spoofing); the
// sources are named in corpus/README.md. Nothing here is copied from a test suite.

var methods = []string{"GET", "GET", "GET", "POST", "POST", "PUT", "PATCH", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// oddMethods: case, unknown and tunnelling methods, and bytes a lenient parser might skip.
var oddMethods = []string{"get", "Get", "TRACE", "CONNECT", "PROPFIND", "PURGE", "MOVE", "G\x00ET", "GET\t",
	"POST ", "PATCH\x0b", "DELETE\r", "GE T", "\x00", "M-SEARCH", "PRI", "GETX", strings.Repeat("A", 300)}

var routes = []string{"/crm", "/crm/v2", "/billing", "/crm", "/crm"}

var segments = []string{"v3", "deals", "42", "contacts", "1", "notes", "quotes", "refunds", "invoices",
	"items", "a~b", "a+b", "x-y_z", "%34%32", "%7e", "caf%C3%A9", "a%20b", "A", "v1", "tasks", "!$&'()*+,;=:@"}

// trickSegments: dot segments in every spelling, servlet matrix parameters, double encoding,
// encoded separators, backslashes, overlong UTF-8, NUL and control bytes, raw non-ASCII.
var trickSegments = []string{
	"..", ".", "%2e%2e", "%2E%2e", ".%2e", "%2e.", "%2e", "..;", "..;x=1", ";", ";jsessionid=AB12",
	"deals;a=b", "..%3b", "..%3B", "%2e%2e%3b", "%252e%252e", "%252e", "%25252e%25252e", "%25%32%65",
	"%2f", "%2F", "%252f", "%5c", "%5C", "\\", "..\\", "a\\b", "%c0%ae%c0%ae", "%c0%2f", "%e0%80%ae",
	"%c0%af", "%ff", "%00", "%0a", "%0d%0a", "%7f", "%u002e", "%%32%65", "%2", "%zz", "caf\xc3\xa9",
	"\xff", "a b", "a\tb", "a#b", "a?b", "%3f", "%23", "~", "..%00", ".%00.", "%2e%2e%2f", "..%c0%af",
	"%C0%AE%C0%AE", "%ef%bc%8f", "．．", "%e2%80%ae", "admin", "%61dmin", "ADMIN",
}

var queries = []string{"", "", "", "a=1", "limit=10", "q=a+b", "q=a%20b", "q=a%2bb&q=c", "b=2&a=1", "a=1&&b=2",
	"&", "a", "a=", "a=1=2", "a=%26&b=%3D", "x=%7e&y=~", "q=caf%C3%A9"}

// trickQueries: method tunnelling parameters, separators frameworks disagree on, bracket keys.
var trickQueries = []string{"_method=DELETE", "_method=delete&x=1", "_METHOD=PUT", "X-HTTP-Method-Override=DELETE",
	"a=1;b=2", "a=1;_method=DELETE", "a[b]=1&a[c]=2", "a[]=1&a[]=2", "a.b=1", "%5Fmethod=DELETE",
	"q=%zz", "q=a b", "q=%01", "q=%00", "a=1#frag", "a=%ff", "a=%c0%ae", "==", "=x", "a=1&a=2",
	"amount=1&amount=999999", "q=\xc3\xa9", "q=%2e%2e%2f", "redirect=http://evil.example/"}

// Absolute-form, authority-form and other request-target shapes (RFC 9112 section 3.2).
var oddTargets = []string{"http://127.0.0.1/crm/v3/deals", "HTTP://x/crm/v3", "https://evil.example/crm/v3/deals",
	"//crm/v3/deals", "*", "crm/v3/deals", "127.0.0.1:80", "/crm/v3/deals#frag", "/crm?#", "/.countersign/tickets/x",
	"/.countersign/tickets/../../crm/v3", "/%2e%2e/crm/v3", "/crm/v3/deals?", "/CRM/v3/deals", "/crm%2fv3",
	"/crm\\v3\\deals", "/crm/v3/deals/42%23x", "/ /crm"}

var versions = []string{"HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"}
var oddVersions = []string{"HTTP/1.2", "http/1.1", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1 ", "HTTP/1.10", "HTTP/01.1",
	"HTTP/1.1\x00", "HTTP/1", "HTTP /1.1", ""}

// Header families that make an application act on something other than what the policy read.
var methodOverrideHeaders = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "x-http-method-override"}
var urlOverrideHeaders = []string{"X-Original-URL", "X-Rewrite-URL", "X-Override-URL", "X-Original-URI", "X-Forwarded-Uri",
	"X-Forwarded-Path", "X-Envoy-Original-Path", "X-Request-URI", "X-Forwarded-Prefix"}
var hostOverrideHeaders = []string{"X-Forwarded-Host", "X-Host", "X-Forwarded-Server", "X-HTTP-Host-Override",
	"X-Original-Host", "Forwarded", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port",
	"X-Client-IP", "True-Client-IP", "Via"}

var identityHeaders = []string{"X-Countersign-Workflow", "X-Countersign-Run", "X-Countersign-On-Behalf-Of",
	"X-Countersign-Account", "X-Countersign-Tool", "X-Countersign-Prompt-Ref", "X-Countersign-Context-Refs"}

var contentTypes = []string{"application/json", "application/json; charset=utf-8", "application/vnd.api+json",
	"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
	"multipart/form-data; boundary=XyZ", "text/plain", "text/plain; charset=utf-8", "text/csv",
	"application/octet-stream", "application/xml"}

var oddContentTypes = []string{"application/json; charset=iso-8859-1", "application/json; charset=utf-16",
	"APPLICATION/JSON", "application/json ", " application/json", "application/json, text/plain",
	"application/jsonx", "application/x-json", "text/json", "application/json;", "application/json; boundary=x",
	"multipart/form-data", "multipart/form-data; boundary=\"XyZ\"", "multipart/form-data; boundary=XyZ; boundary=Other",
	"multipart/mixed; boundary=XyZ", "application/x-www-form-urlencoded, application/json", "text/plain; charset=utf-7",
	"application/*", "*/*", "", "application/json\x00", "application/\xc3\xa9"}

var jsonBodies = []string{`{"discount_pct":10}`, `{"amount":120,"currency":"EUR"}`, `{}`, `[]`, `{"a":[1,2,{"b":null}]}`,
	`{"email":"a@example.com"}`, `{"owner":"bob"}`, `"text"`, `1`, `true`, `{"note":"caf\u00e9 \ud83d\ude00"}`}

// trickJSON: duplicate keys at every depth, numbers parsers read differently, escapes that
// decode to the same key, surrogates, BOM, trailing data, comments.
var trickJSON = []string{`{"discount_pct":10,"discount_pct":90}`, `{"a":{"b":1,"b":2}}`, `{"discount_pct":1,"discount\u005fpct":90}`,
	`{"amount":9007199254740993}`, `{"amount":15.0000000000000001}`, `{"amount":1e400}`, `{"amount":-0}`,
	`{"amount":1E2}`, `{"amount":0.1}`, `{"amount":1e20}`, `{"amount":00}`, `{"amount":.5}`, `{"amount":+1}`,
	`{"amount":NaN}`, `{"amount":Infinity}`, `{"amount":0x10}`, `{"a":"\ud800"}`, `{"a":"\udc00\ud800"}`,
	"\xef\xbb\xbf{\"a\":1}", `{"a":1} {"b":2}`, `{"a":1}x`, `{"a":1,}`, `{'a':1}`, `{"a":1 /* c */}`,
	`{"a":"x\u0000y"}`, "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xae\"}", `{"__proto__":{"admin":true}}`,
	`{"amount":100,"AMOUNT":999}`, `{"amount":"100"}`, `[{"a":1},{"a":1,"a":2}]`, strings.Repeat("[", 600) + strings.Repeat("]", 600),
	`{"a":1}` + "\n", " \t\r\n{\"a\":1}", `{"a":1e-400}`, `{"a":123456789012345678901234567890}`}

var formBodies = []string{"email=a%40example.com", "a=1&b=2", "_method=DELETE", "amount=500&currency=EUR",
	"email=x&email=y", "a[b][c]=1&a[b][d]=2", "metadata[owner]=bob", "q=a+b&r=%2B", "a=%zz", "a=%ff", "=1",
	"a", "a=1;b=2", "a=1&&&b=2", "discount_pct=90", "items[0][amount]=1&items[1][amount]=999", "x=%00"}

var textBodies = []string{"hello", "amount=999", "{\"amount\":999}", "line1\r\nline2", "\x00\x01\x02", "caf\xc3\xa9",
	"\xff\xfe{\x00}\x00", "DELETE /crm/v3/deals/1 HTTP/1.1\r\nHost: x\r\n\r\n"}

// Transfer-Encoding spellings that parsers have read differently.
var teValues = []string{"chunked", "Chunked", "CHUNKED", "chunked ", " chunked", "\tchunked", "chunked, identity",
	"identity, chunked", "identity", "gzip, chunked", "chunked, chunked", "x-chunked", "chunk", "chunked\x00",
	"\"chunked\"", "chunked;q=1", ",chunked", "chunked,"}

// Content-Length spellings: signs, spaces, leading zeros, lists, overflow.
var clTricks = []string{"+%d", "-%d", "0%d", " %d", "%d ", "%d, %d", "%d,%d", "%d\t", "0x%x", "%d.0", "%de0",
	"99999999999999999999", "%d%%00", "1%d"}

// Chunked bodies with sizes, extensions and trailers written by hand.
var chunkTricks = []string{
	"5\r\nhello\r\n0\r\n\r\n", "5;ext=1\r\nhello\r\n0\r\n\r\n", "5 \r\nhello\r\n0\r\n\r\n", "05\r\nhello\r\n0\r\n\r\n",
	"0x5\r\nhello\r\n0\r\n\r\n", "5\nhello\n0\n\n", "5\r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n",
	"5\r\nhello\r\n0\r\nContent-Length: 999\r\n\r\n", "5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n",
	"ffffffffffffffff1\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\r\nhello\r\n",
	"2\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\nGET /crm/v3/smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
	"A\r\n0123456789\r\n0\r\n\r\n", "a\r\n0123456789\r\n0\r\n\r\n", "5;\r\nhello\r\n0\r\n\r\n", "5\r\r\nhello\r\n0\r\n\r\n",
	"0\r\n\r\n", "000\r\n\r\n", "5\r\nhello\r\n0 \r\n\r\n"}

// Header lines that are malformed on purpose: obs-fold, whitespace around the colon, odd bytes in
// names, bare CR/LF, empty names, non-ASCII.
var oddHeaderLines = []string{
	" X-Folded: continued", "\tX-Folded: continued", "X-A : b", "X-A\t: b", "X-A:b", "X-A:\tb\t", "X A: b", ": novalue",
	"X-A", "X-A\x00: b", "X-A: b\x00c", "X-A: b\rc", "X-\xc3\xa9: b", "X-A: \xc3\xa9", "X-A: \xff", "X-A\x7f: b",
	"X-A: b\x7f", "\x00: b", "X-A:: b", "Transfer-Encoding : chunked", "Transfer_Encoding: chunked", "Content-Length : 0",
	"Content_Length: 5", "Host : evil.example", " Host: evil.example", "X-A: b\r\n c", "Transfer-Encoding:\x0bchunked",
	"Transfer-Encoding:\x0cchunked", "X-A: " + strings.Repeat("b", 9000), "Connection: Content-Type", "Connection: X-Api-Key",
	"Connection: Traceparent", "Connection: Content-Length", "Connection: keep-alive, X-Countersign-Account",
	"Keep-Alive: timeout=5", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__", "Proxy-Connection: keep-alive",
	"TE: trailers", "Trailer: X-Trailer", "Expect: 100-continue", "Expect: magic", "Content-Encoding: gzip",
	"Content-Encoding: identity", "Content-Encoding: ,identity", "Authorization: Bearer agent-owned", "Cookie: s=1",
	"Proxy-Authorization: Basic eA==", "X-Api-Key: agent-forged", "x-api-key: agent-forged", "X-API-KEY: a, b",
	"Prefer: respond-async", "Prefer: respond-async, wait=5", "Prefer: RESPOND-ASYNC", "Prefer: return=minimal",
	"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01",
	"traceparent: 01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "Traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
	"tracestate: congo=t61rcWkgMzE", "X-Countersign-Agent: root", "X-Countersign-Anything: x", "Max-Forwards: 0",
	"Range: bytes=0-1", "If-Match: *", "Accept: */*", "User-Agent: fuzz", "Content-Type: text/plain", "content-type: application/json",
	"Content-Type:", "X-Foo: 1", "X-Foo: 2", "x-foo: 3", "X-Empty:", "X-Spaces:    ", "X-Tabs:\t\t",
}

// Generator makes the fuzz cases: by grammar (a request built from the vocabulary above) and by
// mutating seeds (the corpus files), with a seeded PCG per case so case i is the same on every
// run with the same seed.
type Generator struct {
	Seed  uint64
	Seeds [][]byte
}

// Case is one fuzz case: the bytes sent on one connection (one request, or several pipelined).
type Case struct {
	Index int
	Raw   []byte
	How   string // how it was made, for the report
}

// Make builds case i.
func (g *Generator) Make(i int) Case {
	r := rand.New(rand.NewPCG(g.Seed, uint64(i)*0x9E3779B97F4A7C15+1))
	switch n := r.IntN(100); {
	case n < 20 && len(g.Seeds) > 0:
		seed := g.Seeds[r.IntN(len(g.Seeds))]
		raw, how := mutateRaw(r, seed, 1+r.IntN(3))
		return Case{Index: i, Raw: raw, How: "seed+" + how}
	case n < 26:
		// Pipelined: two or three grammar requests on one connection.
		var b bytes.Buffer
		k := 2 + r.IntN(2)
		for j := 0; j < k; j++ {
			req := grammar(r)
			b.Write(req.Bytes())
		}
		return Case{Index: i, Raw: b.Bytes(), How: fmt.Sprintf("pipelined x%d", k)}
	default:
		req := grammar(r)
		raw := req.Bytes()
		how := "grammar"
		if r.IntN(8) == 0 {
			var h string
			raw, h = mutateRaw(r, raw, 1+r.IntN(2))
			how += "+" + h
		}
		return Case{Index: i, Raw: raw, How: how}
	}
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// grammar builds one request: a well-formed base, then zero to four tricks applied to it.
func grammar(r *rand.Rand) *Request {
	req := &Request{Method: pick(r, methods), Version: pick(r, versions)}
	req.Target = target(r, false)
	req.Headers = []Header{{Name: "Host", Value: "api.example.com"}}
	if r.IntN(3) == 0 {
		req.Headers = append(req.Headers, Header{Name: "User-Agent", Value: "csfuzz"})
	}
	if r.IntN(3) == 0 {
		req.Headers = append(req.Headers, Header{Name: pick(r, identityHeaders), Value: pick(r, []string{"quote-prep", "acme", "ana@example.com", "r-1", "a, b"})})
	}
	if req.Method != "GET" && req.Method != "HEAD" || r.IntN(6) == 0 {
		setBody(r, req)
	}
	tricks := r.IntN(5)
	if tricks == 0 && r.IntN(2) == 0 {
		tricks = 1
	}
	for t := 0; t < tricks; t++ {
		applyTrick(r, req)
	}
	return req
}

func target(r *rand.Rand, tricky bool) string {
	var b strings.Builder
	b.WriteString(pick(r, routes))
	n := 1 + r.IntN(4)
	for i := 0; i < n; i++ {
		b.WriteByte('/')
		if tricky && r.IntN(3) == 0 {
			b.WriteString(pick(r, trickSegments))
		} else {
			b.WriteString(pick(r, segments))
		}
	}
	if r.IntN(10) == 0 {
		b.WriteByte('/')
	}
	q := pick(r, queries)
	if tricky && r.IntN(3) == 0 {
		q = pick(r, trickQueries)
	}
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

func setBody(r *rand.Rand, req *Request) {
	switch r.IntN(6) {
	case 0, 1:
		req.Set("Content-Type", pick(r, contentTypes[:3]))
		req.Body = []byte(pick(r, jsonBodies))
	case 2:
		req.Set("Content-Type", pick(r, contentTypes[3:5]))
		req.Body = []byte(pick(r, formBodies))
	case 3:
		req.Set("Content-Type", "multipart/form-data; boundary=XyZ")
		req.Body = multipart(r, "XyZ")
	case 4:
		req.Set("Content-Type", pick(r, contentTypes[6:]))
		req.Body = []byte(pick(r, textBodies))
	default:
		// A body whose type is not declared at all.
		req.Body = []byte(pick(r, append(jsonBodies[:4:4], formBodies[:3]...)))
	}
}

// multipart builds a multipart/form-data body: fields and files, with the tricks parsers differ
// on (duplicate names, filename*, a part typed as JSON, LF-only lines, missing close delimiter).
func multipart(r *rand.Rand, boundary string) []byte {
	var b bytes.Buffer
	eol := "\r\n"
	if r.IntN(10) == 0 {
		eol = "\n"
	}
	if r.IntN(8) == 0 {
		b.WriteString("preamble" + eol)
	}
	parts := 1 + r.IntN(3)
	for i := 0; i < parts; i++ {
		b.WriteString("--" + boundary + eol)
		switch r.IntN(6) {
		case 0:
			b.WriteString(`Content-Disposition: form-data; name="email"` + eol + eol + "a@example.com")
		case 1:
			b.WriteString(`Content-Disposition: form-data; name="file"; filename="a.txt"` + eol + "Content-Type: text/plain" + eol + eol + "file body")
		case 2:
			b.WriteString(`Content-Disposition: form-data; name="_method"` + eol + eol + "DELETE")
		case 3:
			b.WriteString(`Content-Disposition: form-data; name="meta"` + eol + "Content-Type: application/json" + eol + eol + `{"amount":999}`)
		case 4:
			b.WriteString(`Content-Disposition: form-data; name="f"; filename*=UTF-8''%C3%A9.txt` + eol + eol + "x")
		default:
			b.WriteString(`Content-Disposition: form-data; name="amount"` + eol + eol + pick(r, []string{"100", "999", "1e3"}))
		}
		b.WriteString(eol)
	}
	if r.IntN(10) != 0 {
		b.WriteString("--" + boundary + "--" + eol)
	}
	return b.Bytes()
}

// applyTrick changes one thing of a request, from the research vocabulary.
func applyTrick(r *rand.Rand, req *Request) {
	switch r.IntN(24) {
	case 0:
		req.Method = pick(r, oddMethods)
	case 1, 2:
		req.Target = target(r, true)
	case 3:
		req.Target = pick(r, oddTargets)
	case 4:
		req.Version = pick(r, oddVersions)
	case 5:
		req.Headers = append(req.Headers, Header{Name: pick(r, methodOverrideHeaders), Value: pick(r, []string{"DELETE", "PUT", "delete", "GET"})})
	case 6:
		req.Headers = append(req.Headers, Header{Name: pick(r, urlOverrideHeaders), Value: pick(r, []string{"/admin", "/crm/v3/deals/1", "/v3/deals/42/../../admin"})})
	case 7:
		req.Headers = append(req.Headers, Header{Name: pick(r, hostOverrideHeaders), Value: pick(r, []string{"evil.example", "127.0.0.1", "for=1.2.3.4;host=evil.example"})})
	case 8:
		// A second Host, or none, or an odd one.
		switch r.IntN(4) {
		case 0:
			req.Headers = append(req.Headers, Header{Name: "Host", Value: "evil.example"})
		case 1:
			req.Del("Host")
		case 2:
			req.Set("Host", pick(r, []string{"", "a b", "evil.example:99999", "[::1]", "x@evil.example", "a\x00b", "api.example.com, evil.example"}))
		default:
			req.Headers = append(req.Headers, Header{Name: "host", Value: "api.example.com"})
		}
	case 9, 10:
		req.Headers = append(req.Headers, Header{Line: pick(r, oddHeaderLines)})
	case 11:
		// Content-Length and Transfer-Encoding together, or a TE spelling.
		req.Framing = FrameNone
		switch r.IntN(3) {
		case 0:
			req.Headers = append(req.Headers, Header{Name: "Content-Length", Value: fmt.Sprint(len(req.Body))},
				Header{Name: "Transfer-Encoding", Value: pick(r, teValues)})
			req.Body = []byte(chunked(req.Body))
		case 1:
			req.Headers = append(req.Headers, Header{Name: "Transfer-Encoding", Value: pick(r, teValues)},
				Header{Name: "Content-Length", Value: "3"})
		default:
			req.Headers = append(req.Headers, Header{Name: "Transfer-Encoding", Value: pick(r, teValues)})
			req.Body = []byte(chunked(req.Body))
		}
	case 12:
		req.Framing = FrameChunked
		if r.IntN(2) == 0 {
			req.Chunks = pick(r, chunkTricks)
		}
	case 13:
		// A Content-Length that is wrong, repeated or oddly written.
		req.Framing = FrameNone
		n := len(req.Body)
		switch r.IntN(4) {
		case 0:
			req.Headers = append(req.Headers, Header{Name: "Content-Length", Value: fmt.Sprint(n)}, Header{Name: "Content-Length", Value: fmt.Sprint(n)})
		case 1:
			req.Headers = append(req.Headers, Header{Name: "Content-Length", Value: fmt.Sprint(n)}, Header{Name: "Content-Length", Value: fmt.Sprint(n + 1)})
		case 2:
			t := pick(r, clTricks)
			v := t
			if c := strings.Count(t, "%d") + strings.Count(t, "%x"); c > 0 {
				args := make([]any, c)
				for k := range args {
					args[k] = n
				}
				v = fmt.Sprintf(t, args...)
			}
			req.Headers = append(req.Headers, Header{Name: "Content-Length", Value: v})
		default:
			req.Headers = append(req.Headers, Header{Name: "Content-Length", Value: fmt.Sprint(max(0, n-1-r.IntN(3)))})
		}
	case 14:
		req.EOL = pick(r, []string{"\n", "\r", "\r\r\n", "\n\r"})
	case 15:
		req.Set("Content-Type", pick(r, oddContentTypes))
	case 16:
		if r.IntN(2) == 0 {
			req.Set("Content-Type", "application/json")
		}
		req.Body = []byte(pick(r, trickJSON))
	case 17:
		req.Set("Content-Type", pick(r, []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=XyZ"}))
		if strings.HasPrefix(req.headerValue("Content-Type"), "multipart") {
			req.Body = multipart(r, "XyZ")
		} else {
			req.Body = []byte(pick(r, formBodies))
		}
	case 18:
		// A second Content-Type, in either order.
		req.Headers = append(req.Headers, Header{Name: "Content-Type", Value: pick(r, contentTypes)})
	case 19:
		// Identity headers: repeated, odd case, long, empty.
		h := pick(r, identityHeaders)
		switch r.IntN(4) {
		case 0:
			req.Headers = append(req.Headers, Header{Name: h, Value: "a"}, Header{Name: h, Value: "b"})
		case 1:
			req.Headers = append(req.Headers, Header{Name: strings.ToLower(h), Value: "acme"}, Header{Name: strings.ToUpper(h), Value: "globex"})
		case 2:
			req.Headers = append(req.Headers, Header{Name: h, Value: strings.Repeat("x", 257)})
		default:
			req.Headers = append(req.Headers, Header{Name: h, Value: pick(r, []string{"", " ", " acme ", "\tacme", "ac\xc3\xa9me"})})
		}
	case 20:
		// The same header twice with different case: combined or not?
		req.Headers = append(req.Headers, Header{Name: "X-Dup", Value: "1"}, Header{Name: "x-dup", Value: "2"}, Header{Name: "X-DUP", Value: " 3 "})
	case 21:
		// Whitespace and bytes around the request line parts.
		switch r.IntN(4) {
		case 0:
			req.Target = req.Target + " "
		case 1:
			req.Method = " " + req.Method
		case 2:
			req.Target = req.Target + "\t"
		default:
			req.Target = strings.Replace(req.Target, "/", "\\", 1+r.IntN(2))
		}
	case 22:
		req.Body = append(req.Body, []byte(pick(r, []string{"GET /crm/v3/x HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n", "0\r\n\r\n"}))...)
	default:
		if len(req.Body) == 0 {
			setBody(r, req)
		} else {
			req.Body = nil
		}
	}
}

func (r *Request) headerValue(name string) string {
	for _, h := range r.Headers {
		if h.Line == "" && strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func chunked(body []byte) string {
	if len(body) == 0 {
		return "0\r\n\r\n"
	}
	return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
}

// interesting bytes for raw mutation: the separators and terminators parsers split on.
var interesting = []byte{'\r', '\n', ' ', '\t', ':', 0, 0x7f, 0x80, 0xff, '%', ';', '\\', '/', '.', ',', '"', '=', '&', '?', '#', 0x0b, 0x0c}

// mutateRaw applies k byte- or line-level mutations to raw bytes.
func mutateRaw(r *rand.Rand, raw []byte, k int) ([]byte, string) {
	out := append([]byte(nil), raw...)
	var names []string
	for i := 0; i < k; i++ {
		if len(out) == 0 {
			out = []byte("GET /crm HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		switch r.IntN(9) {
		case 0: // flip a byte to an interesting one
			out[r.IntN(len(out))] = interesting[r.IntN(len(interesting))]
			names = append(names, "set-byte")
		case 1: // insert an interesting byte
			p := r.IntN(len(out) + 1)
			out = append(out[:p], append([]byte{interesting[r.IntN(len(interesting))]}, out[p:]...)...)
			names = append(names, "insert-byte")
		case 2: // delete a byte
			p := r.IntN(len(out))
			out = append(out[:p], out[p+1:]...)
			names = append(names, "delete-byte")
		case 3: // insert a malformed or trick header line after the request line
			line := pick(r, oddHeaderLines)
			if p := bytes.Index(out, []byte("\r\n")); p >= 0 {
				out = append(out[:p+2], append([]byte(line+"\r\n"), out[p+2:]...)...)
			}
			names = append(names, "insert-header")
		case 4: // duplicate a line
			lines := bytes.SplitAfter(out, []byte("\n"))
			j := r.IntN(len(lines))
			lines = append(lines[:j+1], append([][]byte{lines[j]}, lines[j+1:]...)...)
			out = bytes.Join(lines, nil)
			names = append(names, "duplicate-line")
		case 5: // replace the request target
			if sp := bytes.IndexByte(out, ' '); sp >= 0 {
				if sp2 := bytes.IndexByte(out[sp+1:], ' '); sp2 >= 0 {
					t := target(r, true)
					out = append(out[:sp+1], append([]byte(t), out[sp+1+sp2:]...)...)
				}
			}
			names = append(names, "replace-target")
		case 6: // turn one CRLF into a bare LF or a bare CR
			var at []int
			for j := 0; j+1 < len(out); j++ {
				if out[j] == '\r' && out[j+1] == '\n' {
					at = append(at, j)
				}
			}
			if len(at) > 0 {
				j := at[r.IntN(len(at))]
				if r.IntN(2) == 0 {
					out = append(out[:j], out[j+1:]...) // bare LF
				} else {
					out = append(out[:j+1], out[j+2:]...) // bare CR
				}
			}
			names = append(names, "bare-eol")
		case 7: // change a header name's case or add whitespace before its colon
			if p := bytes.Index(out, []byte(": ")); p > 0 {
				if r.IntN(2) == 0 {
					out = append(out[:p], append([]byte(" "), out[p:]...)...)
				} else {
					s := bytes.LastIndexByte(out[:p], '\n') + 1
					copy(out[s:p], bytes.ToUpper(out[s:p]))
				}
			}
			names = append(names, "header-name")
		default: // repeat a slice (a second copy of a header block or a body)
			a := r.IntN(len(out))
			b := a + r.IntN(min(len(out)-a, 64)+1)
			seg := append([]byte(nil), out[a:b]...)
			out = append(out[:b], append(seg, out[b:]...)...)
			names = append(names, "repeat-slice")
		}
	}
	if len(out) > 256<<10 {
		out = out[:256<<10]
	}
	return out, strings.Join(names, ",")
}
