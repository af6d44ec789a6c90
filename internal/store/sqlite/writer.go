package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// defaultMaxBatch bounds the writes committed together, so that one commit
// (and the wait of the last caller in it) stays short.
const defaultMaxBatch = 256

// errClosed is the error of a write to a closed DB.
var errClosed = errors.New("sqlite: database is closed")

// writeOp is one write waiting for the writer goroutine.
type writeOp struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error // receives the write's result once it is durable or failed
}

// write runs fn in a transaction of the writer connection (BEGIN IMMEDIATE)
// and returns once that transaction is committed (nil) or fn's changes are
// undone (fn's error).
//
// Writes are committed in groups: the writer goroutine takes every write
// queued while it was busy, runs each in a savepoint of one transaction (so
// that one failing undoes only its own changes) and commits them together,
// with one sync of the log for the group. A write waits for no other: the
// writer takes what is queued when it becomes free and never waits for more.
// fn runs on the writer goroutine, so it must not call write itself.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	// The read lock keeps Close from closing ops while this write is sent.
	db.wmu.RLock()
	if db.wclosed {
		db.wmu.RUnlock()
		return errClosed
	}
	select {
	case db.ops <- op:
	case <-ctx.Done():
		db.wmu.RUnlock()
		return ctx.Err()
	}
	db.wmu.RUnlock()
	// Taken writes are always answered, so this wait ends; not waiting on
	// ctx here keeps a caller from hearing of failure for a write that then
	// commits.
	return <-op.done
}

// startWriter starts the writer goroutine; stopWriter ends it.
func (db *DB) startWriter() {
	db.ops = make(chan *writeOp)
	db.wstopped = make(chan struct{})
	go db.writeLoop()
}

// stopWriter refuses new writes, lets the writer finish those it was given,
// and waits for it to end.
func (db *DB) stopWriter() {
	db.wmu.Lock()
	if db.wclosed {
		db.wmu.Unlock()
		return
	}
	db.wclosed = true
	close(db.ops)
	db.wmu.Unlock()
	<-db.wstopped
}

func (db *DB) writeLoop() {
	defer close(db.wstopped)
	batch := make([]*writeOp, 0, db.maxBatch)
	for op := range db.ops {
		batch = append(batch[:0], op)
	more:
		for len(batch) < db.maxBatch {
			select {
			case op, ok := <-db.ops:
				if !ok {
					break more
				}
				batch = append(batch, op)
			default:
				break more
			}
		}
		db.runGroup(batch)
		clear(batch) // drop the references to the answered writes
	}
}

// runGroup commits ops together and answers each. The writes of a group
// whose transaction broke (see commitGroup) are retried one per transaction,
// so that each then gets its own outcome.
func (db *DB) runGroup(ops []*writeOp) {
	for _, op := range db.commitGroup(ops, true) {
		db.commitGroup([]*writeOp{op}, false)
	}
}

// commitGroup runs ops in one transaction and answers each. If the
// transaction breaks (SQLite rolled it back, as it does on some errors, or a
// savepoint statement failed), the writes it undid that did not cause it are
// returned unanswered when retry is set, answered with the error otherwise.
func (db *DB) commitGroup(ops []*writeOp, retry bool) (again []*writeOp) {
	// The transaction outlives each caller's context: one caller giving up
	// must not roll back the others' writes.
	ctx := context.Background()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		err = fmt.Errorf("begin: %w", err)
		for _, op := range ops {
			op.done <- err
		}
		return nil
	}
	// One write alone needs no savepoint: its failure rolls back the whole
	// transaction.
	single := len(ops) == 1
	results := make([]error, len(ops))
	ran := make([]bool, len(ops)) // taken into the transaction, to commit
	var broken error
	for i, op := range ops {
		if err := op.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if !single {
			if _, err := db.exec(ctx, tx, savepointSQL); err != nil {
				broken = fmt.Errorf("savepoint: %w", err)
				again = append(again, ops[i:]...)
				break
			}
		}
		if err := op.fn(tx); err != nil {
			results[i] = err
			if single {
				break
			}
			if _, rerr := db.exec(ctx, tx, rollbackToSQL); rerr != nil {
				// The transaction is gone: this write failed on its own,
				// the others are undone.
				broken = fmt.Errorf("rollback to savepoint: %w", rerr)
				again = append(again, ops[i+1:]...)
				break
			}
			if _, rerr := db.exec(ctx, tx, releaseSQL); rerr != nil {
				broken = fmt.Errorf("release savepoint: %w", rerr)
				again = append(again, ops[i+1:]...)
				break
			}
			continue
		}
		if !single {
			if _, err := db.exec(ctx, tx, releaseSQL); err != nil {
				broken = fmt.Errorf("release savepoint: %w", err)
				again = append(again, ops[i:]...)
				break
			}
		}
		ran[i] = true
	}

	var commitErr error
	switch {
	case broken != nil:
		tx.Rollback()
		for i, ok := range ran {
			if ok {
				again = append(again, ops[i])
				ran[i] = false
			}
		}
		if !retry {
			for _, op := range again {
				op.done <- broken
			}
			again = nil
		}
	case single && results[0] != nil:
		tx.Rollback()
	default:
		if err := db.flushPending(ctx, tx); err != nil {
			tx.Rollback()
			commitErr = fmt.Errorf("index new leads: %w", err)
		} else if err := tx.Commit(); err != nil {
			commitErr = fmt.Errorf("commit: %w", err)
		} else {
			db.commits.Add(1)
		}
	}
	for i, op := range ops {
		switch {
		case ran[i]:
			op.done <- commitErr
		case results[i] != nil:
			op.done <- results[i]
		}
	}
	return again
}

// flushPending adds to the search index the leads that the transaction
// created (migrations/0003_fts_pending.sql).
func (db *DB) flushPending(ctx context.Context, tx *sql.Tx) error {
	if _, err := db.exec(ctx, tx, indexPendingSQL); err != nil {
		return err
	}
	_, err := db.exec(ctx, tx, clearPendingSQL)
	return err
}
