package campaign

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/axiomkit/axiom"
)

// Outbox is what the worker drains: the messages queued by the service.
type Outbox interface {
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]axiom.Message, error)
	CompleteMessage(ctx context.Context, id string, o axiom.Outcome) error
	FinishCampaigns(ctx context.Context, now time.Time) (int, error)
}

// WorkerConfig configures a Worker. Service and Outbox are required.
type WorkerConfig struct {
	// Service starts scheduled campaigns and resumes interrupted ones.
	Service *Service
	Outbox  Outbox
	// Sender delivers to the relay; nil keeps every message in the outbox,
	// marked sent, for the API to show.
	Sender Sender
	// Timeout bounds one delivery (connecting included); a claimed
	// message's lease lasts 4 times as long, so that no other worker can
	// take it while it may still be in flight. 0 means 30s.
	Timeout time.Duration
	// Concurrency is the number of messages in flight at once; 0 means 4.
	Concurrency int
	// Poll is how often an idle worker looks for work; 0 means 1s.
	Poll time.Duration
	// MaxAttempts is how often a message is tried before it fails for good
	// on temporary errors; 0 means 5.
	MaxAttempts int
	// RetryDelay is the wait after a first temporary failure, doubled after
	// each further one; 0 means 30s.
	RetryDelay time.Duration
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Worker drains the outbox and starts scheduled campaigns.
//
// Delivery is at least once, and exactly once unless the process dies in a
// window of a few milliseconds. A message is claimed (a committed lease)
// before it is handed to the relay and marked sent (a commit) as soon as
// the relay has accepted it. A crash before the relay's acceptance leaves
// a lease that expires, and the message is sent again: the relay never
// took it, so nobody is skipped and nobody receives it twice. A crash
// after the relay's reply to the end of DATA and before the commit, or a
// lost reply, sends it a second time when the lease expires: SMTP offers
// no way to ask a relay whether it took a message. The second copy
// carries the same Message-ID, by which receiving systems may drop it.
type Worker struct {
	cfg WorkerConfig
	log *slog.Logger
}

// NewWorker returns a worker; Run starts it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Service == nil || cfg.Outbox == nil {
		return nil, errors.New("campaign: WorkerConfig.Service and Outbox are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, log: log.With(slog.String("component", "campaign-worker"))}, nil
}

// Lease is how long a claimed message is kept from other workers.
func (w *Worker) Lease() time.Duration { return 4 * w.cfg.Timeout }

// Run works until ctx ends, then finishes the deliveries in flight (each
// bounded by the timeout) and returns.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.schedule(ctx) })
	n := w.cfg.Concurrency
	if w.cfg.Sender == nil {
		n = 1 // keeping a message in the outbox is one write: no need to wait in parallel
	}
	for range n {
		wg.Go(func() { w.deliver(ctx) })
	}
	wg.Wait()
}

// sleep waits for d or the end of ctx, and reports whether ctx is still on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// schedule starts the scheduled campaigns whose time has come, finishes
// queuing those whose enqueuer died, and closes those with nothing left
// to send.
func (w *Worker) schedule(ctx context.Context) {
	for {
		if err := w.cfg.Service.StartDue(ctx); err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "starting due campaigns", slog.Any("error", err))
		}
		for ctx.Err() == nil {
			resumed, err := w.cfg.Service.ResumeEnqueue(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.ErrorContext(ctx, "resuming a campaign", slog.Any("error", err))
			}
			if !resumed || err != nil {
				break
			}
		}
		if _, err := w.cfg.Outbox.FinishCampaigns(ctx, w.cfg.Now()); err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "finishing campaigns", slog.Any("error", err))
		}
		if !sleep(ctx, w.cfg.Poll) {
			return
		}
	}
}

// deliver claims and delivers messages one at a time, keeping its
// connection to the relay open while there is work.
func (w *Worker) deliver(ctx context.Context) {
	var conn Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	batch := 1
	if w.cfg.Sender == nil {
		batch = 100
	}
	for ctx.Err() == nil {
		ms, err := w.cfg.Outbox.ClaimMessages(ctx, w.cfg.Now(), w.Lease(), batch)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "claiming messages", slog.Any("error", err))
		}
		if len(ms) == 0 {
			if conn != nil {
				conn.Close() // idle: do not hold the relay's connection
				conn = nil
			}
			if !sleep(ctx, w.cfg.Poll) {
				return
			}
			continue
		}
		for _, m := range ms {
			conn = w.deliverOne(ctx, conn, m)
		}
	}
}

// deliverOne sends m and records the outcome; it returns the connection to
// use next (nil to open a new one). A delivery under way when ctx ends is
// finished and recorded, so that shutting down sends nothing twice.
func (w *Worker) deliverOne(ctx context.Context, conn Conn, m axiom.Message) Conn {
	work := context.WithoutCancel(ctx)
	var err error
	if w.cfg.Sender != nil {
		if conn == nil || !conn.Usable() {
			if conn != nil {
				conn.Close()
			}
			dctx, cancel := context.WithTimeout(work, w.cfg.Timeout)
			conn, err = w.cfg.Sender.Open(dctx)
			cancel()
		}
		if err == nil {
			err = conn.Send(Outgoing{Message: m, UnsubscribeURL: w.cfg.Service.Composer().UnsubscribeURL(m.UnsubscribeToken)})
		}
	}
	now := w.cfg.Now()
	o := axiom.Outcome{Status: axiom.MessageSent, At: now}
	if err != nil {
		var de *DeliveryError
		permanent := errors.As(err, &de) && de.Permanent
		o = axiom.Outcome{Status: axiom.MessageFailed, Error: truncateError(err.Error()), At: now}
		if !permanent && m.Attempts < w.cfg.MaxAttempts {
			o.Status, o.Retry = axiom.MessageQueued, now.Add(w.cfg.RetryDelay<<min(m.Attempts-1, 10))
		}
		w.log.WarnContext(ctx, "delivery failed", slog.String("message", m.ID), slog.String("campaign", m.CampaignID),
			slog.Int("attempt", m.Attempts), slog.Bool("permanent", permanent), slog.String("outcome", string(o.Status)),
			slog.Any("error", err))
		if conn != nil && !conn.Usable() {
			conn.Close()
			conn = nil
		}
	}
	if err := w.cfg.Outbox.CompleteMessage(work, m.ID, o); err != nil && !errors.Is(err, axiom.ErrNotFound) {
		// The lease will expire and the message be tried again.
		w.log.ErrorContext(ctx, "recording a delivery", slog.String("message", m.ID), slog.Any("error", err))
	}
	return conn
}

// truncateError keeps a relay's error message to a readable length.
func truncateError(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}
