package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

func testIdempotency(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	hash := sha256.Sum256([]byte("POST /v1/leads {}"))
	r := store.IdempotentResponse{AccountID: a.ID, Key: "key-1", RequestHash: hash[:], Status: 201,
		ContentType: "application/json", Body: []byte(`{"id":"cnt_1"}`)}
	check := func(what string, got, want store.IdempotentResponse) {
		t.Helper()
		if got.AccountID != want.AccountID || got.Key != want.Key || !slices.Equal(got.RequestHash, want.RequestHash) ||
			got.Status != want.Status || got.ContentType != want.ContentType || string(got.Body) != string(want.Body) {
			t.Errorf("%s = %+v; want %+v", what, got, want)
		}
	}

	w := begin()
	if err := s.SaveIdempotent(ctx, r); err != nil {
		t.Fatalf("SaveIdempotent: %v", err)
	}
	w = w.end()
	got, err := s.GetIdempotent(ctx, a.ID, r.Key, 24*time.Hour)
	if err != nil {
		t.Fatalf("GetIdempotent: %v", err)
	}
	check("GetIdempotent", got, r)
	checkTime(t, "idempotent CreatedAt", got.CreatedAt, w)

	again := r
	again.Body = []byte(`{"id":"cnt_2"}`)
	if err := s.SaveIdempotent(ctx, again); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("SaveIdempotent of a taken key: error = %v; want ErrDuplicate", err)
	}
	if got, err := s.GetIdempotent(ctx, a.ID, r.Key, 24*time.Hour); err != nil {
		t.Fatalf("GetIdempotent: %v", err)
	} else {
		check("GetIdempotent after a refused save", got, r)
	}

	if _, err := s.GetIdempotent(ctx, b.ID, r.Key, 24*time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIdempotent from another account: error = %v; want ErrNotFound", err)
	}
	if _, err := s.GetIdempotent(ctx, a.ID, "key-2", 24*time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIdempotent(unknown key) error = %v; want ErrNotFound", err)
	}
	theirs := r
	theirs.AccountID, theirs.Status, theirs.Body = b.ID, 422, nil
	if err := s.SaveIdempotent(ctx, theirs); err != nil {
		t.Errorf("SaveIdempotent of a key another account has: %v", err)
	}
	if got, err := s.GetIdempotent(ctx, b.ID, r.Key, 24*time.Hour); err != nil {
		t.Fatalf("GetIdempotent: %v", err)
	} else {
		check("GetIdempotent of the second account", got, theirs)
	}

	// maxAge is honoured, whatever the store keeps.
	old := r
	old.Key, old.CreatedAt = "old", time.Now().Add(-2*time.Hour).Truncate(time.Millisecond)
	if err := s.SaveIdempotent(ctx, old); err != nil {
		t.Fatalf("SaveIdempotent: %v", err)
	}
	if _, err := s.GetIdempotent(ctx, a.ID, old.Key, time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIdempotent of a response older than maxAge: error = %v; want ErrNotFound", err)
	}
	if got, err := s.GetIdempotent(ctx, a.ID, old.Key, 3*time.Hour); err != nil {
		t.Errorf("GetIdempotent of a response younger than maxAge: %v", err)
	} else if check("GetIdempotent", got, old); !got.CreatedAt.Equal(old.CreatedAt) {
		t.Errorf("CreatedAt = %v; want %v", got.CreatedAt, old.CreatedAt)
	}

	// A key is kept 24 hours; after that it may be used again.
	expired := r
	expired.Key, expired.CreatedAt = "expired", time.Now().Add(-25*time.Hour)
	if err := s.SaveIdempotent(ctx, expired); err != nil {
		t.Fatalf("SaveIdempotent: %v", err)
	}
	fresh := expired
	fresh.CreatedAt, fresh.Body = time.Time{}, []byte(`{"id":"cnt_3"}`)
	if err := s.SaveIdempotent(ctx, fresh); err != nil {
		t.Errorf("SaveIdempotent of a key older than 24 hours: %v", err)
	}
	if got, err := s.GetIdempotent(ctx, a.ID, fresh.Key, 24*time.Hour); err != nil {
		t.Errorf("GetIdempotent: %v", err)
	} else {
		check("GetIdempotent of a reused key", got, fresh)
	}
}
