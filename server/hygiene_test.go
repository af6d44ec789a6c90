package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/servertest"
)

// rawExchange writes raw to a new connection to the server of base (a
// URL such as http://127.0.0.1:1234/v1) and reads the answers to n requests.
func rawExchange(t *testing.T, base, raw string, n int) (net.Conn, *bufio.Reader, []*http.Response, [][]byte) {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimSuffix(base, "/v1"), "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var resps []*http.Response
	var bodies [][]byte
	for i := range n {
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		resps, bodies = append(resps, resp), append(bodies, b)
	}
	return conn, br, resps, bodies
}

// A request with both Content-Length and Transfer-Encoding may be framed
// one way by a proxy and another by the server (request smuggling): it is
// refused and its connection closed, whatever the order of the fields.
func TestContentLengthWithTransferEncodingIsRefusedAndClosed(t *testing.T) {
	srv := newServer(t)
	for _, fields := range []string{
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
		"transfer-encoding: chunked\r\ncontent-length: 0\r\n",
	} {
		// After the refused request, a smuggled one: it must never be answered.
		raw := "POST /v1/leads/add HTTP/1.1\r\nHost: x\r\nX-API-Key: " + srv.Key + "\r\nContent-Type: application/json\r\n" + fields +
			"\r\n0\r\n\r\nGET /v1/leads HTTP/1.1\r\nHost: x\r\nX-API-Key: " + srv.Key + "\r\n\r\n"
		conn, br, resps, bodies := rawExchange(t, srv.URL, raw, 1)
		wantError(t, resps[0], bodies[0], http.StatusBadRequest, gen.ErrorCodeInvalidParameter)
		if !resps[0].Close {
			t.Errorf("%q: the answer does not close the connection (Connection: %q)", fields, resps[0].Header.Get("Connection"))
		}
		if b, err := br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("%q: the connection stayed open: read %q, %v", fields, b, err)
		}
		conn.Close()
	}
}

// The framing is followed across requests on one connection: chunked and
// sized bodies (whose content looks like header fields) are not mistaken
// for requests, and pipelined requests after them are served.
func TestFramingIsFollowedAcrossKeptAliveRequests(t *testing.T) {
	srv := newServer(t)
	lead := `{"email":"a@example.com","name":"Content-Length: 3\r\nTransfer-Encoding: chunked"}`
	lead2 := `{"email":"b@example.com","name":"Transfer-Encoding: chunked\r\n\r\nContent-Length: 1\r\n\r\n"}`
	head := "POST /v1/leads/add HTTP/1.1\r\nHost: x\r\nX-API-Key: " + srv.Key + "\r\nContent-Type: application/json\r\n"
	raw := head + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n", len(lead), lead) +
		head + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(lead2), lead2) +
		"GET /v1/leads HTTP/1.1\r\nHost: x\r\nX-API-Key: " + srv.Key + "\r\n\r\n"
	_, _, resps, bodies := rawExchange(t, srv.URL, raw, 3)
	for i, want := range []int{http.StatusCreated, http.StatusCreated, http.StatusOK} {
		if resps[i].StatusCode != want || resps[i].Close {
			t.Errorf("request %d: %d (close %v), want %d on a kept connection: %s", i, resps[i].StatusCode, resps[i].Close, want, bodies[i])
		}
	}
	if !strings.Contains(string(bodies[2]), "b@example.com") {
		t.Errorf("the listing lacks the second lead: %s", bodies[2])
	}
}

// Two different keys in the two key headers: which one is meant is
// unknown, so neither is used. The same key in both is one key.
func TestTwoDifferentKeysAreRefused(t *testing.T) {
	srv := newServer(t)
	for _, tt := range []struct {
		name, second string
		want         int
	}{
		{"different", "axm_" + strings.Repeat("x", 40), http.StatusBadRequest},
		{"same", srv.Key, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := getWith(t, srv.URL+"/leads", srv.Key, map[string]string{"X-Axiom-API-Key": tt.second})
			if tt.want == http.StatusBadRequest {
				wantError(t, resp, body, tt.want, gen.ErrorCodeInvalidParameter)
			} else if resp.StatusCode != tt.want {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
}

// At most maxConns connections are served at once: a further one waits
// until one closes, and is then served.
func TestListenCapsOpenConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		ConnContext: server.ConnContext}
	go hs.Serve(server.Listen(ln, 2))
	t.Cleanup(func() { hs.Close() })
	req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	var held []net.Conn
	for range 2 {
		c, _, resps, _ := rawExchange(t, "http://"+ln.Addr().String(), req, 1)
		if resps[0].StatusCode != http.StatusOK {
			t.Fatalf("status %d", resps[0].StatusCode)
		}
		held = append(held, c) // kept alive, idle
	}
	third, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	io.WriteString(third, req)
	br := bufio.NewReader(third)
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("a third connection was served while two were open, with a cap of 2")
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the third connection once one closed: %v %v", resp, err)
	}
}

// A new SQLite database, its WAL and its shared-memory file hold every
// account's data and tokens: only their owner may read them.
func TestDatabaseFilesArePrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022)) // the usual umask, which leaves 0644 files world-readable
	path := filepath.Join(t.TempDir(), "axiom.db")
	srv := servertest.New(t, servertest.WithDatabase(path))
	if resp, body := call(t, http.MethodPost, srv.URL+"/leads/add", srv.Key, "application/json",
		strings.NewReader(`{"email":"a@example.com","name":"A"}`)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", fi.Name(), fi.Mode().Perm())
		}
	}
}
