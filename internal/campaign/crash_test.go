package campaign_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/internal/store/sqlite"
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var addrRE = regexp.MustCompile(`"addr":"([^"]+)"`)

// serve starts `axiom serve` and returns the process and its API's URL.
func serve(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	var stderr syncBuffer
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--rate-limit", "off"}, args...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			return cmd, "http://" + m[1] + "/v1", &stderr
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("axiom serve did not start:\n%s", stderr.String())
	return nil, "", nil
}

// call sends a JSON request and decodes the JSON answer into out.
func call(t *testing.T, method, url, key string, body, out any, status int) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("X-API-Key", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

type campaignBody struct {
	Data struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Counts struct {
			Recipients, Sent, Failed int
		} `json:"counts"`
	} `json:"data"`
}

// slowRelay is a relay that takes delay to answer the end of each
// message's DATA, and records the recipients whose DATA it is answering.
type slowRelay struct {
	delay time.Duration

	mu       sync.Mutex
	answered int            // messages answered
	inFlight map[string]int // recipients being answered
}

func (r *slowRelay) data(_ string, to []string) error {
	r.mu.Lock()
	for _, t := range to {
		r.inFlight[t]++
	}
	r.mu.Unlock()
	time.Sleep(r.delay)
	r.mu.Lock()
	for _, t := range to {
		r.inFlight[t]--
	}
	r.answered++
	r.mu.Unlock()
	return nil
}

// TestCrashMidSendResumesFast kills `axiom serve` (SIGKILL) in the middle
// of a 150-lead campaign to a slow relay, with messages delivered, messages
// claimed and in flight, and messages still queued, and restarts it on the
// same database. The campaign must finish with every lead mailed; a
// second copy may go only to a message the dead process held at the crash
// (SMTP allows no better), with the same Message-ID; and the claims of the
// dead process must be taken over, and their messages sent, within 15
// seconds of the restart, not after a lease of minutes.
//
// It waits out a dead worker's claims (10 s), so it runs with
// AXIOM_SLOW_TESTS=1, as CI sets.
func TestCrashMidSendResumesFast(t *testing.T) {
	if testing.Short() || os.Getenv("AXIOM_SLOW_TESTS") == "" {
		t.Skip("builds and runs the axiom command and waits out a dead worker's claims; AXIOM_SLOW_TESTS=1 runs it")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "axiom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/axiomkit/axiom/cmd/axiom").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "axiom.db")
	for _, bad := range [][]string{{"--smtp-url", "http://relay.example.com"}, {"--smtp-url", "smtp://relay?starttls=maybe"},
		{"--public-url", "localhost/v1"}, {"--send-rate", "fast"}, {"--send-rate", "-1"}, {"--send-rate", "0.001"}} {
		out, err := exec.Command(bin, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, bad...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), bad[0]) {
			t.Errorf("serve %v: %v, %s; want a refusal naming the flag", bad, err, out)
		}
	}

	const n, crashAfter = 150, 50
	sr := &slowRelay{delay: 100 * time.Millisecond, inFlight: map[string]int{}}
	relay := smtptest.New(t, smtptest.WithData(sr.data))
	// The relay's timeout is the default, 30s: the lease of the claims
	// before workers heartbeat was 4 times that.
	args := []string{"--db", db, "--smtp-url", relay.URL("starttls=none"), "--public-url", "http://127.0.0.1:9/v1", "--send-rate", "40"}
	cmd, api, stderr := serve(t, bin, args...)
	// The key commands open the database serve created.
	out, err := exec.Command(bin, "keys", "create", "--db", db, "--plan", "enterprise").Output()
	if err != nil {
		t.Fatalf("axiom keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))

	var tmpl struct {
		Data struct{ Template string } `json:"data"`
	}
	call(t, "POST", api+"/templates/add", key, map[string]string{"name": "News", "subject": "Hi {{name}}", "content": "<p>Hi {{name}}</p>"}, &tmpl, 201)
	for i := range n {
		call(t, "POST", api+"/leads/add", key, map[string]string{"name": fmt.Sprint("Lead ", i), "email": fmt.Sprintf("lead%03d@example.com", i)}, nil, 201)
	}
	var c campaignBody
	call(t, "POST", api+"/campaigns/add", key, map[string]string{"name": "Crash", "template": tmpl.Data.Template}, &c, 201)
	call(t, "POST", api+"/campaigns/"+c.Data.ID+"/send", key, nil, &c, 202)
	if got := relay.WaitFor(crashAfter, 60*time.Second); len(got) < crashAfter {
		t.Fatalf("the relay accepted %d messages; want %d before the crash:\n%s", len(got), crashAfter, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	crashed := time.Now()

	// What the dead process held: messages claimed (an attempt counted)
	// and not recorded sent. Their recipients alone may get two copies.
	held := claimedAtCrash(t, db, key, c.Data.ID)
	if len(held) == 0 || len(held) > 4 {
		t.Fatalf("the dead process held %d messages; want 1 to 4 (its concurrency)", len(held))
	}
	// The relay finishes answering what was in flight; nobody reads the answer.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		sr.mu.Lock()
		busy := 0
		for _, k := range sr.inFlight {
			busy += k
		}
		sr.mu.Unlock()
		if busy == 0 || time.Now().After(deadline) {
			break
		}
	}
	before := len(relay.Messages())

	restarted := time.Now()
	cmd, api, stderr = serve(t, bin, args...)
	deadline := time.Now().Add(120 * time.Second)
	for {
		call(t, "GET", api+"/campaigns/"+c.Data.ID, key, nil, &c, 200)
		if c.Data.Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the campaign is %s with counts %+v:\n%s", c.Data.Status, c.Data.Counts, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := relay.Messages()
	ids := map[string]map[string]bool{} // Message-IDs by recipient
	var firstResumed, heldResumed time.Time
	for i, m := range got {
		msg, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		to := m.To[0]
		if ids[to] == nil {
			ids[to] = map[string]bool{}
		}
		ids[to][msg.Header.Get("Message-Id")] = true
		if i >= before {
			if firstResumed.IsZero() || m.At.Before(firstResumed) {
				firstResumed = m.At
			}
			if held[to] && m.At.After(heldResumed) {
				heldResumed = m.At
			}
		}
	}
	perRecipient := smtptest.Recipients(got)
	for i := range n {
		to := fmt.Sprintf("lead%03d@example.com", i)
		switch copies := perRecipient[to]; {
		case copies == 0:
			t.Errorf("%s received nothing", to)
		case copies > 1 && !held[to]:
			t.Errorf("%s received %d copies, but the dead process did not hold its message", to, copies)
		case copies > 2:
			t.Errorf("%s received %d copies", to, copies)
		}
		if len(ids[to]) != 1 {
			t.Errorf("%s's copies carry the Message-IDs %v; want one, stable across attempts", to, ids[to])
		}
	}
	if c.Data.Counts.Sent != n || c.Data.Counts.Failed != 0 {
		t.Fatalf("counts %+v; want %d sent", c.Data.Counts, n)
	}
	// Every message the dead process held went out again after the restart.
	for to := range held {
		if perRecipient[to] < 1 {
			t.Errorf("%s, held at the crash, was never sent", to)
		}
	}
	if heldResumed.IsZero() {
		heldResumed = firstResumed // every held message had reached the relay before the crash: duplicates only
	}
	t.Logf("crash to restart %s; restart to the first resumed message %s; restart to the last message the dead process held %s; %d held, %d duplicates",
		restarted.Sub(crashed).Round(time.Millisecond), firstResumed.Sub(restarted).Round(time.Millisecond),
		heldResumed.Sub(restarted).Round(time.Millisecond), len(held), len(got)-n)
	// The promised bound: the claims of a dead process are taken over
	// within seconds (5 heartbeats of 2s), not after a lease of 2 minutes.
	if d := heldResumed.Sub(restarted); d > 15*time.Second {
		t.Errorf("the messages the dead process held were sent %s after the restart; want within 15s", d.Round(time.Millisecond))
	}

	// A graceful stop waits for the worker and exits cleanly.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, stderr.String())
	}
}

// claimedAtCrash reads, from the database of a dead server, the
// recipients of the campaign's messages claimed and not recorded sent.
func claimedAtCrash(t *testing.T, path, key, campaignID string) map[string]bool {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, acc, err := st.KeyByHash(ctx, axiom.HashSecret(key))
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for p := 1; ; p++ {
		page, err := st.ListMessages(ctx, acc.ID, campaignID, axiom.Query{Page: p, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			if m.Status == axiom.MessageQueued && m.Attempts > 0 {
				held[m.To] = true
			}
		}
		if !page.HasMore {
			return held
		}
	}
}
