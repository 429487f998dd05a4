// Command stream is the streaming benchmark's two ends (standard library only):
//
//	stream upstream -addr 127.0.0.1:9300
//	    serves GET /v3/stream?bytes=N&event=K&seconds=S: a text/event-stream (chunked, no
//	    Content-Length) of "data: <K-3 letters>\n\n" events, K bytes each, until N bytes or S
//	    seconds, whichever comes first, written as fast as the reader takes them.
//	stream read -url URL [-stall-after BYTES -stall SECONDS]
//	    reads one stream to its end and prints one JSON line: bytes, events, time to first byte
//	    and to the end, MiB/s, and whether it ended properly; with -stall it stops reading for a
//	    while after some bytes (an agent that does not read), then reads on.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: stream upstream|read [flags]")
	}
	switch os.Args[1] {
	case "upstream":
		upstream(os.Args[2:])
	case "read":
		read(os.Args[2:])
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func upstream(args []string) {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:9300", "listen address (loopback only)")
	_ = fs.Parse(args)
	if host, _, err := net.SplitHostPort(*addr); err != nil || (host != "127.0.0.1" && host != "localhost") {
		log.Fatalf("stream upstream: -addr must be on loopback, not %q", *addr)
	}
	http.HandleFunc("/v3/stream", func(w http.ResponseWriter, r *http.Request) {
		total, _ := strconv.ParseInt(r.URL.Query().Get("bytes"), 10, 64)
		size, _ := strconv.Atoi(r.URL.Query().Get("event"))
		seconds, _ := strconv.Atoi(r.URL.Query().Get("seconds"))
		if size < 8 {
			size = 1024
		}
		if seconds <= 0 {
			seconds = 600
		}
		event := append(append([]byte("data: "), bytes.Repeat([]byte("x"), size-8)...), '\n', '\n')
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(200)
		flusher := w.(http.Flusher)
		end := time.Now().Add(time.Duration(seconds) * time.Second)
		bw := bufio.NewWriterSize(w, 64*1024)
		var sent int64
		for (total <= 0 || sent < total) && time.Now().Before(end) {
			if _, err := bw.Write(event); err != nil {
				return
			}
			sent += int64(len(event))
			if bw.Buffered() < len(event) { // a buffer went out: let it reach the reader now
				flusher.Flush()
			}
		}
		_ = bw.Flush()
	})
	log.Printf("stream upstream on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

type result struct {
	URL        string  `json:"url"`
	Status     int     `json:"status"`
	Bytes      int64   `json:"bytes"`
	Events     int64   `json:"events"`
	FirstByteS float64 `json:"first_byte_ms"`
	Seconds    float64 `json:"seconds"`
	MiBPerS    float64 `json:"mib_per_s"`
	Complete   bool    `json:"complete"`
	Error      string  `json:"error,omitempty"`
}

func read(args []string) {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	url := fs.String("url", "", "the stream's URL")
	stallAfter := fs.Int64("stall-after", 0, "stop reading after this many bytes (0: never)")
	stall := fs.Duration("stall", 0, "how long to stop reading")
	_ = fs.Parse(args)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, ReadBufferSize: 64 * 1024}}
	started := time.Now()
	resp, err := client.Get(*url)
	if err != nil {
		log.Fatalf("stream read: %v", err)
	}
	defer resp.Body.Close()
	res := result{URL: *url, Status: resp.StatusCode}
	buf := make([]byte, 64*1024)
	stalled := false
	lastNewline := false // an event's "\n\n" may straddle two reads
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && res.Bytes == 0 {
			res.FirstByteS = float64(time.Since(started).Microseconds()) / 1000
		}
		res.Bytes += int64(n)
		if n > 0 {
			res.Events += int64(bytes.Count(buf[:n], []byte("\n\n")))
			if lastNewline && buf[0] == '\n' {
				res.Events++
			}
			lastNewline = buf[n-1] == '\n' && (n < 2 || buf[n-2] != '\n')
		}
		if !stalled && *stallAfter > 0 && res.Bytes >= *stallAfter {
			stalled = true
			time.Sleep(*stall) // the point: an agent that stops reading
		}
		if err == io.EOF {
			res.Complete = true
			break
		}
		if err != nil {
			res.Error = err.Error()
			break
		}
	}
	res.Seconds = time.Since(started).Seconds()
	if stalled {
		res.Seconds -= stall.Seconds()
	}
	res.MiBPerS = float64(res.Bytes) / (1 << 20) / res.Seconds
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if !res.Complete {
		os.Exit(1)
	}
}
