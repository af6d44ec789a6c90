package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/server"
)

// patience bounds how long a test waits for the server to cut a client off;
// every limit under test is far shorter, and every fallback limit longer.
const patience = 30 * time.Second

// limitedServer serves the real API through serveHTTPLimited on loopback
// and returns its address and a key.
func limitedServer(t *testing.T, lim httpLimits) (addr, key string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := openStore(ctx, filepath.Join(t.TempDir(), "axiom.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	log := slog.New(slog.DiscardHandler)
	if err := bootstrap(ctx, st, &out, log); err != nil {
		t.Fatal(err)
	}
	camps, err := campaign.NewService(campaign.Config{Store: st, PublicURL: "http://localhost/v1"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Leads: st, Templates: st, Properties: st, Analytics: st, Keys: st, Idempotency: st, Campaigns: camps, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serveHTTPLimited(ctx, ln, srv, lim, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	})
	return ln.Addr().String(), keyRE.FindString(out.String())
}

// dial opens a connection that gives up after patience.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(patience))
	return conn
}

// trickle writes p one byte per interval until it is all written or a
// write fails; it reports in done whether all of p went out.
func trickle(conn net.Conn, p []byte, interval time.Duration, done *atomic.Bool) {
	for i := range p {
		if _, err := conn.Write(p[i : i+1]); err != nil {
			return
		}
		time.Sleep(interval)
	}
	done.Store(true)
}

// readUntilClosed reads what the server sends until it closes the
// connection; it fails the test if the server never does.
func readUntilClosed(t *testing.T, conn io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(conn)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %s; it sent %q", patience, b)
	}
	return b // io.EOF or a reset: the server closed it
}

// testLimits are long enough never to cut a well-behaved client off; each
// subtest shortens the one it tests.
func testLimits() httpLimits {
	return httpLimits{readHeader: time.Minute, read: time.Minute, write: time.Minute, idle: time.Minute, maxHeaderBytes: 64 << 10}
}

func TestSlowClientsAreCutOff(t *testing.T) {
	t.Run("headers slower than ReadHeaderTimeout", func(t *testing.T) {
		lim := testLimits()
		lim.readHeader = 200 * time.Millisecond
		addr, _ := limitedServer(t, lim)
		conn := dial(t, addr)
		var all atomic.Bool
		go trickle(conn, []byte("GET /healthz HTTP/1.1\r\nHost: axiom.test\r\nX-Slow: "+strings.Repeat("a", 1000)+"\r\n\r\n"), 20*time.Millisecond, &all)
		got := readUntilClosed(t, conn)
		if all.Load() {
			t.Fatal("the client sent all its headers before being cut off")
		}
		// net/http itself may say 400 before it closes; never more.
		if len(got) > 0 {
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
			if err != nil || resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("a request whose headers never ended was answered: %q", got)
			}
		}
	})

	t.Run("body slower than ReadTimeout", func(t *testing.T) {
		lim := testLimits()
		lim.read = 300 * time.Millisecond
		addr, key := limitedServer(t, lim)
		conn := dial(t, addr)
		body := `{"name":"Slow","email":"slow@example.com","notes":["` + strings.Repeat("n", 1000) + `"]}`
		fmt.Fprintf(conn, "POST /v1/leads/add HTTP/1.1\r\nHost: axiom.test\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", key, len(body))
		var all atomic.Bool
		go trickle(conn, []byte(body), 20*time.Millisecond, &all)
		got := readUntilClosed(t, conn)
		if all.Load() {
			t.Fatal("the client sent all its body before being cut off")
		}
		if len(got) == 0 {
			return // cut off without an answer
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
		if err != nil {
			t.Fatalf("%v: %q", err, got)
		}
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("a body cut off by the read timeout answered %d: %q", resp.StatusCode, got)
		}
		wantEnvelope(t, resp, resp.StatusCode)
	})

	t.Run("idle keep-alive connection after IdleTimeout", func(t *testing.T) {
		lim := testLimits()
		lim.idle = 200 * time.Millisecond
		addr, _ := limitedServer(t, lim)
		conn := dial(t, addr)
		fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: axiom.test\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("status %d, close %v: want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		if rest := readUntilClosed(t, br); len(rest) != 0 {
			t.Fatalf("the server sent %q on an idle connection", rest)
		}
	})

	t.Run("headers over MaxHeaderBytes", func(t *testing.T) {
		addr, _ := limitedServer(t, testLimits())
		conn := dial(t, addr)
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: axiom.test\r\nX-Big: %s\r\n\r\n", strings.Repeat("b", 128<<10))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}

// A body larger than the limit is refused before it is read whole.
func TestOversizedBodies(t *testing.T) {
	addr, key := limitedServer(t, defaultHTTPLimits())
	const size = 2 << 20 // twice server.DefaultMaxBodyBytes
	head := func(extra string) string {
		return fmt.Sprintf("POST /v1/leads/add HTTP/1.1\r\nHost: axiom.test\r\nX-API-Key: %s\r\nContent-Type: application/json\r\n%s\r\n", key, extra)
	}
	for _, tc := range []struct{ name, headers string }{
		{"Content-Length", fmt.Sprintf("Content-Length: %d\r\n", size)},
		{"Content-Length with Expect: 100-continue", fmt.Sprintf("Content-Length: %d\r\nExpect: 100-continue\r\n", size)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, addr)
			// Only the headers: the answer must come without the body.
			fmt.Fprint(conn, head(tc.headers))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			wantEnvelope(t, resp, http.StatusRequestEntityTooLarge)
		})
	}

	t.Run("chunked", func(t *testing.T) {
		conn := dial(t, addr)
		fmt.Fprint(conn, head("Transfer-Encoding: chunked\r\n"))
		// Far more than any socket buffers hold: the writer can only finish
		// if the server reads it all.
		const total = 64 << 20
		chunk := append(fmt.Appendf(nil, "%x\r\n", 64<<10), append(bytes.Repeat([]byte(" "), 64<<10), "\r\n"...)...)
		written := make(chan int, 1)
		go func() {
			n := 0
			for n < total {
				if _, err := conn.Write(chunk); err != nil {
					break
				}
				n += 64 << 10
			}
			written <- n
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantEnvelope(t, resp, http.StatusRequestEntityTooLarge)
		if n := <-written; n >= total {
			t.Fatalf("the server read all %d bytes of a body over the limit", n)
		}
	})
}

// wantEnvelope checks that resp is the API's error envelope with status.
func wantEnvelope(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	defer resp.Body.Close()
	var env gen.Error
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || resp.StatusCode != status || env.Error.Code == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d (want %d), Content-Type %q, envelope %+v (%v)", resp.StatusCode, status, resp.Header.Get("Content-Type"), env, err)
	}
}
