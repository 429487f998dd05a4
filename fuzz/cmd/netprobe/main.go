// Command netprobe is the egress test's network tool (scripts/egress-test.sh):
//
//	netprobe serve ADDR NAME LOG   an HTTP/1.1 server that answers every request with "NAME"
//	                               and appends "NAME METHOD TARGET authorization=..." to LOG
//	netprobe udp ADDR LOG          a UDP listener that appends each datagram to LOG
//	netprobe get ADDR TARGET       one GET; prints "status=N exchange=ID body=..." or
//	                               "error=..." and exits 0 either way (the script judges)
//	netprobe send-udp ADDR TEXT    sends one datagram; prints "sent" or "error=..."
//
// Every network wait has a deadline, so a blocked or dropped connection ends in an error line.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: netprobe serve ADDR NAME LOG | udp ADDR LOG | get ADDR TARGET | send-udp ADDR TEXT")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2], os.Args[3], os.Args[4])
	case "udp":
		udp(os.Args[2], os.Args[3])
	case "get":
		get(os.Args[2], os.Args[3])
	case "send-udp":
		sendUDP(os.Args[2], os.Args[3])
	default:
		os.Exit(2)
	}
}

var logMu sync.Mutex

func appendLog(path, line string) {
	logMu.Lock()
	defer logMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

func serve(addr, name, log string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening", ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appendLog(log, fmt.Sprintf("%s %s %s authorization=%q from=%s", name, r.Method, r.RequestURI, r.Header.Get("Authorization"), r.RemoteAddr))
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, name)
	})}
	_ = srv.Serve(ln)
}

func udp(addr, log string) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		appendLog(log, fmt.Sprintf("udp %q from=%s", buf[:n], from))
	}
}

func get(addr, target string) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		fmt.Println("error=" + oneWord(err))
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		fmt.Println("error=" + oneWord(err))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Printf("status=%d exchange=%s body=%s\n", resp.StatusCode, orDash(resp.Header.Get("X-Countersign-Exchange-Id")),
		strings.ReplaceAll(strings.TrimSpace(string(body)), "\n", " "))
}

func sendUDP(addr, text string) {
	c, err := net.DialTimeout("udp", addr, 3*time.Second)
	if err != nil {
		fmt.Println("error=" + oneWord(err))
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(text)); err != nil {
		fmt.Println("error=" + oneWord(err))
		return
	}
	fmt.Println("sent")
}

func oneWord(err error) string { return strings.ReplaceAll(err.Error(), " ", "_") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
