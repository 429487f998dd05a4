// Package fuzz is Countersign's differential fuzzer: it sends raw HTTP/1.1 requests through the
// proxy to a recording upstream that parses with Go's net/http, and checks that the upstream's
// parse, the ledger's canonical record and the policy input are the same request.
package fuzz

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Escape writes raw request bytes in the corpus file format: printable ASCII as is, `\r` `\n`
// `\t` `\\` as escapes, every other byte as `\xHH`. A real newline is written after each `\n`
// escape so the file reads line by line; Unescape ignores real newlines.
func Escape(raw []byte) string {
	var b strings.Builder
	lineStart := true
	for _, c := range raw {
		if lineStart && c == '#' {
			// A '#' at the start of a file line would read as a comment.
			b.WriteString(`\x23`)
			lineStart = false
			continue
		}
		lineStart = c == '\n'
		switch {
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString("\\n\n")
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\\':
			b.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// Unescape reads the corpus file format back into bytes (see Escape). Real newlines (and CRs) in
// the text are layout only and are dropped, so a file's line breaks never become request bytes.
func Unescape(text string) ([]byte, error) {
	var out bytes.Buffer
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' || c == '\r' {
			continue
		}
		if c != '\\' {
			out.WriteByte(c)
			continue
		}
		if i+1 >= len(text) {
			return nil, fmt.Errorf("offset %d: a lone backslash ends the text", i)
		}
		i++
		switch text[i] {
		case 'r':
			out.WriteByte('\r')
		case 'n':
			out.WriteByte('\n')
		case 't':
			out.WriteByte('\t')
		case '\\':
			out.WriteByte('\\')
		case 'x':
			if i+2 >= len(text) {
				return nil, fmt.Errorf("offset %d: \\x needs two hex digits", i)
			}
			v, err := strconv.ParseUint(text[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("offset %d: \\x%s is not a hex byte", i, text[i+1:i+3])
			}
			out.WriteByte(byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("offset %d: unknown escape \\%c", i, text[i])
		}
	}
	return out.Bytes(), nil
}

// Header is one header line of a Request. When Line is set it is written as it is (a malformed
// line such as an obs-fold or a name with odd bytes); otherwise as `Name: Value`.
type Header struct {
	Name, Value string
	Line        string
}

// Framing says how a Request's body is delimited when serialized.
type Framing int

const (
	// FrameAuto writes a correct Content-Length when the body is not empty (or the method is not
	// GET/HEAD/OPTIONS/DELETE), nothing otherwise.
	FrameAuto Framing = iota
	// FrameNone writes no framing header at all (the headers may still carry one of their own).
	FrameNone
	// FrameChunked writes Transfer-Encoding: chunked and the body as chunks (Chunks, or one chunk).
	FrameChunked
)

// Request is the generator's model of one HTTP/1.1 request before it becomes bytes. Everything
// that can go wrong on the wire is representable: the end-of-line, raw header lines, chunk text.
type Request struct {
	Method, Target, Version string
	Headers                 []Header
	Body                    []byte
	Framing                 Framing
	// Chunks, with FrameChunked: the raw chunked body (sizes, extensions, trailers) when the
	// generator wants to control it; empty means one well-formed chunk of Body plus "0\r\n\r\n".
	Chunks string
	// EOL ends the request line and each header line; "" means CRLF.
	EOL string
}

// Clone copies a Request deeply enough for mutation.
func (r *Request) Clone() *Request {
	c := *r
	c.Headers = append([]Header(nil), r.Headers...)
	c.Body = append([]byte(nil), r.Body...)
	return &c
}

// Has reports whether a header of this name (any case) is present as a name/value pair.
func (r *Request) Has(name string) bool {
	for _, h := range r.Headers {
		if h.Line == "" && strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// Set replaces every header of this name with one, or appends it.
func (r *Request) Set(name, value string) {
	r.Del(name)
	r.Headers = append(r.Headers, Header{Name: name, Value: value})
}

// Del removes every header of this name (any case).
func (r *Request) Del(name string) {
	out := r.Headers[:0]
	for _, h := range r.Headers {
		if h.Line == "" && strings.EqualFold(h.Name, name) {
			continue
		}
		out = append(out, h)
	}
	r.Headers = out
}

// Bytes serializes the request exactly as modelled.
func (r *Request) Bytes() []byte {
	eol := r.EOL
	if eol == "" {
		eol = "\r\n"
	}
	var b bytes.Buffer
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(r.Target)
	b.WriteByte(' ')
	b.WriteString(r.Version)
	b.WriteString(eol)
	for _, h := range r.Headers {
		if h.Line != "" {
			b.WriteString(h.Line)
		} else {
			b.WriteString(h.Name)
			b.WriteString(": ")
			b.WriteString(h.Value)
		}
		b.WriteString(eol)
	}
	switch r.Framing {
	case FrameAuto:
		if len(r.Body) > 0 || !bodilessMethod(r.Method) {
			fmt.Fprintf(&b, "Content-Length: %d%s", len(r.Body), eol)
		}
		b.WriteString(eol)
		b.Write(r.Body)
	case FrameNone:
		b.WriteString(eol)
		b.Write(r.Body)
	case FrameChunked:
		b.WriteString("Transfer-Encoding: chunked")
		b.WriteString(eol)
		b.WriteString(eol)
		if r.Chunks != "" {
			b.WriteString(r.Chunks)
		} else {
			if len(r.Body) > 0 {
				fmt.Fprintf(&b, "%x\r\n", len(r.Body))
				b.Write(r.Body)
				b.WriteString("\r\n")
			}
			b.WriteString("0\r\n\r\n")
		}
	}
	return b.Bytes()
}

func bodilessMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "DELETE":
		return true
	}
	return false
}
