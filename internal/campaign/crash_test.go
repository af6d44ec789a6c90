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

	"github.com/axiomkit/axiom/internal/campaign/smtptest"
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

// holder lets deliveries through until hold, then holds every delivery
// (at RCPT or at the end of DATA, before the reply) until release, and
// refuses those it held.
type holder struct {
	mu       sync.Mutex
	rcpts    int
	holdAt   int // the RCPT that starts holding
	holding  bool
	held     chan struct{} // closed when holding starts
	released chan struct{}
}

func (h *holder) wait() error {
	h.mu.Lock()
	holding := h.holding
	h.mu.Unlock()
	if !holding {
		return nil
	}
	<-h.released
	return smtptest.Reply(451, "Try again later")
}

func (h *holder) rcpt(string) error {
	h.mu.Lock()
	if h.rcpts++; h.rcpts == h.holdAt && !h.holding {
		h.holding = true
		close(h.held)
	}
	h.mu.Unlock()
	return h.wait()
}

func (h *holder) release() {
	h.mu.Lock()
	h.holding = false
	h.mu.Unlock()
	close(h.released)
}

// TestCrashMidSendResumesWithoutDuplicates kills `axiom serve` (SIGKILL)
// in the middle of a campaign, with messages delivered, messages claimed
// and in flight, and messages still queued; a restart on the same
// database must deliver every remaining message once: no recipient is
// skipped, none receives two.
func TestCrashMidSendResumesWithoutDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the axiom command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "axiom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/axiomkit/axiom/cmd/axiom").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "axiom.db")
	out, err := exec.Command(bin, "keys", "create", "--db", db, "--plan", "enterprise").Output()
	if err != nil {
		t.Fatalf("axiom keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	for _, bad := range [][]string{{"--smtp-url", "http://relay.example.com"}, {"--smtp-url", "smtp://relay?starttls=maybe"}, {"--public-url", "localhost/v1"}} {
		out, err := exec.Command(bin, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, bad...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), bad[0]) {
			t.Errorf("serve %v: %v, %s; want a refusal naming the flag", bad, err, out)
		}
	}

	const n, holdAt = 24, 9
	h := &holder{holdAt: holdAt, held: make(chan struct{}), released: make(chan struct{})}
	relay := smtptest.New(t, smtptest.WithRcpt(h.rcpt), smtptest.WithData(func(string, []string) error { return h.wait() }))
	// timeout=2s: a claimed message's lease is 8s, the wait after the crash.
	args := []string{"--db", db, "--smtp-url", relay.URL("starttls=none&timeout=2s"), "--public-url", "http://127.0.0.1:9/v1"}
	cmd, api, stderr := serve(t, bin, args...)

	var tmpl struct {
		Data struct{ Template string } `json:"data"`
	}
	call(t, "POST", api+"/templates/add", key, map[string]string{"name": "News", "subject": "Hi {{name}}", "content": "<p>Hi {{name}}</p>"}, &tmpl, 201)
	for i := range n {
		call(t, "POST", api+"/leads/add", key, map[string]string{"name": fmt.Sprint("Lead ", i), "email": fmt.Sprintf("lead%02d@example.com", i)}, nil, 201)
	}
	var c campaignBody
	call(t, "POST", api+"/campaigns/add", key, map[string]string{"name": "Crash", "template": tmpl.Data.Template}, &c, 201)
	call(t, "POST", api+"/campaigns/"+c.Data.ID+"/send", key, nil, &c, 202)

	select {
	case <-h.held:
	case <-time.After(30 * time.Second):
		t.Fatalf("the relay saw no %dth recipient:\n%s", holdAt, stderr.String())
	}
	// Every delivery the relay accepted before holding is recorded before
	// the crash; those in flight are held, unanswered.
	accepted := len(relay.Messages())
	deadline := time.Now().Add(20 * time.Second)
	for {
		call(t, "GET", api+"/campaigns/"+c.Data.ID, key, nil, &c, 200)
		if c.Data.Counts.Sent == accepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages recorded sent; the relay accepted %d", c.Data.Counts.Sent, accepted)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if accepted == 0 || accepted >= n {
		t.Fatalf("the relay accepted %d of %d messages before the crash; want some, not all", accepted, n)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	h.release()
	if got := len(relay.Messages()); got != accepted {
		t.Fatalf("the relay accepted %d messages, then %d after the crash", accepted, got)
	}

	cmd, api, stderr = serve(t, bin, args...)
	deadline = time.Now().Add(60 * time.Second)
	for {
		call(t, "GET", api+"/campaigns/"+c.Data.ID, key, nil, &c, 200)
		if c.Data.Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the campaign is %s with counts %+v:\n%s", c.Data.Status, c.Data.Counts, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := relay.Messages()
	perRecipient := smtptest.Recipients(got)
	for i := range n {
		if to := fmt.Sprintf("lead%02d@example.com", i); perRecipient[to] != 1 {
			t.Errorf("%s received %d messages; want 1", to, perRecipient[to])
		}
	}
	if len(got) != n || c.Data.Counts.Sent != n || c.Data.Counts.Failed != 0 {
		t.Fatalf("%d deliveries, counts %+v; want %d sent, one per recipient", len(got), c.Data.Counts, n)
	}

	// A graceful stop waits for the worker and exits cleanly.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, stderr.String())
	}
}
