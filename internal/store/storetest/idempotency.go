package storetest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// idempotencyTests are the cases of Idempotency-Key claims.
var idempotencyTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"IdempotencyClaim", testIdempotencyClaim},
	{"IdempotencyCompleteAndRelease", testIdempotencyCompleteAndRelease},
	{"IdempotencyStaleAndExpired", testIdempotencyStaleAndExpired},
}

// The claims of the tests keep answers a day and take over claims that ran
// a minute without an answer.
const (
	ttl   = axiom.IdempotencyTTL
	stale = time.Minute
)

// claim is a new claim of key in account at at.
func claim(account, key string, at time.Time) axiom.IdempotencyRecord {
	hash := sha256.Sum256([]byte("POST /v1/leads {}"))
	return axiom.IdempotencyRecord{AccountID: account, Key: key, RequestHash: hash[:], CreatedAt: at, Token: rand.Text()}
}

// checkRecord checks the record held: the claim want, answered or not.
func checkRecord(t *testing.T, what string, got, want axiom.IdempotencyRecord) {
	t.Helper()
	if got.AccountID != want.AccountID || got.Key != want.Key || !bytes.Equal(got.RequestHash, want.RequestHash) ||
		got.Status != want.Status || got.ContentType != want.ContentType || !bytes.Equal(got.Body, want.Body) ||
		!got.CreatedAt.Equal(axiom.StoreTime(want.CreatedAt)) || got.Token != want.Token {
		t.Errorf("%s = %+v; want %+v", what, got, want)
	}
}

func testIdempotencyClaim(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	r := claim(a.ID, "key-1", time.Now())
	got, mine, err := s.ClaimIdempotencyKey(ctx, r, ttl, stale)
	if err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey of a new key = %v, %v; want the claim", mine, err)
	}
	r.Body = []byte{}
	checkRecord(t, "the claim", got, r)
	if got.Done() {
		t.Errorf("a new claim is done: %+v", got)
	}
	held, err := s.GetIdempotencyKey(ctx, a.ID, r.Key)
	if err != nil {
		t.Fatalf("GetIdempotencyKey: %v", err)
	}
	checkRecord(t, "GetIdempotencyKey", held, r)
	checkStoreTime(t, "claim CreatedAt", held.CreatedAt)

	// A live claim is returned to the others, who do not get it.
	other := claim(a.ID, r.Key, time.Now())
	got, mine, err = s.ClaimIdempotencyKey(ctx, other, ttl, stale)
	if err != nil || mine {
		t.Fatalf("ClaimIdempotencyKey of a claimed key = %v, %v; want the live claim", mine, err)
	}
	checkRecord(t, "the claim held", got, r)

	// Keys are the account's: another has its own.
	theirs := claim(b.ID, r.Key, time.Now())
	if _, mine, err := s.ClaimIdempotencyKey(ctx, theirs, ttl, stale); err != nil || !mine {
		t.Errorf("ClaimIdempotencyKey of another account's key = %v, %v; want the claim", mine, err)
	}
	if _, err := s.GetIdempotencyKey(ctx, a.ID, "key-2"); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("GetIdempotencyKey(unknown) error = %v; want ErrNotFound", err)
	}
	if _, _, err := s.ClaimIdempotencyKey(ctx, claim("acc_0000000000000000000000", "k", time.Now()), ttl, stale); err == nil {
		t.Errorf("ClaimIdempotencyKey for an unknown account succeeded")
	}
}

func testIdempotencyCompleteAndRelease(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	r := claim(a.ID, "key-1", time.Now())
	if _, mine, err := s.ClaimIdempotencyKey(ctx, r, ttl, stale); err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey = %v, %v", mine, err)
	}
	answer := r
	answer.Status, answer.ContentType, answer.Body = 201, "application/json", []byte(`{"id":"cnt_1"}`)

	// Only the claim's token answers it.
	wrong := answer
	wrong.Token = rand.Text()
	if err := s.CompleteIdempotencyKey(ctx, wrong); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CompleteIdempotencyKey with another token: error = %v; want ErrNotFound", err)
	}
	if err := s.ReleaseIdempotencyKey(ctx, a.ID, r.Key, wrong.Token); err != nil {
		t.Errorf("ReleaseIdempotencyKey with another token: %v", err)
	}
	if got, err := s.GetIdempotencyKey(ctx, a.ID, r.Key); err != nil || got.Done() || got.Token != r.Token {
		t.Errorf("the claim after another token's attempts = %+v, %v; want it untouched", got, err)
	}
	if err := s.CompleteIdempotencyKey(ctx, answer); err != nil {
		t.Fatalf("CompleteIdempotencyKey: %v", err)
	}
	got, err := s.GetIdempotencyKey(ctx, a.ID, r.Key)
	if err != nil {
		t.Fatalf("GetIdempotencyKey: %v", err)
	}
	checkRecord(t, "the answered record", got, answer)
	if !got.Done() {
		t.Errorf("an answered record is not done")
	}
	// The answer is what every retry gets.
	got, mine, err := s.ClaimIdempotencyKey(ctx, claim(a.ID, r.Key, time.Now()), ttl, stale)
	if err != nil || mine {
		t.Fatalf("ClaimIdempotencyKey of an answered key = %v, %v; want the answer", mine, err)
	}
	checkRecord(t, "the answer replayed", got, answer)
	// An answer is not released.
	if err := s.ReleaseIdempotencyKey(ctx, a.ID, r.Key, r.Token); err != nil {
		t.Errorf("ReleaseIdempotencyKey of an answer: %v", err)
	}
	if got, err := s.GetIdempotencyKey(ctx, a.ID, r.Key); err != nil || !got.Done() {
		t.Errorf("the answer after a release = %+v, %v; want it kept", got, err)
	}

	// A released claim frees the key for the next request.
	r2 := claim(a.ID, "key-2", time.Now())
	if _, mine, err := s.ClaimIdempotencyKey(ctx, r2, ttl, stale); err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey = %v, %v", mine, err)
	}
	if err := s.ReleaseIdempotencyKey(ctx, a.ID, r2.Key, r2.Token); err != nil {
		t.Fatalf("ReleaseIdempotencyKey: %v", err)
	}
	if _, err := s.GetIdempotencyKey(ctx, a.ID, r2.Key); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("GetIdempotencyKey after a release: error = %v; want ErrNotFound", err)
	}
	r3 := claim(a.ID, r2.Key, time.Now())
	if got, mine, err := s.ClaimIdempotencyKey(ctx, r3, ttl, stale); err != nil || !mine || got.Token != r3.Token {
		t.Errorf("ClaimIdempotencyKey after a release = %+v, %v, %v; want the new claim", got, mine, err)
	}
	answer2 := r2
	answer2.Status = 200
	if err := s.CompleteIdempotencyKey(ctx, answer2); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CompleteIdempotencyKey of a released claim: error = %v; want ErrNotFound", err)
	}
}

func testIdempotencyStaleAndExpired(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	t0 := now()

	// A claim whose request died is taken over once it is stale, not before.
	dead := claim(a.ID, "dead", t0)
	if _, mine, err := s.ClaimIdempotencyKey(ctx, dead, ttl, stale); err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey = %v, %v", mine, err)
	}
	early := claim(a.ID, dead.Key, t0.Add(stale-time.Millisecond))
	if got, mine, err := s.ClaimIdempotencyKey(ctx, early, ttl, stale); err != nil || mine || got.Token != dead.Token {
		t.Errorf("ClaimIdempotencyKey of a claim not yet stale = %+v, %v, %v; want the live claim", got, mine, err)
	}
	late := claim(a.ID, dead.Key, t0.Add(stale))
	got, mine, err := s.ClaimIdempotencyKey(ctx, late, ttl, stale)
	if err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey of a stale claim = %v, %v; want it taken over", mine, err)
	}
	late.Body = []byte{}
	checkRecord(t, "the claim taking over", got, late)
	// The dead request's answer, should it come, is refused.
	deadAnswer := dead
	deadAnswer.Status = 201
	if err := s.CompleteIdempotencyKey(ctx, deadAnswer); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CompleteIdempotencyKey of a claim taken over: error = %v; want ErrNotFound", err)
	}

	// An answer is kept ttl, however long past stale, then replaced.
	old := claim(a.ID, "old", t0)
	if _, mine, err := s.ClaimIdempotencyKey(ctx, old, ttl, stale); err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey = %v, %v", mine, err)
	}
	old.Status, old.ContentType, old.Body = 201, "application/json", []byte(`{"id":"cnt_old"}`)
	if err := s.CompleteIdempotencyKey(ctx, old); err != nil {
		t.Fatalf("CompleteIdempotencyKey: %v", err)
	}
	kept := claim(a.ID, old.Key, t0.Add(ttl-time.Millisecond))
	got, mine, err = s.ClaimIdempotencyKey(ctx, kept, ttl, stale)
	if err != nil || mine {
		t.Fatalf("ClaimIdempotencyKey of an answer younger than ttl = %v, %v; want the answer", mine, err)
	}
	checkRecord(t, "the answer kept", got, old)
	fresh := claim(a.ID, old.Key, t0.Add(ttl))
	got, mine, err = s.ClaimIdempotencyKey(ctx, fresh, ttl, stale)
	if err != nil || !mine {
		t.Fatalf("ClaimIdempotencyKey of an expired answer = %v, %v; want a new claim", mine, err)
	}
	fresh.Body = []byte{}
	checkRecord(t, "the claim replacing an expired answer", got, fresh)
}

func testIdempotencyConcurrentClaims(t *testing.T, ss []Store) {
	ctx := t.Context()
	a := newAccount(t, ss[0])
	const n = 20
	claims := make([]axiom.IdempotencyRecord, n)
	held := make([]axiom.IdempotencyRecord, n)
	mine := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		claims[i] = claim(a.ID, "contended", time.Now())
		wg.Go(func() {
			<-start
			held[i], mine[i], errs[i] = ss[i%len(ss)].ClaimIdempotencyKey(ctx, claims[i], ttl, stale)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("claim %d: %v", i, errs[i])
		}
		if mine[i] {
			if winner >= 0 {
				t.Errorf("claims %d and %d both hold the key", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent claims holds the key", n)
	}
	for i := range n {
		if held[i].Token != claims[winner].Token {
			t.Errorf("claim %d was told the key is held by %q; want the winner's %q", i, held[i].Token, claims[winner].Token)
		}
	}
}
