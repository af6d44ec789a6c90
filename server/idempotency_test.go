package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/servertest"
)

// slowCreates is a store whose lead creations wait for release, and whose
// first failures creations fail.
type slowCreates struct {
	servertest.Store
	release  chan struct{}
	started  chan struct{}
	failures atomic.Int32
	creates  atomic.Int32
}

func (s *slowCreates) CreateLead(ctx context.Context, l axiom.Lead) error {
	s.creates.Add(1)
	if s.started != nil {
		s.started <- struct{}{}
	}
	if s.release != nil {
		<-s.release
	}
	if s.failures.Add(-1) >= 0 {
		return errors.New("the disk is on fire")
	}
	return s.Store.CreateLead(ctx, l)
}

func postKeyed(t *testing.T, srv *servertest.Server, idem, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/leads/add", strings.NewReader(body))
	req.Header.Set("X-API-Key", srv.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idem)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// A retry arriving while the first request runs waits for it and gets its answer.
func TestIdempotentRetryWaitsForTheFirst(t *testing.T) {
	st := &slowCreates{release: make(chan struct{}), started: make(chan struct{}, 2)}
	srv := newServer(t, servertest.WithStoreWrapper(func(s servertest.Store) servertest.Store { st.Store = s; return st }))
	const body = `{"name":"Wait","email":"wait@example.com"}`
	type answer struct {
		resp *http.Response
		body []byte
	}
	answers := make([]answer, 2)
	var wg sync.WaitGroup
	wg.Go(func() { r, b := postKeyed(t, srv, "wait-1", body); answers[0] = answer{r, b} })
	<-st.started // the first holds the key
	wg.Go(func() { r, b := postKeyed(t, srv, "wait-1", body); answers[1] = answer{r, b} })
	time.Sleep(100 * time.Millisecond) // the retry is waiting
	close(st.release)
	wg.Wait()
	for i, a := range answers {
		if a.resp == nil || a.resp.StatusCode != http.StatusCreated {
			t.Fatalf("answer %d: %v %s", i, a.resp, a.body)
		}
		wantRateHeaders(t, a.resp.Header)
	}
	if string(answers[0].body) != string(answers[1].body) || answers[1].resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the retry was not the first answer replayed:\n%s\n%s", answers[0].body, answers[1].body)
	}
	if n := st.creates.Load(); n != 1 {
		t.Errorf("the handler ran %d times, want 1", n)
	}
}

// A retry that waits longer than the wait is told to come back: 409 with
// Retry-After; once the first is done, the retry is its answer.
func TestIdempotentRetryOfARunningRequestIs409(t *testing.T) {
	st := &slowCreates{release: make(chan struct{}), started: make(chan struct{}, 2)}
	srv := newServer(t, servertest.WithIdempotencyWait(200*time.Millisecond),
		servertest.WithStoreWrapper(func(s servertest.Store) servertest.Store { st.Store = s; return st }))
	const body = `{"name":"Busy","email":"busy@example.com"}`
	var first []byte
	var wg sync.WaitGroup
	wg.Go(func() { _, first = postKeyed(t, srv, "busy-1", body) })
	<-st.started
	resp, b := postKeyed(t, srv, "busy-1", body)
	wantError(t, resp, b, http.StatusConflict, gen.ErrorCodeIdempotencyKeyInUse)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("409 without Retry-After: %v", resp.Header)
	}
	wantRateHeaders(t, resp.Header)
	close(st.release)
	wg.Wait()
	resp, b = postKeyed(t, srv, "busy-1", body)
	if resp.StatusCode != http.StatusCreated || string(b) != string(first) {
		t.Errorf("the retry after the first finished: %d %s, want the first answer %s", resp.StatusCode, b, first)
	}
}

// A failure (5xx) is not remembered: the retry runs again and succeeds.
func TestIdempotentFailureIsNotRemembered(t *testing.T) {
	st := &slowCreates{}
	st.failures.Store(1)
	srv := newServer(t, servertest.WithStoreWrapper(func(s servertest.Store) servertest.Store { st.Store = s; return st }))
	const body = `{"name":"Retry","email":"retry@example.com"}`
	resp, b := postKeyed(t, srv, "fail-1", body)
	wantError(t, resp, b, http.StatusInternalServerError, gen.ErrorCodeInternalError)
	resp, b = postKeyed(t, srv, "fail-1", body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a 500: %d %s", resp.StatusCode, b)
	}
	resp, b = postKeyed(t, srv, "fail-1", body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the success is not replayed: %d %s", resp.StatusCode, b)
	}
}
