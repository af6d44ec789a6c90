package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/axiomkit/axiom"
)

// Store is what the campaign service keeps campaigns, their outbox and
// their tracking in; it reads the account's templates and leads. The
// rules (which status allows what, who is in an audience) are the domain's;
// a Store only applies them atomically.
type Store interface {
	GetTemplate(ctx context.Context, accountID, slug string) (axiom.Template, error)
	CreateCampaign(ctx context.Context, c axiom.Campaign) error
	GetCampaign(ctx context.Context, accountID, id string) (axiom.Campaign, error)
	GetAccount(ctx context.Context, id string) (axiom.Account, error)
	SendUsage(ctx context.Context, accountID string, since time.Time) (used int, oldest time.Time, leads int, err error)
	ListCampaigns(ctx context.Context, accountID string, q axiom.Query, status axiom.CampaignStatus) (axiom.Page[axiom.Campaign], error)
	ChangeCampaign(ctx context.Context, accountID, id string, op axiom.CampaignOp, ch axiom.CampaignChange) (axiom.Campaign, error)
	DeleteCampaign(ctx context.Context, accountID, id string) error
	DueCampaigns(ctx context.Context, now time.Time, limit int) ([]axiom.Campaign, error)

	AudienceLeads(ctx context.Context, accountID, afterID string, limit int) ([]axiom.Lead, error)
	GetLead(ctx context.Context, accountID, id string) (axiom.Lead, error)
	GetProperty(ctx context.Context, accountID, id string) (axiom.Property, error)
	PropertyLinks(ctx context.Context, accountID string, propertyIDs []string) ([]axiom.PropertyLink, error)
	// CampaignContent is the snapshot of the template a campaign sends
	// (Subject, Content), which ChangeCampaign(OpSend) takes.
	CampaignContent(ctx context.Context, accountID, campaignID string) (axiom.Template, error)
	// SaveCampaignLinks stores the targets of the tracked links of a
	// campaign's snapshot, by position, once for all its messages; saving
	// them again changes nothing. CampaignLinks reads them back.
	SaveCampaignLinks(ctx context.Context, campaignID string, urls []string) error
	CampaignLinks(ctx context.Context, accountID, campaignID string) ([]string, error)
	EnqueueMessages(ctx context.Context, campaignID string, ms []axiom.Message, cursor string, holdUntil time.Time) error
	FinishEnqueue(ctx context.Context, campaignID string) (axiom.Campaign, error)
	ClaimEnqueue(ctx context.Context, now, holdUntil time.Time) (axiom.Campaign, string, bool, error)

	CampaignStats(ctx context.Context, accountID, id string) (axiom.CampaignStats, error)
	ListMessages(ctx context.Context, accountID, campaignID string, q axiom.Query) (axiom.Page[axiom.Message], error)
	GetMessage(ctx context.Context, accountID, campaignID, id string) (axiom.Message, error)
	// LeadMessages and LeadEvents are a lead's messages (erased ones are
	// no one's) and their opens and clicks: what an export shows of them.
	LeadMessages(ctx context.Context, accountID, leadID string) ([]axiom.Message, error)
	LeadEvents(ctx context.Context, accountID, leadID string) ([]axiom.MessageEvent, error)
	RecordOpen(ctx context.Context, token string, at time.Time) error
	RecordClick(ctx context.Context, token string, position int, at time.Time) (string, error)
	CheckOpen(ctx context.Context, token string) error
	ClickTarget(ctx context.Context, token string, position int) (string, error)
	// RecordLegacyClick and LegacyClickTarget answer the tracked links of
	// mail queued when each link had a token of its own.
	RecordLegacyClick(ctx context.Context, token string, at time.Time) (string, error)
	LegacyClickTarget(ctx context.Context, token string) (string, error)
	GetUnsubscription(ctx context.Context, token string) (axiom.Unsubscription, error)
	Unsubscribe(ctx context.Context, token string, sup axiom.Suppression) error

	AddSuppression(ctx context.Context, sup axiom.Suppression) (axiom.Suppression, bool, error)
	GetSuppression(ctx context.Context, accountID, email string) (axiom.Suppression, error)
	ListSuppressions(ctx context.Context, accountID string, q axiom.Query, reason axiom.SuppressionReason) (axiom.Page[axiom.Suppression], error)
	DeleteSuppression(ctx context.Context, accountID, email string) error
	Suppressed(ctx context.Context, accountID string, keys []string) (map[string]axiom.SuppressionReason, error)
}

// Config configures a Service. Store and PublicURL are required.
type Config struct {
	Store Store
	// PublicURL is the API's base URL as recipients reach it, which the
	// tracking and unsubscribe links of messages start with.
	PublicURL string
	// Batch is how many leads one enqueueing transaction considers; 0 means
	// 100. Each batch is its own short transaction, so that a large
	// audience never holds the database for long: at 500 another account's
	// write p99 during a 100,000-lead start was 84 ms, at 100 24 ms
	// (make bench-tenant).
	Batch int
	// Hold is how long an enqueuer keeps a campaign from others between two
	// batches; a campaign whose enqueuer died is resumed once it passes.
	// 0 means 15s. Another enqueuer taking over a live one's campaign
	// queues nobody twice, only works in vain.
	Hold time.Duration
	// Quotas are the messages each plan may queue in 24 hours; nil means
	// axiom.DefaultSendQuotas, an empty map no quota.
	Quotas axiom.SendQuotas
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service runs the campaign life cycle over a Store: it checks every
// operation against the domain's rules, selects recipients, renders their
// messages and queues them, batch by batch.
type Service struct {
	store    Store
	composer *Composer
	batch    int
	hold     time.Duration
	quotas   axiom.SendQuotas
	log      *slog.Logger
	now      func() time.Time
	contents contents
}

// contents keeps the snapshots of the templates of the campaigns last
// rendered, with their links' targets: a snapshot never changes once taken.
type contents struct {
	mu sync.Mutex
	m  map[string]snapshot
}

// snapshot is a campaign's copy of its template and the targets of its
// tracked links.
type snapshot struct {
	t     axiom.Template
	links []string
}

// maxContents bounds the snapshots kept (each up to a template's size).
const maxContents = 16

func (c *contents) get(id string) (snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[id]
	return t, ok
}

func (c *contents) put(id string, t snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxContents {
		c.m = map[string]snapshot{}
	}
	c.m[id] = t
}

// NewService returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("campaign: Config.Store is required")
	}
	composer, err := NewComposer(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	s := &Service{store: cfg.Store, composer: composer, batch: cfg.Batch, hold: cfg.Hold, quotas: cfg.Quotas, log: cfg.Logger, now: cfg.Now}
	if s.quotas == nil {
		s.quotas = axiom.DefaultSendQuotas()
	}
	if s.batch <= 0 {
		s.batch = 100
	}
	if s.hold <= 0 {
		s.hold = 15 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Composer is the renderer of the service's messages.
func (s *Service) Composer() *Composer { return s.composer }

// template returns the account's template slug, or the campaign error
// that names it.
func (s *Service) template(ctx context.Context, accountID, slug string) (axiom.Template, error) {
	t, err := s.store.GetTemplate(ctx, accountID, slug)
	if errors.Is(err, axiom.ErrNotFound) {
		return axiom.Template{}, axiom.CampaignTemplateNotFound(slug)
	}
	return t, err
}

// Create stores a new campaign, draft or scheduled.
func (s *Service) Create(ctx context.Context, accountID string, c axiom.Campaign) (axiom.Campaign, error) {
	now := s.now()
	if c.ScheduledAt != nil {
		if err := axiom.CheckSchedule(*c.ScheduledAt, now); err != nil {
			return axiom.Campaign{}, err
		}
	}
	if _, err := s.template(ctx, accountID, c.Template); err != nil {
		return axiom.Campaign{}, err
	}
	if err := s.checkAudience(ctx, accountID, c.Audience); err != nil {
		return axiom.Campaign{}, err
	}
	c = axiom.NewCampaign(accountID, c, now)
	if err := s.store.CreateCampaign(ctx, c); err != nil {
		return axiom.Campaign{}, err
	}
	return c, nil
}

// checkAudience refuses an audience naming a listing the account does not have.
func (s *Service) checkAudience(ctx context.Context, accountID string, a axiom.Audience) error {
	for _, id := range a.Properties {
		_, err := s.store.GetProperty(ctx, accountID, id)
		if errors.Is(err, axiom.ErrNotFound) {
			return axiom.AudiencePropertyNotFound(id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Get returns a campaign with its counts.
func (s *Service) Get(ctx context.Context, accountID, id string) (axiom.Campaign, error) {
	return s.store.GetCampaign(ctx, accountID, id)
}

// List returns a page of the account's campaigns, those in status if set.
func (s *Service) List(ctx context.Context, accountID string, q axiom.Query, status axiom.CampaignStatus) (axiom.Page[axiom.Campaign], error) {
	return s.store.ListCampaigns(ctx, accountID, q, status)
}

// allowed returns campaign id if its status allows op: a missing campaign
// is refused before anything else is checked.
func (s *Service) allowed(ctx context.Context, accountID, id string, op axiom.CampaignOp) (axiom.Campaign, error) {
	c, err := s.store.GetCampaign(ctx, accountID, id)
	if err != nil {
		return axiom.Campaign{}, err
	}
	if !c.Status.Allows(op) {
		return axiom.Campaign{}, axiom.CampaignStateError(id, c.Status, op)
	}
	return c, nil
}

// Patch lists the fields of a campaign to change; nil fields are kept.
type Patch struct {
	Name, Template *string
	Audience       *axiom.Audience
}

// Update changes a campaign that has not started.
func (s *Service) Update(ctx context.Context, accountID, id string, p Patch) (axiom.Campaign, error) {
	if _, err := s.allowed(ctx, accountID, id, axiom.OpUpdate); err != nil {
		return axiom.Campaign{}, err
	}
	if p.Template != nil {
		if _, err := s.template(ctx, accountID, *p.Template); err != nil {
			return axiom.Campaign{}, err
		}
	}
	ch := axiom.CampaignChange{Name: p.Name, Template: p.Template, UpdatedAt: axiom.StoreTime(s.now())}
	if p.Audience != nil {
		if err := s.checkAudience(ctx, accountID, *p.Audience); err != nil {
			return axiom.Campaign{}, err
		}
		a := p.Audience.Normalized()
		ch.Audience = &a
	}
	return s.store.ChangeCampaign(ctx, accountID, id, axiom.OpUpdate, ch)
}

// Delete deletes a campaign that is not sending, with its messages.
func (s *Service) Delete(ctx context.Context, accountID, id string) error {
	return s.store.DeleteCampaign(ctx, accountID, id)
}

// Schedule sets when a campaign that has not started starts.
func (s *Service) Schedule(ctx context.Context, accountID, id string, at time.Time) (axiom.Campaign, error) {
	now := s.now()
	if err := axiom.CheckSchedule(at, now); err != nil {
		// A missing campaign is still a 404, whatever the time.
		if _, gerr := s.store.GetCampaign(ctx, accountID, id); gerr != nil {
			return axiom.Campaign{}, gerr
		}
		return axiom.Campaign{}, err
	}
	at = axiom.StoreTime(at)
	return s.store.ChangeCampaign(ctx, accountID, id, axiom.OpSchedule,
		axiom.CampaignChange{ScheduledAt: &at, UpdatedAt: axiom.StoreTime(now)})
}

// Cancel stops a campaign that has not finished: its queued messages are
// never sent.
func (s *Service) Cancel(ctx context.Context, accountID, id string) (axiom.Campaign, error) {
	now := axiom.StoreTime(s.now())
	return s.store.ChangeCampaign(ctx, accountID, id, axiom.OpCancel, axiom.CampaignChange{CompletedAt: &now, UpdatedAt: now})
}

// Send starts a campaign now: it moves to sending and its audience is
// queued, batch by batch. Of concurrent starts, on any server, one wins.
func (s *Service) Send(ctx context.Context, accountID, id string) (axiom.Campaign, error) {
	c, err := s.allowed(ctx, accountID, id, axiom.OpSend)
	if err != nil {
		return axiom.Campaign{}, err
	}
	t, err := s.template(ctx, accountID, c.Template)
	if err != nil {
		return axiom.Campaign{}, err
	}
	if err := s.checkQuota(ctx, c); err != nil {
		return axiom.Campaign{}, err
	}
	now := axiom.StoreTime(s.now())
	hold := now.Add(s.hold)
	c, err = s.store.ChangeCampaign(ctx, accountID, id, axiom.OpSend,
		axiom.CampaignChange{StartedAt: &now, UpdatedAt: now, EnqueueUntil: &hold})
	if err != nil {
		return axiom.Campaign{}, err
	}
	// The snapshot ChangeCampaign took, which every message is rendered
	// from: the template may have changed since it was read above.
	if t, err = s.store.CampaignContent(ctx, accountID, id); err != nil {
		return axiom.Campaign{}, fmt.Errorf("campaign %s: template snapshot: %w", id, err)
	}
	// The campaign has started: its first batch is queued even if the
	// caller goes away; a worker (this server's or another's) queues the
	// rest, and resumes where any enqueuer stopped.
	return s.enqueue(context.WithoutCancel(ctx), c, t, "", true)
}

// checkQuota refuses a send that could pass the account's plan's quota,
// before anything is queued. The audience is counted only when the
// account's leads alone could pass it, and then without the suppression
// list: an upper bound, read without writing.
func (s *Service) checkQuota(ctx context.Context, c axiom.Campaign) error {
	acc, err := s.store.GetAccount(ctx, c.AccountID)
	if err != nil {
		return fmt.Errorf("campaign %s: account: %w", c.ID, err)
	}
	if _, ok := s.quotas[acc.Plan]; !ok {
		return nil
	}
	now := s.now()
	used, oldest, need, err := s.store.SendUsage(ctx, c.AccountID, now.Add(-axiom.SendQuotaWindow))
	if err != nil {
		return fmt.Errorf("campaign %s: send usage: %w", c.ID, err)
	}
	if s.quotas.CheckSend(acc.Plan, used, need, oldest, now) == nil {
		return nil
	}
	need = 0
	links, err := s.audienceLinks(ctx, c)
	if err != nil {
		return err
	}
	for cursor := ""; ; {
		leads, err := s.store.AudienceLeads(ctx, c.AccountID, cursor, s.batch)
		if err != nil {
			return fmt.Errorf("campaign %s: audience: %w", c.ID, err)
		}
		for _, l := range leads {
			if c.Audience.Select(l, false, links[l.ID]...) == axiom.Mailed {
				need++
			}
		}
		if len(leads) < s.batch {
			break
		}
		cursor = leads[len(leads)-1].ID
	}
	return s.quotas.CheckSend(acc.Plan, used, need, oldest, now)
}

// audienceLinks are the property links of an audience by property, by
// lead: they are few, and read once.
func (s *Service) audienceLinks(ctx context.Context, c axiom.Campaign) (map[string][]axiom.PropertyLink, error) {
	links := map[string][]axiom.PropertyLink{}
	if c.Audience.ByProperty() {
		all, err := s.store.PropertyLinks(ctx, c.AccountID, c.Audience.Properties)
		if err != nil {
			return nil, fmt.Errorf("campaign %s: audience links: %w", c.ID, err)
		}
		for _, k := range all {
			links[k.LeadID] = append(links[k.LeadID], k)
		}
	}
	return links, nil
}

// enqueue queues the messages of campaign c's audience after cursor, one
// batch of leads per transaction, and marks the audience wholly queued;
// it returns the campaign as that left it. With handOff, it queues one
// batch only and, if more may follow, releases the campaign for a worker's
// ResumeEnqueue to go on: a send answers in the time of one batch,
// whatever the audience.
func (s *Service) enqueue(ctx context.Context, c axiom.Campaign, t axiom.Template, cursor string, handOff bool) (axiom.Campaign, error) {
	links, err := s.audienceLinks(ctx, c)
	if err != nil {
		return axiom.Campaign{}, err
	}
	prepared := s.composer.Prepare(t)
	// Before any message: a message queued is one a worker may send.
	if err := s.store.SaveCampaignLinks(ctx, c.ID, prepared.Links()); err != nil {
		return axiom.Campaign{}, fmt.Errorf("campaign %s: links: %w", c.ID, err)
	}
	for {
		leads, err := s.store.AudienceLeads(ctx, c.AccountID, cursor, s.batch)
		if err != nil {
			return axiom.Campaign{}, fmt.Errorf("campaign %s: audience: %w", c.ID, err)
		}
		if len(leads) == 0 {
			break
		}
		keys := make([]string, len(leads))
		for i, l := range leads {
			keys[i] = axiom.SuppressionKey(l.Email)
		}
		suppressed, err := s.store.Suppressed(ctx, c.AccountID, keys)
		if err != nil {
			return axiom.Campaign{}, fmt.Errorf("campaign %s: suppressed addresses: %w", c.ID, err)
		}
		now := axiom.StoreTime(s.now())
		ms := make([]axiom.Message, 0, len(leads))
		for i, l := range leads {
			reason, isSuppressed := suppressed[keys[i]]
			switch c.Audience.Select(l, isSuppressed, links[l.ID]...) {
			case axiom.Mailed:
				// Stored once: the body is rendered from the campaign's
				// snapshot when the message is sent or read.
				m := prepared.Message(l)
				m.ID, m.CampaignID, m.AccountID, m.LeadID = axiom.NewID(axiom.PrefixMessage, now), c.ID, c.AccountID, l.ID
				m.Status, m.CreatedAt = axiom.MessageQueued, now
				ms = append(ms, m)
			case axiom.Suppressed:
				ms = append(ms, axiom.SuppressedMessage(c, l, leftOut(isSuppressed, reason), NewToken(), NewToken(), now))
			}
		}
		cursor = leads[len(leads)-1].ID
		more := len(leads) == s.batch
		hold := now.Add(s.hold)
		if handOff && more {
			hold = now // free for a worker at once
		}
		if err := s.store.EnqueueMessages(ctx, c.ID, ms, cursor, hold); err != nil {
			return axiom.Campaign{}, fmt.Errorf("campaign %s: enqueue: %w", c.ID, err)
		}
		if !more {
			break
		}
		if handOff {
			return s.store.GetCampaign(ctx, c.AccountID, c.ID)
		}
	}
	done, err := s.store.FinishEnqueue(ctx, c.ID)
	if err != nil {
		return axiom.Campaign{}, fmt.Errorf("campaign %s: finish enqueue: %w", c.ID, err)
	}
	return done, nil
}

// StartDue starts the scheduled campaigns whose time has come. A campaign
// whose template was deleted can never start: it is cancelled.
func (s *Service) StartDue(ctx context.Context) error {
	due, err := s.store.DueCampaigns(ctx, s.now(), 100)
	if err != nil {
		return fmt.Errorf("due campaigns: %w", err)
	}
	for _, c := range due {
		_, err := s.Send(ctx, c.AccountID, c.ID)
		switch {
		case err == nil:
			s.log.InfoContext(ctx, "started scheduled campaign", slog.String("campaign", c.ID))
		case errors.Is(err, axiom.ErrInvalidState), errors.Is(err, axiom.ErrNotFound):
			// Started, cancelled or deleted meanwhile, here or on another server.
		case errors.Is(err, axiom.ErrSendQuota):
			// It starts once the quota allows: tried again when the oldest
			// messages counted leave the window.
			e, _ := errors.AsType[*axiom.Error](err)
			at := s.now().Add(max(e.RetryAfter, time.Minute))
			s.log.WarnContext(ctx, "postponing scheduled campaign: its plan's sending quota would be passed",
				slog.String("campaign", c.ID), slog.Time("until", at))
			if _, err := s.Schedule(ctx, c.AccountID, c.ID, at); err != nil && !errors.Is(err, axiom.ErrInvalidState) {
				s.log.ErrorContext(ctx, "postponing campaign", slog.String("campaign", c.ID), slog.Any("error", err))
			}
		case errors.Is(err, axiom.ErrTemplateNotFound):
			s.log.WarnContext(ctx, "cancelling scheduled campaign: its template was deleted",
				slog.String("campaign", c.ID), slog.String("template", c.Template))
			if _, err := s.Cancel(ctx, c.AccountID, c.ID); err != nil && !errors.Is(err, axiom.ErrInvalidState) {
				s.log.ErrorContext(ctx, "cancelling campaign", slog.String("campaign", c.ID), slog.Any("error", err))
			}
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.ErrorContext(ctx, "starting scheduled campaign", slog.String("campaign", c.ID), slog.Any("error", err))
		}
	}
	return nil
}

// ResumeEnqueue finishes queuing the audience of one campaign whose
// enqueuer died, if there is one, and reports whether there was.
func (s *Service) ResumeEnqueue(ctx context.Context) (bool, error) {
	now := axiom.StoreTime(s.now())
	c, cursor, ok, err := s.store.ClaimEnqueue(ctx, now, now.Add(s.hold))
	if err != nil || !ok {
		return false, err
	}
	t, err := s.store.CampaignContent(ctx, c.AccountID, c.ID)
	if errors.Is(err, axiom.ErrNotFound) {
		// Only a campaign started before snapshots, whose template was
		// deleted before the migration that took them.
		s.log.WarnContext(ctx, "cancelling campaign: it has no snapshot of its template to queue its audience with",
			slog.String("campaign", c.ID), slog.String("template", c.Template))
		if _, err := s.Cancel(ctx, c.AccountID, c.ID); err != nil && !errors.Is(err, axiom.ErrInvalidState) {
			return true, err
		}
		return true, nil
	}
	if err != nil {
		return true, err
	}
	s.log.InfoContext(ctx, "resuming the queuing of a campaign", slog.String("campaign", c.ID), slog.String("after_lead", cursor))
	_, err = s.enqueue(ctx, c, t, cursor, false)
	return true, err
}

// Stats returns a campaign's delivery and engagement figures.
func (s *Service) Stats(ctx context.Context, accountID, id string) (axiom.CampaignStats, error) {
	return s.store.CampaignStats(ctx, accountID, id)
}

// Messages returns a page of a campaign's messages, in recipient order,
// without their bodies.
func (s *Service) Messages(ctx context.Context, accountID, id string, q axiom.Query) (axiom.Page[axiom.Message], error) {
	return s.store.ListMessages(ctx, accountID, id, q)
}

// Message returns one message of a campaign with its body, its tokens
// redacted: they are the recipient's credentials, not the account's.
func (s *Service) Message(ctx context.Context, accountID, campaignID, id string) (axiom.Message, error) {
	m, err := s.store.GetMessage(ctx, accountID, campaignID, id)
	if err != nil {
		return axiom.Message{}, err
	}
	return s.shown(ctx, m)
}

// shown is m as the API shows it: its body rendered, its tokens redacted.
func (s *Service) shown(ctx context.Context, m axiom.Message) (axiom.Message, error) {
	if r, err := s.Body(ctx, m); err == nil {
		m = r
	} else if re, ok := errors.AsType[*RenderError](err); ok {
		// No body to show: the message is, or will be, failed for this reason.
		m.Error = re.Error()
	} else {
		return axiom.Message{}, err
	}
	return m.Redacted(), nil
}

// Activity is one message of a lead, as Message shows it, and its events.
type Activity struct {
	Message axiom.Message
	Events  []axiom.MessageEvent
}

// LeadActivity returns every message of the account's campaigns to lead
// leadID, each as Message shows it (rendered, tokens redacted), with its
// opens and clicks, oldest first.
func (s *Service) LeadActivity(ctx context.Context, accountID, leadID string) ([]Activity, error) {
	ms, err := s.store.LeadMessages(ctx, accountID, leadID)
	if err != nil {
		return nil, err
	}
	evs, err := s.store.LeadEvents(ctx, accountID, leadID)
	if err != nil {
		return nil, err
	}
	byMessage := map[string][]axiom.MessageEvent{}
	for _, e := range evs {
		byMessage[e.MessageID] = append(byMessage[e.MessageID], e)
	}
	out := make([]Activity, len(ms))
	for i, m := range ms {
		if out[i].Message, err = s.shown(ctx, m); err != nil {
			return nil, err
		}
		out[i].Events = byMessage[m.ID]
	}
	return out, nil
}

// RenderError is why a message cannot be rendered: it is never sent.
type RenderError struct{ Err error }

func (e *RenderError) Error() string { return e.Err.Error() }
func (e *RenderError) Unwrap() error { return e.Err }

// Body returns m with its body rendered from its campaign's snapshot of
// the template, when it holds merge values rather than a rendered body;
// m as it is otherwise. A message that cannot be rendered (over
// axiom.MaxMessageBytes, no snapshot, links not its template's) is a
// *RenderError; other errors are the store's, and may pass.
func (s *Service) Body(ctx context.Context, m axiom.Message) (axiom.Message, error) {
	if m.Merge == nil {
		return m, nil
	}
	snap, ok := s.contents.get(m.CampaignID)
	if !ok {
		t, err := s.store.CampaignContent(ctx, m.AccountID, m.CampaignID)
		if errors.Is(err, axiom.ErrNotFound) {
			return m, &RenderError{Err: errors.New("The campaign has no snapshot of its template: the message was not sent")}
		}
		if err != nil {
			return m, err
		}
		links, err := s.store.CampaignLinks(ctx, m.AccountID, m.CampaignID)
		if err != nil {
			return m, err
		}
		snap = snapshot{t: t, links: links}
		s.contents.put(m.CampaignID, snap)
	}
	r, err := s.composer.Body(snap.t, snap.links, m)
	if errors.Is(err, ErrTooLarge) {
		return m, &RenderError{Err: err}
	}
	if err != nil {
		return m, &RenderError{Err: fmt.Errorf("The message cannot be rendered from its template: %w", err)}
	}
	return r, nil
}

// Open counts the open of the message whose pixel carries token.
func (s *Service) Open(ctx context.Context, token string) error {
	return s.store.RecordOpen(ctx, token, s.now())
}

// errBadLink is the answer to a tracked URL that names no link.
var errBadLink = axiom.Errorf(axiom.CodeNotFound, "This link is not valid")

// Click counts a click on the tracked link at position of the message
// whose open token is token, and returns where it leads: only ever a URL
// of the message's template. A position in any other form than the
// message's links write it names nothing.
func (s *Service) Click(ctx context.Context, token, position string) (string, error) {
	n, ok := ParseLinkPosition(position)
	if !ok {
		return "", errBadLink
	}
	return s.store.RecordClick(ctx, token, n, s.now())
}

// LegacyClick counts a click on a tracked link of mail queued when each
// link had a token of its own, and returns where it leads.
func (s *Service) LegacyClick(ctx context.Context, token string) (string, error) {
	return s.store.RecordLegacyClick(ctx, token, s.now())
}

// CheckOpen answers as Open would, counting nothing (a HEAD of the pixel).
func (s *Service) CheckOpen(ctx context.Context, token string) error {
	return s.store.CheckOpen(ctx, token)
}

// ClickTarget answers as Click would, counting nothing (a HEAD of the link).
func (s *Service) ClickTarget(ctx context.Context, token, position string) (string, error) {
	n, ok := ParseLinkPosition(position)
	if !ok {
		return "", errBadLink
	}
	return s.store.ClickTarget(ctx, token, n)
}

// LegacyClickTarget answers as LegacyClick would, counting nothing.
func (s *Service) LegacyClickTarget(ctx context.Context, token string) (string, error) {
	return s.store.LegacyClickTarget(ctx, token)
}

// Unsubscription returns what the unsubscribe link carrying token names;
// it changes nothing.
func (s *Service) Unsubscription(ctx context.Context, token string) (axiom.Unsubscription, error) {
	return s.store.GetUnsubscription(ctx, token)
}

// Unsubscribe unsubscribes the address of the message whose unsubscribe
// link carries token: it is suppressed in the message's account, and its
// lead marked unsubscribed. Doing it again changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	u, err := s.store.GetUnsubscription(ctx, token)
	if err != nil {
		return err
	}
	sup, err := axiom.NewSuppression(u.AccountID, u.Email, axiom.SuppressUnsubscribed,
		"Unsubscribed through a message of this campaign", u.CampaignID, s.now())
	if err != nil {
		return fmt.Errorf("unsubscribe %s: %w", u.LeadID, err)
	}
	return s.store.Unsubscribe(ctx, token, sup)
}

// AddSuppression adds email to the account's suppression list for reason,
// unless it is there already, and returns the entry the list holds and
// whether it is the one just added.
func (s *Service) AddSuppression(ctx context.Context, accountID, email string, reason axiom.SuppressionReason, detail string) (axiom.Suppression, bool, error) {
	sup, err := axiom.NewSuppression(accountID, email, reason, detail, "", s.now())
	if err != nil {
		return axiom.Suppression{}, false, err
	}
	return s.store.AddSuppression(ctx, sup)
}

// Suppression returns the account's entry of email.
func (s *Service) Suppression(ctx context.Context, accountID, email string) (axiom.Suppression, error) {
	return s.store.GetSuppression(ctx, accountID, email)
}

// Suppressions returns a page of the account's suppression list, of one
// reason if set.
func (s *Service) Suppressions(ctx context.Context, accountID string, q axiom.Query, reason axiom.SuppressionReason) (axiom.Page[axiom.Suppression], error) {
	return s.store.ListSuppressions(ctx, accountID, q, reason)
}

// RemoveSuppression takes email off the account's list: later campaigns
// mail it again (unless its lead is unsubscribed).
func (s *Service) RemoveSuppression(ctx context.Context, accountID, email string) error {
	return s.store.DeleteSuppression(ctx, accountID, email)
}

// leftOut says why a lead of the audience is not mailed: it unsubscribed,
// or its address is on the suppression list for reason.
func leftOut(suppressed bool, reason axiom.SuppressionReason) string {
	if suppressed {
		return fmt.Sprintf("The address is on the account's suppression list (%s)", reason)
	}
	return "The lead is unsubscribed"
}

// Unwanted says why queued message m must not be sent now, or "" when it
// may: its lead may have unsubscribed, been deleted or had its address
// suppressed since the message was queued, and unsubscribing wins.
func (s *Service) Unwanted(ctx context.Context, m axiom.Message) (string, error) {
	l, err := s.store.GetLead(ctx, m.AccountID, m.LeadID)
	switch {
	case errors.Is(err, axiom.ErrNotFound):
		return axiom.LeadDeletedReason, nil
	case err != nil:
		return "", fmt.Errorf("message %s: its lead: %w", m.ID, err)
	}
	key := axiom.SuppressionKey(m.To)
	suppressed, err := s.store.Suppressed(ctx, m.AccountID, []string{key})
	if err != nil {
		return "", fmt.Errorf("message %s: suppressed addresses: %w", m.ID, err)
	}
	reason, isSuppressed := suppressed[key]
	if isSuppressed || l.Status == axiom.LeadStatusUnsubscribed {
		return leftOut(isSuppressed, reason), nil
	}
	return "", nil
}
