package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
)

// buildAxiom compiles this command into dir, as a user would run it.
func buildAxiom(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the axiom binary")
	}
	return buildBinary(t)
}

// process is a running `axiom serve`.
type process struct {
	cmd            *exec.Cmd
	addr           string
	stdout, stderr *syncBuffer
	exited         chan struct{} // closed when the process has ended
	err            error         // what Wait returned, once exited is closed
}

// startProcess runs `axiom serve` on db and waits until it listens.
func startProcess(t *testing.T, bin, db string, args ...string) *process {
	t.Helper()
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(p.stderr.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("axiom serve ended early: %v\n%s", p.err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("axiom serve did not start:\n%s", p.stderr.String())
	return nil
}

// kill ends the process with SIGKILL, so that no shutdown code runs, and
// waits until it is gone.
func (p *process) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL) // fails only if it has just ended
	<-p.exited
}

// stop ends the process as an operator would, with SIGTERM.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if p.err != nil {
		t.Fatalf("axiom serve after SIGTERM: %v\n%s", p.err, p.stderr.String())
	}
}

// crashLead is the lead that add number n sends: every field set, so that a
// half-written row cannot pass for a whole one.
func crashLead(n int) gen.LeadCreate {
	s := func(v string) *string { return &v }
	return gen.LeadCreate{
		Name: fmt.Sprintf("Crash Lead %d", n), Email: fmt.Sprintf("crash-%d@example.com", n),
		Phone: s(fmt.Sprintf("+1555%07d", n)), Company: s(fmt.Sprintf("Company %d", n)),
		Type: new(gen.LeadTypeClient), Status: new(gen.LeadStatusInactive), Source: s("crash-test"),
		Tags:         &[]string{"crash", fmt.Sprintf("n%d", n)},
		Notes:        &[]string{strings.Repeat(fmt.Sprintf("note %d ", n), 20)},
		CustomFields: &gen.CustomFields{"n": fmt.Sprint(n), "unicode": "Zoë 李"},
	}
}

// wantLead is the lead the API must return for what crashLead(n) sent.
func wantLead(n int, id string, created, updated time.Time) gen.Lead {
	c := crashLead(n)
	return gen.Lead{
		ID: id, Name: c.Name, Email: c.Email, Phone: *c.Phone, Company: *c.Company,
		Type: *c.Type, Status: *c.Status, Source: *c.Source, Tags: *c.Tags, Notes: *c.Notes,
		CustomFields: *c.CustomFields, CreatedAt: created, UpdatedAt: updated,
	}
}

// A server killed with SIGKILL during concurrent adds loses none that it
// acknowledged with a 201, and keeps no half-written lead.
func TestCrashDuringConcurrentAdds(t *testing.T) {
	bin := buildAxiom(t)
	db := filepath.Join(t.TempDir(), "axiom.db")
	p := startProcess(t, bin, db, "--rate-limit", "off")
	key := keyRE.FindString(p.stdout.String())
	if key == "" {
		t.Fatalf("no key printed:\n%s", p.stdout.String())
	}

	const (
		workers  = 16
		maxAdds  = 4000 // a bound only: the kill comes long before
		killAt   = 300  // acknowledged adds before the kill
		clientTO = 30 * time.Second
	)
	client := &http.Client{Timeout: clientTO, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var (
		next, acked atomic.Int64
		mu          sync.Mutex
		created     = map[int]gen.Lead{} // n → the 201's lead
		sent        = map[string]int{}   // email → n, for every add sent
		killed      = make(chan struct{})
		killOnce    sync.Once
		wg          sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				n := int(next.Add(1))
				if n > maxAdds {
					return
				}
				body, _ := json.Marshal(crashLead(n))
				mu.Lock()
				sent[crashLead(n).Email] = n
				mu.Unlock()
				req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/v1/leads/add", bytes.NewReader(body))
				req.Header.Set("X-API-Key", key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					select {
					case <-killed:
						return // the server is gone
					default:
						t.Errorf("add %d before the kill: %v", n, err)
						return
					}
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return // cut off by the kill mid-response: not acknowledged
				}
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("add %d: %d %s", n, resp.StatusCode, b)
					return
				}
				var env gen.LeadEnvelope
				if err := json.Unmarshal(b, &env); err != nil {
					t.Errorf("add %d: %v: %s", n, err, b)
					return
				}
				mu.Lock()
				created[n] = env.Data
				mu.Unlock()
				if acked.Add(1) == killAt {
					killOnce.Do(func() {
						close(killed)
						p.kill()
					})
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the adds ended before the kill: %d acknowledged", acked.Load())
	}
	if t.Failed() {
		return
	}
	if len(created) < killAt {
		t.Fatalf("%d adds acknowledged, want at least %d", len(created), killAt)
	}

	// The same database, after the crash: the account and key survived.
	p = startProcess(t, bin, db, "--rate-limit", "off")
	if keyRE.MatchString(p.stdout.String()) {
		t.Fatalf("the restarted server made a new account:\n%s", p.stdout.String())
	}
	listed := listAllLeads(t, client, "http://"+p.addr+"/v1", key)
	byID := map[string]gen.Lead{}
	for _, l := range listed {
		if _, dup := byID[l.ID]; dup {
			t.Fatalf("lead %s listed twice", l.ID)
		}
		byID[l.ID] = l
		// Every lead there is one that was sent, whole: acknowledged or not.
		n, ok := sent[l.Email]
		if !ok {
			t.Fatalf("a lead nobody sent: %+v", l)
		}
		if want := wantLead(n, l.ID, l.CreatedAt, l.UpdatedAt); !reflect.DeepEqual(l, want) {
			t.Fatalf("lead %d is not what was sent:\n got %+v\nwant %+v", n, l, want)
		}
	}
	for n, c := range created {
		l, ok := byID[c.ID]
		if !ok {
			t.Fatalf("lead %d (%s) was acknowledged with a 201 and is gone", n, c.ID)
		}
		if !reflect.DeepEqual(l, c) {
			t.Fatalf("lead %d changed across the crash:\n got %+v\nwant %+v", n, l, c)
		}
	}
	t.Logf("%d adds sent, %d acknowledged, %d stored after the crash", len(sent), len(created), len(listed))
	p.stop(t)
	checkDatabase(t, db, len(listed))
}

// listAllLeads pages through GET /leads.
func listAllLeads(t *testing.T, client *http.Client, base, key string) []gen.Lead {
	t.Helper()
	var all []gen.Lead
	for page := 1; ; page++ {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/leads?limit=100&page=%d&sort=created_at&order=asc", base, page), nil)
		req.Header.Set("X-API-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list page %d: %d %s", page, resp.StatusCode, b)
		}
		var list gen.LeadList
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatal(err)
		}
		all = append(all, list.Data...)
		if list.HasMore == nil || !*list.HasMore {
			return all
		}
	}
}

// checkDatabase opens the file the server left and checks SQLite's own view
// of it: no corruption, the full-text index matching the leads, as many
// leads as the API listed.
func checkDatabase(t *testing.T, path string, leads int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO leads_fts(leads_fts) VALUES ('integrity-check')"); err != nil {
		t.Fatalf("the full-text index does not match the leads: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM leads").Scan(&n); err != nil || n != leads {
		t.Fatalf("%d leads in the table, %d listed (%v)", n, leads, err)
	}
}
