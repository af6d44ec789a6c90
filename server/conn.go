package server

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync/atomic"

	"golang.org/x/net/netutil"
)

// DefaultMaxConns is how many connections a server keeps open at once by
// default: far below the usual 20,000-descriptor limit, far above what the
// plans' rates need.
const DefaultMaxConns = 4096

// Listen wraps ln for serving the API: at most maxConns connections are
// open at once (further ones wait in the kernel's backlog until one
// closes; 0 means DefaultMaxConns), and the framing of every request is
// watched, so that a request with both Content-Length and
// Transfer-Encoding is refused (see ConnContext). net/http itself serves
// such a request and keeps its connection, after deleting the
// Content-Length, which is why the bytes are read here.
func Listen(ln net.Listener, maxConns int) net.Listener {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	return framingListener{netutil.LimitListener(ln, maxConns)}
}

// ConnContext is the http.Server.ConnContext of a listener from Listen: it
// lets the pipeline see a connection's ambiguous framing.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, &fc.ambiguous)
	}
	return ctx
}

type framingKey struct{}

// ambiguousFraming tells whether the connection of ctx has carried a
// request with both Content-Length and Transfer-Encoding.
func ambiguousFraming(ctx context.Context) bool {
	a, ok := ctx.Value(framingKey{}).(*atomic.Bool)
	return ok && a.Load()
}

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// The states of framingConn's reading of the request stream.
const (
	inHeader    = iota // the request line and header fields
	inBody             // remaining bytes of a Content-Length body
	inChunkSize        // a chunk-size line
	inChunk            // remaining bytes of a chunk, then its CRLF
	inTrailer          // trailer fields after the last chunk
	off                // stopped: the framing was refused or is malformed, and net/http closes the connection
)

// maxHeaderRead bounds the header block kept: net/http refuses longer ones.
const maxHeaderRead = 1 << 20

// framingConn follows the request framing of RFC 9112 §6 on the bytes it
// reads, to find the header block of every request on the connection; it
// marks the connection once one of them has both Content-Length and
// Transfer-Encoding. Reading ahead (pipelining) may mark it before net/http
// serves the request: the connection is refused from then on.
type framingConn struct {
	net.Conn
	ambiguous atomic.Bool

	state  int
	line   []byte // the header block, chunk-size line or trailer line being read
	remain int64  // bytes left in the body or chunk (plus the chunk's CRLF)
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.follow(p[:n])
	return n, err
}

// follow advances the framing over b.
func (c *framingConn) follow(b []byte) {
	for len(b) > 0 && c.state != off {
		switch c.state {
		case inBody, inChunk:
			k := min(int64(len(b)), c.remain)
			b, c.remain = b[k:], c.remain-k
			if c.remain == 0 && c.state == inBody {
				c.state = inHeader
			} else if c.remain == 0 {
				c.state = inChunkSize
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.line = append(c.line, b...)
			b = nil
		} else {
			c.line = append(c.line, b[:i+1]...)
			b = b[i+1:]
		}
		if len(c.line) > maxHeaderRead {
			c.state = off
			return
		}
		if i >= 0 {
			c.endOfLine()
		}
	}
}

// endOfLine handles c.line, which ends in a line feed.
func (c *framingConn) endOfLine() {
	switch c.state {
	case inHeader:
		if len(bytes.TrimSpace(c.line)) == 0 {
			c.line = c.line[:0] // empty lines before a request line are allowed
			return
		}
		if !bytes.HasSuffix(c.line, []byte("\n\r\n")) && !bytes.HasSuffix(c.line, []byte("\n\n")) {
			return // the header block goes on
		}
		c.header()
	case inChunkSize:
		size, _, _ := bytes.Cut(bytes.TrimSpace(c.line), []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		switch {
		case err != nil || n < 0:
			c.state = off
		case n == 0:
			c.state = inTrailer
		default:
			c.state, c.remain = inChunk, n+2
		}
	case inTrailer:
		if len(bytes.TrimSpace(c.line)) == 0 {
			c.state = inHeader
		}
	}
	c.line = c.line[:0]
}

// header reads the framing fields of a complete header block.
func (c *framingConn) header() {
	var length, encoding []byte
	hasLength, hasEncoding := false, false
	lines := bytes.Split(c.line, []byte("\n"))
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "content-length":
			hasLength, length = true, bytes.TrimSpace(value)
		case "transfer-encoding":
			hasEncoding, encoding = true, bytes.TrimSpace(value)
		}
	}
	switch {
	case hasLength && hasEncoding:
		c.ambiguous.Store(true)
		c.state = off
	case hasEncoding && bytes.EqualFold(encoding, []byte("chunked")):
		c.state = inChunkSize
	case hasEncoding:
		c.state = off // net/http refuses any other encoding and closes
	case hasLength:
		n, err := strconv.ParseInt(string(length), 10, 64)
		switch {
		case err != nil || n < 0:
			c.state = off
		case n > 0:
			c.state, c.remain = inBody, n
		}
	}
}
