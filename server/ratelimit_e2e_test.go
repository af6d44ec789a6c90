package server_test

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/servertest"
)

// A fresh key's burst is admitted exactly once, however many requests race
// for it: 1,000 concurrent requests get the burst, plus at most the refill
// of the time they took, and every other one a 429 in the envelope.
func TestRateLimitUnderConcurrency(t *testing.T) {
	for _, tc := range []struct {
		plan      axiom.Plan
		rate      int // per minute
		burst     int
		perSecond float64
	}{
		{axiom.PlanStarter, 60, 100, 1},
		{axiom.PlanEnterprise, 300, 500, 5},
	} {
		t.Run(string(tc.plan), func(t *testing.T) {
			srv := newServer(t, servertest.WithPlan(tc.plan))
			const n = 1000
			tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}

			type answer struct {
				status int
				header http.Header
				body   []byte
				err    error
			}
			answers := make([]answer, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range answers {
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/leads?limit=1", nil)
					req.Header.Set("X-API-Key", srv.Key)
					<-start
					resp, err := client.Do(req)
					if err != nil {
						answers[i].err = err
						return
					}
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					answers[i] = answer{resp.StatusCode, resp.Header, b, err}
				})
			}
			began := time.Now()
			close(start)
			wg.Wait()
			elapsed := time.Since(began)

			ok := 0
			for i, a := range answers {
				if a.err != nil {
					t.Fatalf("request %d: %v", i, a.err)
				}
				limit, remaining := intHeader(t, a.header, "X-RateLimit-Limit"), intHeader(t, a.header, "X-RateLimit-Remaining")
				if limit != tc.rate || remaining < 0 || remaining >= tc.burst {
					t.Fatalf("request %d: X-RateLimit-Limit %d, X-RateLimit-Remaining %d", i, limit, remaining)
				}
				switch a.status {
				case http.StatusOK:
					ok++
				case http.StatusTooManyRequests:
					resp := &http.Response{StatusCode: a.status, Header: a.header, Request: &http.Request{Method: http.MethodGet}}
					wantError(t, resp, a.body, http.StatusTooManyRequests, gen.ErrorCodeRateLimitExceeded)
					if retry := intHeader(t, a.header, "Retry-After"); retry < 1 || remaining != 0 {
						t.Fatalf("request %d: 429 with Retry-After %d, X-RateLimit-Remaining %d", i, retry, remaining)
					}
				default:
					t.Fatalf("request %d: %d %s", i, a.status, a.body)
				}
			}
			refill := int(math.Ceil(elapsed.Seconds() * tc.perSecond))
			t.Logf("%d of %d admitted in %s (burst %d, refill at most %d)", ok, n, elapsed.Round(time.Millisecond), tc.burst, refill)
			if ok < tc.burst || ok > tc.burst+refill {
				t.Fatalf("%d requests admitted in %s, want %d plus at most %d refilled", ok, elapsed, tc.burst, refill)
			}
		})
	}
}

func intHeader(t *testing.T, h http.Header, name string) int {
	t.Helper()
	v, err := strconv.Atoi(h.Get(name))
	if err != nil {
		t.Fatalf("%s: %q", name, h.Get(name))
	}
	return v
}
