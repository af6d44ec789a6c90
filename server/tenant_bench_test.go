package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/servertest"
)

// BenchmarkTenantIsolation measures what one account's large send costs
// another on one SQLite file (make bench-tenant): the send's answer time
// for AXIOM_TENANT_LEADS leads (100,000 by default), another account's
// POST /leads/add latency before and while the audience is queued (p50,
// p99), how long queuing takes, and the storage per message of a 500 KB
// template. It runs once, whatever -benchtime says.
func BenchmarkTenantIsolation(b *testing.B) {
	if os.Getenv("AXIOM_TENANT_BENCH") == "" {
		b.Skip("set AXIOM_TENANT_BENCH=1 (make bench-tenant): it stores 100,000 leads and their messages")
	}
	leads := 100_000
	if n, err := strconv.Atoi(os.Getenv("AXIOM_TENANT_LEADS")); err == nil && n > 0 {
		leads = n
	}
	path := filepath.Join(b.TempDir(), "axiom.db")
	srv := servertest.New(b, servertest.WithDatabase(path), servertest.WithoutRateLimit(),
		servertest.WithSendQuotas(axiom.SendQuotas{}), servertest.WithPlan(axiom.PlanEnterprise))
	start := time.Now()
	fill(b, srv, srv.AccountID, "big", leads)
	b.Logf("%d leads stored in %s", leads, time.Since(start).Round(time.Millisecond))
	big := benchAPI{b, srv, srv.Key}
	slug := big.create("/templates/add", map[string]any{"name": "News", "subject": "Hi {{name}}",
		"content": `<p>Hi {{name}}</p><p><a href="https://example.com/offer">Offer</a></p>`}, "slug")
	camp := big.create("/campaigns/add", map[string]any{"name": "Big", "template": slug}, "id")
	other := benchAPI{b, srv, srv.NewAccountKey(b, axiom.PlanEnterprise)}

	before := other.writes(300, nil)
	b.ResetTimer()
	// The other account writes from just before the send until the whole
	// audience is queued, whether the send waits for it or not.
	var sent atomic.Bool
	queued := func() bool {
		var env gen.CampaignEnvelope
		json.Unmarshal(big.do("GET", "/campaigns/"+camp, nil, http.StatusOK), &env)
		return env.Data.Counts.Recipients >= leads
	}
	var during []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		during = other.writes(0, func() bool { return sent.Load() && queued() })
	}()
	time.Sleep(20 * time.Millisecond)
	t0 := time.Now()
	big.do("POST", "/campaigns/"+camp+"/send", nil, http.StatusAccepted)
	sendTook := time.Since(t0)
	sent.Store(true)
	<-done
	queuedTook := time.Since(t0)
	b.StopTimer()

	// Storage per message: a 500 KB template to a few hundred leads of a
	// third account, the database and its WAL before and after.
	const heavy = 200
	third := srv.NewAccountKey(b, axiom.PlanEnterprise)
	thirdAPI := benchAPI{b, srv, third}
	thirdID := accountOf(b, srv, third)
	fill(b, srv, thirdID, "heavy", heavy)
	big500 := "<p>{{name}}</p>" + strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>", 500_000/66)
	hslug := thirdAPI.create("/templates/add", map[string]any{"name": "Heavy", "subject": "Hi", "content": big500}, "slug")
	hcamp := thirdAPI.create("/campaigns/add", map[string]any{"name": "Heavy", "template": hslug}, "id")
	size0 := dbSize(path)
	thirdAPI.do("POST", "/campaigns/"+hcamp+"/send", nil, http.StatusAccepted)
	for {
		var env gen.CampaignEnvelope
		json.Unmarshal(thirdAPI.do("GET", "/campaigns/"+hcamp, nil, http.StatusOK), &env)
		if env.Data.Counts.Recipients >= heavy {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	perMessage := float64(dbSize(path)-size0) / heavy

	b.ReportMetric(float64(sendTook.Milliseconds()), "send-ms")
	b.ReportMetric(float64(queuedTook.Milliseconds()), "queued-ms")
	b.ReportMetric(ms(pct(before, 50)), "other-p50-before-ms")
	b.ReportMetric(ms(pct(before, 99)), "other-p99-before-ms")
	b.ReportMetric(ms(pct(during, 50)), "other-p50-during-ms")
	b.ReportMetric(ms(pct(during, 99)), "other-p99-during-ms")
	b.ReportMetric(float64(len(during)), "other-writes-during")
	b.ReportMetric(perMessage, "bytes/msg-500KB")
}

// fill gives account n leads, stored by 8 writers at once.
func fill(b *testing.B, srv *servertest.Server, account, prefix string, n int) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				l := axiom.NewLead(account, axiom.Lead{Name: fmt.Sprintf("Lead %d", i), Email: fmt.Sprintf("%s%d@example.com", prefix, i)}, time.Now())
				if err := srv.Store.CreateLead(context.Background(), l); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// accountOf is the account of key.
func accountOf(b *testing.B, srv *servertest.Server, key string) string {
	b.Helper()
	k, acc, err := srv.Store.KeyByHash(context.Background(), axiom.HashSecret(key))
	if err != nil || k.AccountID != acc.ID {
		b.Fatal(err)
	}
	return acc.ID
}

func dbSize(path string) int64 {
	var n int64
	for _, s := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + s); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type benchAPI struct {
	b   *testing.B
	srv *servertest.Server
	key string
}

func (a benchAPI) do(method, path string, body any, status int) []byte {
	a.b.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, r)
	req.Header.Set("X-API-Key", a.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		a.b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out
}

// create posts body and returns the field of the created data.
func (a benchAPI) create(path string, body map[string]any, field string) string {
	a.b.Helper()
	var env struct{ Data map[string]any }
	json.Unmarshal(a.do("POST", path, body, http.StatusCreated), &env)
	v, _ := env.Data[field].(string)
	if field == "slug" {
		v, _ = env.Data["template"].(string) // a template is answered by its slug
	}
	if v == "" {
		a.b.Fatalf("POST %s: no %s in %v", path, field, env.Data)
	}
	return v
}

// writes times POST /leads/add: n of them, or, with until, until it holds
// (checked every 20 writes).
func (a benchAPI) writes(n int, until func() bool) []time.Duration {
	var d []time.Duration
	for i := 0; ; i++ {
		if n > 0 && i >= n || until != nil && i%20 == 0 && until() {
			return d
		}
		t := time.Now()
		a.do("POST", "/leads/add", map[string]any{"name": "Other", "email": fmt.Sprintf("o%d-%d@example.com", len(d), time.Now().UnixNano())}, http.StatusCreated)
		d = append(d, time.Since(t))
	}
}
