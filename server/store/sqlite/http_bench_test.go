package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/servertest"
	"github.com/axiomkit/axiom/server/store"
)

// serialCreates commits each lead alone, one after the other, as the store
// did before writes were grouped.
type serialCreates struct {
	store.Store
	mu sync.Mutex
}

func (s *serialCreates) CreateLead(ctx context.Context, l store.Lead) (store.Lead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.CreateLead(ctx, l)
}

// BenchmarkHTTPCreateLead sends POST /v1/leads/add from 32 clients at once
// to a server on a SQLite file, over loopback, with rate limiting off and
// request and response validation on (the server's defaults). The clients
// run in the same process and share its two cores with the server.
func BenchmarkHTTPCreateLead(b *testing.B) {
	const clients = 32
	for _, commit := range []string{"alone", "grouped"} {
		b.Run(fmt.Sprintf("commit=%s/clients=%d", commit, clients), func(b *testing.B) {
			opts := []servertest.Option{
				servertest.WithDatabase(filepath.Join(b.TempDir(), "axiom.db")),
				servertest.WithoutRateLimit(),
				servertest.WithoutCampaignWorker(),
			}
			if commit == "alone" {
				opts = append(opts, servertest.WithStoreWrapper(func(s store.Store) store.Store { return &serialCreates{Store: s} }))
			}
			srv := servertest.New(b, opts...)
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			defer hc.CloseIdleConnections()
			url := srv.URL + "/leads/add"
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for range clients {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						body := fmt.Sprintf(`{"name":"Lead %d","email":"lead%d@example.com","phone":"+1555%07d","tags":["buyer","vip"]}`, i, i, i)
						req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
						if err != nil {
							b.Error(err)
							return
						}
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("X-API-Key", srv.Key)
						resp, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusCreated {
							b.Errorf("POST /leads/add: %s", resp.Status)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
		})
	}
}

// cpuTime is the CPU time, user and system, the process has used so far:
// per operation, a figure that other load on the machine disturbs less than
// elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
