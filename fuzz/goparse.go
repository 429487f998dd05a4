package fuzz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Parsed is Go's net/http reading of one request: the independent parser's view.
type Parsed struct {
	Method     string
	RequestURI string // the request target exactly as on the wire
	Proto      string
	Host       string
	Hosts      int // how many Host header lines
	// Header: lower-case name -> the values in order (one per header line).
	Header           map[string][]string
	TransferEncoding []string
	ContentLength    int64
	Body             []byte
	BodySHA256       string
	// Start and End are the request's byte span in the stream it was read from.
	Start, End int64
	// Refusal is why Go's HTTP server would answer 400 instead of calling a handler ("" = it
	// would serve it). ReadRequest accepts a few things the server then refuses.
	Refusal string
}

// Joined returns the values of a header joined by ", " (RFC 9110 list semantics), and whether
// the header was present.
func (p *Parsed) Joined(name string) (string, bool) {
	v, ok := p.Header[name]
	if !ok {
		return "", false
	}
	trimmed := make([]string, len(v))
	for i, s := range v {
		trimmed[i] = strings.Trim(s, " \t")
	}
	return strings.Join(trimmed, ", "), true
}

// Names returns the header names, sorted.
func (p *Parsed) Names() []string {
	out := make([]string, 0, len(p.Header))
	for k := range p.Header {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// countingReader counts the bytes the bufio.Reader pulled from the stream, so that
// pulled - Buffered() is exactly where the parser stands.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Stream reads requests one after another from r with Go's parser and reports each with its byte
// span. maxBody bounds a body (a bigger one is an error).
type Stream struct {
	cr      *countingReader
	br      *bufio.Reader
	maxBody int64
}

// NewStream starts reading requests from r.
func NewStream(r io.Reader, maxBody int64) *Stream {
	cr := &countingReader{r: r}
	return &Stream{cr: cr, br: bufio.NewReaderSize(cr, 64<<10), maxBody: maxBody}
}

// Pos is the offset of the first byte not yet consumed by a parsed request.
func (s *Stream) Pos() int64 { return s.cr.n - int64(s.br.Buffered()) }

// Pulled is how many bytes were read from the underlying reader so far.
func (s *Stream) Pulled() int64 { return s.cr.n }

// Next parses the next request. io.EOF means the stream ended cleanly between requests.
func (s *Stream) Next() (*Parsed, error) {
	start := s.Pos()
	if _, err := s.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, err
	}
	req, err := http.ReadRequest(s.br)
	if err != nil {
		return nil, fmt.Errorf("go net/http: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, s.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("go net/http body: %w", err)
	}
	if int64(len(body)) > s.maxBody {
		return nil, fmt.Errorf("go net/http body: more than %d bytes", s.maxBody)
	}
	sum := sha256.Sum256(body)
	p := &Parsed{
		Method: req.Method, RequestURI: req.RequestURI, Proto: req.Proto, Host: req.Host,
		Header: map[string][]string{}, TransferEncoding: req.TransferEncoding,
		ContentLength: req.ContentLength, Body: body, BodySHA256: hex.EncodeToString(sum[:]),
		Start: start, End: s.Pos(),
	}
	for k, v := range req.Header {
		lk := strings.ToLower(k)
		p.Header[lk] = append(p.Header[lk], v...)
	}
	// ReadRequest moves Host out of the header map; count the lines ourselves from the raw form.
	if h, ok := p.Header["host"]; ok {
		p.Hosts = len(h)
		delete(p.Header, "host")
	} else if req.Host != "" {
		p.Hosts = 1
	}
	p.Refusal = serverRefusal(req, p)
	return p, nil
}

// serverRefusal repeats the checks net/http's Server makes after ReadRequest and before the
// handler (server.go readRequest): HTTP/1.1 needs exactly one valid Host, and every header field
// name and value must be valid.
func serverRefusal(req *http.Request, p *Parsed) string {
	hosts := req.Header.Values("Host")
	if req.ProtoAtLeast(1, 1) && len(hosts) == 0 && req.Host == "" {
		return "missing required Host header"
	}
	if len(hosts) > 1 {
		return "too many Host headers"
	}
	if !validHost(req.Host) {
		return "malformed Host header"
	}
	for k, vv := range req.Header {
		if !validFieldName(k) {
			return "invalid header name"
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return "invalid header value"
			}
		}
	}
	return ""
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validFieldValue: RFC 9110 field-value (VCHAR, obs-text, SP, HTAB), as x/net/http/httpguts has it.
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost is httpguts.ValidHostHeader: the bytes a Host may hold.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if strings.IndexByte("!$&'()*+,-.:;=[]_~%@", c) < 0 {
			return false
		}
	}
	return true
}

// ParseAll reads every request in raw with Go's parser: the agent-side reading of what the fuzzer
// sends. It stops at the first error, which it returns with the requests before it.
func ParseAll(raw []byte, maxBody int64) ([]*Parsed, error) {
	s := NewStream(bytes.NewReader(raw), maxBody)
	var out []*Parsed
	for {
		p, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
		if len(out) > 64 {
			return out, fmt.Errorf("more than 64 requests in one case")
		}
	}
}

// splitTarget splits an origin-form target into path and raw query ("" when none).
func splitTarget(t string) (string, string, bool) {
	p, q, ok := strings.Cut(t, "?")
	return p, q, ok
}

// decodePath percent-decodes a path strictly (as url.PathUnescape does).
func decodePath(p string) (string, error) { return url.PathUnescape(p) }
