package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/axiomkit/axiom/internal/pgtest"
)

// startTogether starts n servers on db at the same moment.
func startTogether(t *testing.T, bin string, n int, args ...string) []*scaleServer {
	t.Helper()
	servers := make([]*scaleServer, n)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { servers[i] = startScaleServer(t, bin, args...) })
	}
	wg.Wait()
	return servers
}

// scaleKeyed sends a POST with an Idempotency-Key.
func scaleKeyed(t *testing.T, url, key, idem string, body any) scaleResponse {
	t.Helper()
	return scaleDoHeaders(t, http.MethodPost, url, key, body, map[string]string{"Idempotency-Key": idem})
}

// Two servers on one PostgreSQL and Redis behave as one: servers starting
// together on an empty database create one first account; retries of a
// keyed POST split across both run it once; one email added through both
// at once is created once.
func TestCrossInstance(t *testing.T) {
	pg, redisURL := scaleEnv(t)
	bin := buildScaleBinary(t)

	// Bootstrapping is a race only the database can settle: run it a few
	// times on fresh databases, empty or already migrated (as a deployment
	// that migrates before it starts its servers has them).
	var servers []*scaleServer
	var db, key string
	for round := range 6 {
		db = scaleSchema(t, pg)
		if round > 0 {
			var out syncBuffer
			if err := run(t.Context(), []string{"keys", "list", "--db", db}, &out, &out); err != nil {
				t.Fatalf("keys list: %v\n%s", err, out.String())
			}
		}
		servers = startTogether(t, bin, 3, "--db", db, "--redis", redisURL)
		var keys []string
		for _, s := range servers {
			keys = append(keys, keyRE.FindAllString(s.stdout.String(), -1)...)
		}
		if n := pgtest.Count(t, db, "accounts"); n != 1 || len(keys) != 1 {
			t.Errorf("round %d: three servers starting together on an empty database created %d accounts and printed %d keys; want 1 and 1",
				round+1, n, len(keys))
		}
	}
	a, b := servers[0], servers[1]
	// An Enterprise key, so that the test measures idempotency, not the burst.
	var out syncBuffer
	if err := run(t.Context(), []string{"keys", "create", "--db", db, "--plan", "enterprise"}, &out, &out); err != nil {
		t.Fatalf("keys create: %v\n%s", err, out.String())
	}
	key = keyRE.FindString(out.String())

	const pairs = 20
	type answer struct{ a, b scaleResponse }
	fire := func(path string, body func(i int) map[string]any) []answer {
		answers := make([]answer, pairs)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range pairs {
			idem := fmt.Sprintf("%s-pair-%d", strings.Trim(path, "/"), i)
			wg.Go(func() { <-start; answers[i].a = scaleKeyed(t, a.base+path, key, idem, body(i)) })
			wg.Go(func() { <-start; answers[i].b = scaleKeyed(t, b.base+path, key, idem, body(i)) })
		}
		close(start)
		wg.Wait()
		return answers
	}
	// Each pair must get one answer twice: the first request's, replayed to
	// the other (or, were it still running after the wait, a 409 to retry).
	check := func(what string, answers []answer, id func(scaleResponse) string) {
		t.Helper()
		for i, ans := range answers {
			for _, r := range []scaleResponse{ans.a, ans.b} {
				if r.status != http.StatusCreated && !(r.status == http.StatusConflict && r.errorCode() == "idempotency_key_in_use") {
					t.Errorf("%s pair %d: %d %v; want 201 (or 409 idempotency_key_in_use)", what, i, r.status, r.body)
				}
			}
			if ans.a.status == http.StatusCreated && ans.b.status == http.StatusCreated && id(ans.a) != id(ans.b) {
				t.Errorf("%s pair %d: two resources, %s and %s, for one Idempotency-Key", what, i, id(ans.a), id(ans.b))
			}
			if ans.a.status == http.StatusCreated && ans.b.status == http.StatusCreated &&
				ans.a.header.Get("Idempotent-Replayed") == "" && ans.b.header.Get("Idempotent-Replayed") == "" {
				t.Errorf("%s pair %d: neither answer is a replay", what, i)
			}
		}
	}
	leads := fire("/leads/add", func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Pair %d", i), "email": fmt.Sprintf("pair.%d@example.com", i)}
	})
	check("POST /leads/add", leads, func(r scaleResponse) string { return r.body["data"].(map[string]any)["id"].(string) })
	if n := pgtest.Count(t, db, "leads"); n != pairs {
		t.Errorf("%d concurrent pairs of keyed POST /leads/add created %d leads; want %d", pairs, n, pairs)
	}
	// A template has no unique field of its own: only the key keeps a
	// retry from creating a second one.
	templates := fire("/templates/add", func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Pair %d", i), "subject": "Hello", "content": "<p>Hello</p>"}
	})
	check("POST /templates/add", templates, func(r scaleResponse) string {
		return r.body["data"].(map[string]any)["template"].(string)
	})
	if n := pgtest.Count(t, db, "templates"); n != pairs {
		t.Errorf("%d concurrent pairs of keyed POST /templates/add created %d templates; want %d", pairs, n, pairs)
	}

	// One email, in several cases, added through both servers at once.
	const adds = 20
	answers := make([]scaleResponse, adds)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range adds {
		s := []*scaleServer{a, b}[i%2]
		email := "Same.Person@example.com"
		if i%3 == 0 {
			email = strings.ToLower(email)
		}
		wg.Go(func() {
			<-start
			answers[i] = scaleDo(t, http.MethodPost, s.base+"/leads/add", key, map[string]any{"name": "Same Person", "email": email})
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i, r := range answers {
		switch {
		case r.status == http.StatusCreated:
			created++
		case r.status != http.StatusUnprocessableEntity || r.errorCode() != "duplicate_entry":
			t.Errorf("add %d of one email: %d %v; want 201 or 422 duplicate_entry", i, r.status, r.body)
		}
	}
	if created != 1 {
		t.Errorf("%d concurrent adds of one email through two servers gave %d 201s; want exactly 1", adds, created)
	}
}

// Two servers on one Redis share each client address's bucket of requests
// without a valid key, as they share each account's.
func TestUnauthenticatedBucketIsShared(t *testing.T) {
	pg, redisURL := scaleEnv(t)
	bin := buildScaleBinary(t)
	db := scaleSchema(t, pg)
	// The bucket is the client address's, kept in Redis beyond this run:
	// each run is a client of its own (named by the trusted loopback proxy),
	// so that an earlier run, or another checkout's, has not drained it.
	servers := startTogether(t, bin, 2, "--db", db, "--redis", redisURL, "--unauthenticated-limit", "6/5", "--trusted-proxy", "127.0.0.1")
	var b [3]byte
	rand.Read(b[:])
	client := map[string]string{"X-Forwarded-For": fmt.Sprintf("10.%d.%d.%d", b[0], b[1], b[2])}
	unauthorized := 0
	for i := range 40 {
		r := scaleDoHeaders(t, http.MethodGet, servers[i%2].base+"/leads", "axm_wrong"+strings.Repeat("x", i), nil, client)
		switch {
		case r.status == http.StatusUnauthorized:
			unauthorized++
		case r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "":
			t.Fatalf("request %d: %d %v, want 401 or 429 with Retry-After", i, r.status, r.body)
		}
		if r.header.Get("X-RateLimit-Limit") != "6" {
			t.Fatalf("request %d: X-RateLimit-Limit %q, want the address bucket's 6", i, r.header.Get("X-RateLimit-Limit"))
		}
	}
	// One refill every 10 s: a shared bucket admits its burst, and at most
	// one more; two separate ones would admit twice the burst.
	if unauthorized < 5 || unauthorized > 6 {
		t.Errorf("two servers answered %d of 40 requests without a valid key 401; want the one shared burst of 5", unauthorized)
	}
}
