// Package load drives an HTTP/1.1 server over loopback with a fixed number
// of keep-alive connections, for a bounded time and number of requests, and
// reports the throughput and latency percentiles it saw.
//
// It writes pre-built requests on raw connections and reads responses with
// net/http's parser: a client much cheaper than net/http.Client, so that on a
// small machine shared with the server the figures say more about the server.
package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Request appends the raw bytes of request number seq (from 0, unique within
// a run) to buf and returns it.
type Request func(buf []byte, seq uint64) []byte

// Options bound a run. At least one of Duration and Requests must be set.
type Options struct {
	Addr        string        // host:port of the server
	Concurrency int           // connections, each with one request in flight; 0 means 1
	Duration    time.Duration // stop sending after this long; 0: no limit
	Requests    int64         // stop after this many requests; 0: no limit
	Status      int           // the status every response must have; 0 means 200
	Timeout     time.Duration // for one request; 0 means 10 seconds
}

// Result is what a run measured.
type Result struct {
	OK       int64         // responses with the expected status
	Failed   int64         // other statuses and transport errors
	Elapsed  time.Duration // from the first request sent to the last answered
	P50, P99 time.Duration // of the OK responses
	Max      time.Duration
	// FirstFailure describes the first failure seen, or is "".
	FirstFailure string
}

// Rate is OK responses per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Run sends requests built by req until a bound of opts is reached or ctx
// ends. An error is returned only when the run could not be made at all
// (bad options, no connection); failed requests are counted in the Result.
func Run(ctx context.Context, opts Options, req Request) (Result, error) {
	if opts.Duration <= 0 && opts.Requests <= 0 {
		return Result{}, errors.New("load: set Duration or Requests")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Status == 0 {
		opts.Status = http.StatusOK
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	// Connect first, so that a dead server fails the run and dialling is
	// not timed.
	conns := make([]net.Conn, opts.Concurrency)
	var d net.Dialer
	for i := range conns {
		c, err := d.DialContext(ctx, "tcp", opts.Addr)
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return Result{}, fmt.Errorf("load: %w", err)
		}
		conns[i] = c
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{opts: opts, req: req}
	start := time.Now()
	if opts.Duration > 0 {
		r.deadline = start.Add(opts.Duration)
	}
	workers := make([]worker, opts.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.conn = conns[i]
		wg.Go(func() { r.work(ctx, w) })
	}
	stop := context.AfterFunc(ctx, func() {
		for i := range workers {
			workers[i].closeConn()
		}
	})
	wg.Wait()
	stop()
	elapsed := time.Since(start)

	var res Result
	var all []time.Duration
	var firstAt int64
	for i := range workers {
		w := &workers[i]
		w.closeConn()
		res.OK += int64(len(w.latencies))
		res.Failed += w.failed
		if w.firstFailure != "" && (firstAt == 0 || w.firstFailureAt < firstAt) {
			res.FirstFailure, firstAt = w.firstFailure, w.firstFailureAt
		}
		all = append(all, w.latencies...)
	}
	res.Elapsed = elapsed
	if len(all) > 0 {
		slices.Sort(all)
		res.P50, res.P99, res.Max = percentile(all, 50), percentile(all, 99), all[len(all)-1]
	}
	return res, nil
}

// percentile is the nearest-rank percentile p of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100 // ceil(len*p/100)
	return sorted[max(rank, 1)-1]
}

type runner struct {
	opts     Options
	req      Request
	deadline time.Time // zero: none
	seq      atomic.Uint64
}

type worker struct {
	mu             sync.Mutex
	conn           net.Conn // nil once closed
	br             *bufio.Reader
	latencies      []time.Duration
	failed         int64
	firstFailure   string
	firstFailureAt int64
}

func (w *worker) closeConn() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) fail(format string, args ...any) {
	w.failed++
	if w.firstFailure == "" {
		w.firstFailure = fmt.Sprintf(format, args...)
		w.firstFailureAt = time.Now().UnixNano()
	}
}

// work sends one request at a time on w's connection, reconnecting when the
// server closes it, until a bound is reached.
func (r *runner) work(ctx context.Context, w *worker) {
	var buf []byte
	w.latencies = make([]time.Duration, 0, 1024)
	for ctx.Err() == nil {
		now := time.Now()
		if !r.deadline.IsZero() && !now.Before(r.deadline) {
			return
		}
		seq := r.seq.Add(1) - 1
		if r.opts.Requests > 0 && seq >= uint64(r.opts.Requests) {
			return
		}
		w.mu.Lock()
		conn := w.conn
		w.mu.Unlock()
		if conn == nil {
			if !r.reconnect(ctx, w) {
				return
			}
			w.mu.Lock()
			conn = w.conn
			w.mu.Unlock()
		}
		if w.br == nil {
			w.br = bufio.NewReaderSize(conn, 16<<10)
		}
		buf = r.req(buf[:0], seq)
		start := time.Now()
		conn.SetDeadline(start.Add(r.opts.Timeout))
		status, keep, err := roundTrip(conn, w.br, buf)
		took := time.Since(start)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return // the run was cancelled under this request
			}
			w.fail("%v", err)
			keep = false
		case status != r.opts.Status:
			w.fail("status %d, want %d", status, r.opts.Status)
		default:
			w.latencies = append(w.latencies, took)
		}
		if !keep {
			w.closeConn()
			w.br = nil
		}
	}
}

func (r *runner) reconnect(ctx context.Context, w *worker) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.opts.Addr)
	if err != nil {
		if ctx.Err() == nil {
			w.fail("%v", err)
		}
		return false
	}
	w.mu.Lock()
	w.conn = c
	w.mu.Unlock()
	return true
}

// roundTrip writes one request and reads its whole response.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, false, err
	}
	return resp.StatusCode, !resp.Close, nil
}

// Build returns a Request for method and target (path and query) with the
// given headers; body, if not nil, gives the body of request seq.
func Build(method, host, target string, header http.Header, body func(seq uint64) []byte) Request {
	var head []byte
	head = append(head, method+" "+target+" HTTP/1.1\r\nHost: "+host+"\r\n"...)
	for name, values := range header {
		for _, v := range values {
			head = append(head, name+": "+v+"\r\n"...)
		}
	}
	return func(buf []byte, seq uint64) []byte {
		buf = append(buf, head...)
		if body == nil {
			return append(buf, "\r\n"...)
		}
		b := body(seq)
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(b)), 10)
		buf = append(buf, "\r\n\r\n"...)
		return append(buf, b...)
	}
}
