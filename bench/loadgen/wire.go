package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// errParse marks a response that is not well-formed HTTP/1.1 (counted as a "parse" error).
var errParse = errors.New("malformed response")

// buildRequest serializes the one request the generator repeats, once, so the hot loop only writes
// bytes. Content-Length is always sent for a body, never for a GET without one.
func buildRequest(method string, u *url.URL, headers []string, body string) ([]byte, error) {
	target := u.RequestURI()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: countersign-loadgen\r\n", method, target, u.Host)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("header %q is not NAME: VALUE", h)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if body != "" || (method != "GET" && method != "HEAD") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes(), nil
}

// response is what the generator keeps of one response.
type response struct {
	status int
	// closeAfter is set when the server will not reuse the connection (Connection: close, or a
	// body delimited by the end of the stream).
	closeAfter bool
	// snippet is the start of the body, kept only for non-2xx responses (to show why).
	snippet []byte
}

// readResponse reads one HTTP/1.1 response from r: status line, headers, and a body delimited by
// Content-Length, chunked encoding, or (rarely) the end of the stream. Bodies are discarded except
// for a short snippet of a non-2xx one.
func readResponse(r *bufio.Reader, method string) (response, error) {
	var resp response
	line, err := readLine(r)
	if err != nil {
		return resp, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !strings.HasPrefix(line, "HTTP/1.") || line[8] != ' ' {
		return resp, fmt.Errorf("%w: status line %q", errParse, truncate(line, 80))
	}
	resp.status, err = strconv.Atoi(line[9:12])
	if err != nil {
		return resp, fmt.Errorf("%w: status line %q", errParse, truncate(line, 80))
	}
	http10 := line[7] == '0'
	length := int64(-1)
	chunked := false
	for {
		h, err := readLine(r)
		if err != nil {
			return resp, err
		}
		if h == "" {
			break
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return resp, fmt.Errorf("%w: header line %q", errParse, truncate(h, 80))
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			length, err = strconv.ParseInt(value, 10, 64)
			if err != nil || length < 0 {
				return resp, fmt.Errorf("%w: content-length %q", errParse, value)
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(value, "chunked") || strings.HasSuffix(strings.ToLower(value), ", chunked")
		case "connection":
			if strings.EqualFold(value, "close") {
				resp.closeAfter = true
			}
		}
	}
	if http10 {
		resp.closeAfter = true
	}
	keep := 0
	if resp.status < 200 || resp.status > 299 {
		keep = 300
	}
	body := &snippetWriter{max: keep}
	switch {
	case method == "HEAD" || resp.status == 204 || resp.status == 304 || (resp.status >= 100 && resp.status < 200):
	case chunked:
		err = readChunked(r, body)
	case length >= 0:
		_, err = io.CopyN(body, r, length)
	default:
		resp.closeAfter = true
		_, err = io.Copy(body, r)
	}
	resp.snippet = body.buf
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return resp, err
}

func readChunked(r *bufio.Reader, w io.Writer) error {
	for {
		line, err := readLine(r)
		if err != nil {
			return err
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("%w: chunk size %q", errParse, truncate(line, 40))
		}
		if size == 0 {
			for { // trailers, up to the empty line
				t, err := readLine(r)
				if err != nil || t == "" {
					return err
				}
			}
		}
		if _, err := io.CopyN(w, r, size); err != nil {
			return err
		}
		if crlf, err := readLine(r); err != nil || crlf != "" {
			if err == nil {
				err = fmt.Errorf("%w: no CRLF after a chunk", errParse)
			}
			return err
		}
	}
}

// readLine returns one CRLF- (or LF-) terminated line without its terminator.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", fmt.Errorf("%w: line longer than %d bytes", errParse, r.Size())
	}
	if err != nil {
		return "", err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	return string(line), nil
}

// snippetWriter discards everything but the first max bytes.
type snippetWriter struct {
	max int
	buf []byte
}

func (s *snippetWriter) Write(p []byte) (int, error) {
	if room := s.max - len(s.buf); room > 0 {
		s.buf = append(s.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
