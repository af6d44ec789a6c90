package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
)

// Outbox is what the worker drains: the messages queued by the service.
type Outbox interface {
	// ClaimMessages claims for worker up to limit free queued messages,
	// until now+ttl.
	ClaimMessages(ctx context.Context, worker string, now time.Time, ttl time.Duration, limit int) ([]axiom.Message, error)
	// RenewClaims extends until until worker's claims on ids and returns
	// the ids it still holds.
	RenewClaims(ctx context.Context, worker string, ids []string, until time.Time) ([]string, error)
	// CompleteMessage records the outcome of worker's attempt; a message
	// worker no longer holds is axiom.ErrNotFound.
	CompleteMessage(ctx context.Context, worker, id string, o axiom.Outcome) error
	FinishCampaigns(ctx context.Context, now time.Time) (int, error)
	// CompactMessages drops the bodies of one campaign finished before
	// before, limit at a time, and returns how many.
	CompactMessages(ctx context.Context, before time.Time, limit int) (int, error)
}

// WorkerConfig configures a Worker. Service and Outbox are required.
type WorkerConfig struct {
	// Service starts scheduled campaigns and resumes interrupted ones.
	Service *Service
	Outbox  Outbox
	// Sender delivers to the relay; nil keeps every message in the outbox,
	// marked sent, for the API to show.
	Sender Sender
	// Timeout bounds one delivery (connecting included). 0 means 30s.
	Timeout time.Duration
	// Heartbeat is how often the worker renews its claims. A claim lasts
	// ClaimTTL, 5 heartbeats: when a worker dies, its messages are free
	// for others that long after its last heartbeat. 0 means 2s.
	Heartbeat time.Duration
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
	// SendRate is how many messages per second each account may send, 0
	// for no limit. Limiter keeps the count: one shared by every server
	// (Redis) makes the rate the account's, not each server's; nil keeps it
	// in this process.
	SendRate float64
	Limiter  ratelimit.Limiter
	// RelayBackoff is the pause of every delivery after the relay answers
	// a temporary refusal (4xx) or cannot be reached, doubled at each
	// further one in a row up to MaxRelayBackoff; 0 means 1s and 1 minute.
	RelayBackoff, MaxRelayBackoff time.Duration
	// Retention is how long a finished campaign keeps its messages'
	// bodies; then they are dropped, metadata, links and statistics kept.
	// 0 keeps them for ever.
	Retention time.Duration
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Worker drains the outbox and starts scheduled campaigns.
//
// Delivery is at least once, and exactly once unless the process dies in a
// window of a few milliseconds. A message is claimed (a commit recording
// this worker) before it is handed to the relay and marked sent (a commit)
// as soon as the relay has accepted it. While the worker lives, its
// heartbeat renews its claims and nobody else takes them, however long a
// delivery takes; once it dies they are free a ClaimTTL after its last
// heartbeat, and a restarted process is a new worker that takes them
// then. A crash before the relay's acceptance leaves a claim that expires,
// and the message is sent again: the relay never took it, so nobody is
// skipped and nobody receives it twice. A crash after the relay's reply to
// the end of DATA and before the commit, or a lost reply, sends it a
// second time: SMTP offers no way to ask a relay whether it took a
// message. The second copy carries the same Message-ID, by which
// receiving systems may drop it.
type Worker struct {
	cfg     WorkerConfig
	id      string
	log     *slog.Logger
	limit   ratelimit.Limit
	claims  *claims
	backoff *backoff
}

// NewWorker returns a worker; Run starts it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Service == nil || cfg.Outbox == nil {
		return nil, errors.New("campaign: WorkerConfig.Service and Outbox are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 2 * time.Second
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
	if cfg.RelayBackoff <= 0 {
		cfg.RelayBackoff = time.Second
	}
	if cfg.MaxRelayBackoff <= 0 {
		cfg.MaxRelayBackoff = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Worker{cfg: cfg, id: axiom.NewID(axiom.PrefixWorker, cfg.Now()), claims: &claims{at: map[string]time.Time{}},
		backoff: &backoff{base: cfg.RelayBackoff, max: cfg.MaxRelayBackoff}}
	if cfg.SendRate < 0 || math.IsNaN(cfg.SendRate) || cfg.SendRate > 0 && cfg.SendRate*60 < 1 {
		return nil, fmt.Errorf("campaign: a send rate of %v messages per second: want 0 (no limit) or at least one a minute", cfg.SendRate)
	}
	if cfg.SendRate > 0 {
		w.limit = SendLimit(cfg.SendRate)
		if err := w.limit.Validate(); err != nil {
			return nil, fmt.Errorf("campaign: a send rate of %v messages per second: %w", cfg.SendRate, err)
		}
		if w.cfg.Limiter == nil {
			w.cfg.Limiter = ratelimit.NewMemory()
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w.log = log.With(slog.String("component", "campaign-worker"), slog.String("worker", w.id))
	return w, nil
}

// SendLimit is the bucket of a send rate in messages per second: that
// rate, and a second's worth at once.
func SendLimit(perSecond float64) ratelimit.Limit {
	return ratelimit.Limit{Rate: int(math.Round(perSecond * 60)), Burst: max(1, int(math.Ceil(perSecond)))}
}

// ID is the worker's id, which its claims record.
func (w *Worker) ID() string { return w.id }

// ClaimTTL is how long a claim lasts unless the worker's heartbeat renews
// it: 5 heartbeats.
func (w *Worker) ClaimTTL() time.Duration { return 5 * w.cfg.Heartbeat }

// Run works until ctx ends, then finishes the deliveries in flight (each
// bounded by the timeout) and returns; its claims stay renewed until then.
func (w *Worker) Run(ctx context.Context) {
	w.log.InfoContext(ctx, "campaign worker started", slog.Duration("claim_ttl", w.ClaimTTL()), slog.Float64("send_rate", w.cfg.SendRate))
	var wg, deliveries sync.WaitGroup
	wg.Go(func() { w.schedule(ctx) })
	n := w.cfg.Concurrency
	if w.cfg.Sender == nil {
		n = 1 // keeping a message in the outbox is one write: no need to wait in parallel
	}
	for range n {
		deliveries.Go(func() { w.deliver(ctx) })
	}
	delivered := make(chan struct{})
	wg.Go(func() { w.heartbeat(delivered) })
	deliveries.Wait()
	close(delivered)
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
	var compacted time.Time // the last compaction
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
		if now := w.cfg.Now(); w.cfg.Retention > 0 && now.Sub(compacted) >= time.Minute {
			compacted = now
			w.compact(ctx, now.Add(-w.cfg.Retention))
		}
		if !sleep(ctx, w.cfg.Poll) {
			return
		}
	}
}

// compact drops the bodies of up to 10 campaigns finished before before.
func (w *Worker) compact(ctx context.Context, before time.Time) {
	for range 10 {
		n, err := w.cfg.Outbox.CompactMessages(ctx, before, 500)
		if err != nil {
			if ctx.Err() == nil {
				w.log.ErrorContext(ctx, "compacting messages", slog.Any("error", err))
			}
			return
		}
		if n == 0 {
			return
		}
		w.log.InfoContext(ctx, "dropped the bodies of a finished campaign's messages", slog.Int("messages", n))
	}
}

// claims are the messages the worker holds, each with the end of its
// claim as last recorded.
type claims struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (c *claims) add(id string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at[id] = until
}

func (c *claims) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.at, id)
}

func (c *claims) until(id string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at[id]
}

func (c *claims) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.at))
	for id := range c.at {
		ids = append(ids, id)
	}
	return ids
}

// renewed records that of the claims on asked, those on held last until
// until, and the others are lost (taken over while renewals failed); a
// claim completed meanwhile stays dropped.
func (c *claims) renewed(asked, held []string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range asked {
		if _, ok := c.at[id]; ok {
			c.at[id] = time.Time{}
		}
	}
	for _, id := range held {
		if _, ok := c.at[id]; ok {
			c.at[id] = until
		}
	}
}

// heartbeat renews the worker's claims every Heartbeat until done is
// closed, once the last delivery has been recorded.
func (w *Worker) heartbeat(done <-chan struct{}) {
	t := time.NewTicker(w.cfg.Heartbeat)
	defer t.Stop()
	ctx := context.Background()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		ids := w.claims.ids()
		if len(ids) == 0 {
			continue
		}
		until := axiom.StoreTime(w.cfg.Now().Add(w.ClaimTTL()))
		rctx, cancel := context.WithTimeout(ctx, w.cfg.Heartbeat)
		held, err := w.cfg.Outbox.RenewClaims(rctx, w.id, ids, until)
		cancel()
		if err != nil {
			// Its claims run out unless a later heartbeat gets through;
			// deliverOne starts no delivery on a claim about to end.
			w.log.Warn("renewing claims", slog.Int("claims", len(ids)), slog.Any("error", err))
			continue
		}
		w.claims.renewed(ids, held, until)
	}
}

// valid reports whether the claim on id lasts long enough to start a
// delivery: a heartbeat or more.
func (w *Worker) valid(id string) bool {
	return w.cfg.Now().Add(w.cfg.Heartbeat).Before(w.claims.until(id))
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
		now := axiom.StoreTime(w.cfg.Now())
		ms, err := w.cfg.Outbox.ClaimMessages(ctx, w.id, now, w.ClaimTTL(), batch)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "claiming messages", slog.Any("error", err))
		}
		for _, m := range ms {
			w.claims.add(m.ID, now.Add(w.ClaimTTL()))
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
// finished and recorded, so that shutting down sends nothing twice; one
// still waiting for its turn is given back.
func (w *Worker) deliverOne(ctx context.Context, conn Conn, m axiom.Message) Conn {
	defer w.claims.drop(m.ID)
	work := context.WithoutCancel(ctx)
	// The body is rendered now, from the campaign's snapshot of its
	// template, also when no relay takes it: a message that cannot be
	// rendered is recorded failed, never sent.
	m, err := w.cfg.Service.Body(work, m)
	if err != nil {
		now := w.cfg.Now()
		o := axiom.Outcome{Status: axiom.MessageFailed, Error: truncateError(err.Error()), At: now}
		if _, ok := errors.AsType[*RenderError](err); !ok && m.Attempts < w.cfg.MaxAttempts {
			o.Status, o.Retry = axiom.MessageQueued, now.Add(w.cfg.RetryDelay)
		}
		w.log.WarnContext(ctx, "rendering failed", slog.String("message", m.ID), slog.String("campaign", m.CampaignID),
			slog.String("outcome", string(o.Status)), slog.Any("error", err))
		w.complete(work, m, o)
		return conn
	}
	if w.cfg.Sender != nil {
		if !w.backoff.wait(ctx) || !w.pace(ctx, m.AccountID) {
			w.complete(work, m, axiom.Outcome{Status: axiom.MessageQueued, Error: m.Error, At: w.cfg.Now(), Retry: w.cfg.Now()})
			return conn
		}
		if !w.valid(m.ID) {
			// The claim may have passed to another worker: sending could
			// send twice. It runs out, and the message is claimed again.
			w.log.WarnContext(ctx, "claim about to run out: not delivering", slog.String("message", m.ID))
			return conn
		}
	}
	// Checked last before sending, after any wait for the pace.
	if !w.wanted(work, m) {
		return conn
	}
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
		de, _ := errors.AsType[*DeliveryError](err)
		permanent := de != nil && de.Permanent
		o = axiom.Outcome{Status: axiom.MessageFailed, Error: truncateError(PublicReason(err)), At: now}
		if !permanent && m.Attempts < w.cfg.MaxAttempts {
			o.Status, o.Retry = axiom.MessageQueued, now.Add(w.cfg.RetryDelay<<min(m.Attempts-1, 10))
		}
		if de != nil && de.Bounce {
			sup, serr := axiom.NewSuppression(m.AccountID, m.To, axiom.SuppressBounced, o.Error, m.CampaignID, now)
			if serr == nil {
				o.Suppress = &sup
			}
		}
		if !permanent {
			w.backoff.failed()
		}
		w.log.WarnContext(ctx, "delivery failed", slog.String("message", m.ID), slog.String("campaign", m.CampaignID),
			slog.Int("attempt", m.Attempts), slog.Bool("permanent", permanent), slog.Bool("bounce", o.Suppress != nil),
			slog.String("outcome", string(o.Status)), slog.Any("error", err))
		if conn != nil && !conn.Usable() {
			conn.Close()
			conn = nil
		}
	} else if w.cfg.Sender != nil {
		w.backoff.succeeded()
		w.log.DebugContext(ctx, "delivered", slog.String("message", m.ID), slog.String("campaign", m.CampaignID))
	}
	w.complete(work, m, o)
	return conn
}

// wanted reports whether m may still be sent; when it may not, or when
// that cannot be told now, it records so.
func (w *Worker) wanted(ctx context.Context, m axiom.Message) bool {
	why, err := w.cfg.Service.Unwanted(ctx, m)
	now := w.cfg.Now()
	switch {
	case err != nil:
		w.log.ErrorContext(ctx, "checking the recipient before sending", slog.String("message", m.ID), slog.Any("error", err))
		w.complete(ctx, m, axiom.Outcome{Status: axiom.MessageQueued, Error: m.Error, At: now, Retry: now.Add(w.cfg.RetryDelay)})
		return false
	case why != "":
		w.log.InfoContext(ctx, "not sending: the recipient is no longer wanted", slog.String("message", m.ID), slog.String("why", why))
		w.complete(ctx, m, axiom.Outcome{Status: axiom.MessageSuppressed, Error: why, At: now})
		return false
	}
	return true
}

// complete records o for m.
func (w *Worker) complete(ctx context.Context, m axiom.Message, o axiom.Outcome) {
	err := w.cfg.Outbox.CompleteMessage(ctx, w.id, m.ID, o)
	switch {
	case errors.Is(err, axiom.ErrNotFound):
		// Deleted with its campaign, or its claim ran out and passed on.
		w.log.WarnContext(ctx, "outcome not recorded: the message is no longer held", slog.String("message", m.ID),
			slog.String("outcome", string(o.Status)))
	case err != nil:
		// The claim will run out and the message be tried again.
		w.log.ErrorContext(ctx, "recording a delivery", slog.String("message", m.ID), slog.Any("error", err))
	}
}

// pace waits until the account may send one more message at the send
// rate, and reports whether ctx is still on.
func (w *Worker) pace(ctx context.Context, accountID string) bool {
	if w.cfg.SendRate <= 0 {
		return true
	}
	for {
		res, err := w.cfg.Limiter.Allow(ctx, "send:"+accountID, w.limit)
		if err != nil {
			// The limiter's own failure mode (fail-open, fail-closed) has
			// answered; an error here is a limit it cannot take.
			w.log.ErrorContext(ctx, "pacing", slog.Any("error", err))
			return ctx.Err() == nil
		}
		if res.Allowed {
			return true
		}
		if !sleep(ctx, res.RetryAfter) {
			return false
		}
	}
}

// backoff pauses every delivery after the relay refused one for now or
// could not be reached: base, doubled at each further failure in a row,
// up to max; a delivery that succeeds ends it.
type backoff struct {
	base, max time.Duration

	mu       sync.Mutex
	failures int
	until    time.Time
}

func (b *backoff) failed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.until = time.Now().Add(min(b.base<<min(b.failures-1, 20), b.max))
}

func (b *backoff) succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.until = 0, time.Time{}
}

// wait waits for the pause to end, and reports whether ctx is still on.
func (b *backoff) wait(ctx context.Context) bool {
	for {
		b.mu.Lock()
		d := time.Until(b.until)
		b.mu.Unlock()
		if d <= 0 {
			return ctx.Err() == nil
		}
		if !sleep(ctx, d) {
			return false
		}
	}
}

// truncateError keeps a relay's error message to a readable length.
func truncateError(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}
