package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Campaign statuses: draft → scheduled → sending → sent; draft, scheduled
// and sending can become cancelled.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignSending   = "sending"
	CampaignSent      = "sent"
	CampaignCancelled = "cancelled"
)

// Message statuses. A queued message may be claimed by a worker: it stays
// queued, with a lease, until the worker records the outcome.
const (
	MessageQueued = "queued"
	MessageSent   = "sent"
	MessageFailed = "failed"
)

// ErrTemplateNotFound: a campaign names a template the account does not have.
var ErrTemplateNotFound = errors.New("template not found")

// ErrInvalidState: the campaign's status does not allow the operation. The
// stores return it as a *StateError, which names the campaign and status.
var ErrInvalidState = errors.New("invalid campaign state")

// StateError is the ErrInvalidState of one campaign.
type StateError struct {
	ID     string
	Status string // the campaign's status when the operation was refused
	Op     string // what was refused: "update", "delete", "send", "schedule", "cancel"
}

func (e *StateError) Error() string {
	return fmt.Sprintf("cannot %s campaign %s: it is %s", e.Op, e.ID, e.Status)
}

func (e *StateError) Is(target error) bool { return target == ErrInvalidState }

// Audience selects the leads a campaign goes to: a lead matches when it has
// one of Tags (if any), its type is one of Types (if any) and its status one
// of Statuses (if any). Unsubscribed leads never match.
type Audience struct {
	Tags, Types, Statuses []string
}

// Matches reports whether l is in the audience.
func (a Audience) Matches(l Lead) bool {
	if l.Status == "unsubscribed" {
		return false
	}
	in := func(set []string, v ...string) bool {
		if len(set) == 0 {
			return true
		}
		for _, s := range set {
			for _, x := range v {
				if s == x {
					return true
				}
			}
		}
		return false
	}
	return in(a.Tags, l.Tags...) && in(a.Types, l.Type) && in(a.Statuses, l.Status)
}

// Campaign sends one template to an audience of an account's leads.
type Campaign struct {
	ID          string
	AccountID   string
	Name        string
	Template    string // the template's slug
	Audience    Audience
	Status      string
	ScheduledAt *time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
	Counts      CampaignCounts
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CampaignCounts counts a campaign's messages by status.
type CampaignCounts struct {
	Recipients, Sent, Failed int
}

// CampaignPatch lists the fields of a campaign to change; nil fields are kept.
type CampaignPatch struct {
	Name, Template *string
	Audience       *Audience
}

// CampaignPage is one page of campaigns and whether another follows.
type CampaignPage struct {
	Campaigns []Campaign
	HasMore   bool
}

// CampaignStats are a campaign's delivery and engagement figures.
type CampaignStats struct {
	Recipients, Sent, Failed, Pending int
	Opens, UniqueOpens                int
	Clicks, UniqueClicks              int
	Unsubscribes                      int
}

// Link is one tracked link of a message: its token and where it leads.
type Link struct {
	Token string
	URL   string
}

// Message is one campaign message to one lead, as rendered when the
// campaign started.
type Message struct {
	ID         string
	CampaignID string
	AccountID  string
	LeadID     string
	To         string
	ToName     string
	Subject    string
	HTML       string
	Text       string
	// OpenToken names the message in its tracking pixel, UnsubscribeToken
	// in its unsubscribe link; Links are its tracked links.
	OpenToken        string
	UnsubscribeToken string
	Links            []Link
	Status           string
	Error            string // why the last attempt failed; "" once sent
	Attempts         int
	SentAt           *time.Time
	CreatedAt        time.Time
}

// MessagePage is one page of messages and whether another follows.
type MessagePage struct {
	Messages []Message
	HasMore  bool
}

// Renderer renders the message of one lead. The store calls it for every
// recipient inside the transaction that starts a campaign; the store sets
// the message's ids, status and times.
type Renderer func(l Lead) (Message, error)

// Compose prepares the rendering of a campaign's template once per start.
type Compose func(c Campaign, t Template) (Renderer, error)

// Outcome is the result of one delivery attempt.
type Outcome struct {
	Status string    // MessageSent, MessageFailed, or MessageQueued to try again
	Error  string    // why it failed
	At     time.Time // when the attempt ended
	Retry  time.Time // with MessageQueued: not before this time
}

// CampaignStore keeps campaigns, their outbox and their tracking events.
// Methods taking an accountID are scoped to that account; the outbox and
// tracking methods serve the worker and the public links.
type CampaignStore interface {
	// CreateCampaign stores c with a new id, its status (scheduled when
	// ScheduledAt is set, draft otherwise) and times. A template the account
	// lacks is ErrTemplateNotFound.
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	GetCampaign(ctx context.Context, accountID, id string) (Campaign, error)
	// ListCampaigns lists a page of campaigns, only those in status if it
	// is not "". Sort fields: created_at, updated_at, name.
	ListCampaigns(ctx context.Context, accountID string, q Query, status string) (CampaignPage, error)
	// UpdateCampaign changes a draft or scheduled campaign.
	UpdateCampaign(ctx context.Context, accountID, id string, p CampaignPatch) (Campaign, error)
	// DeleteCampaign deletes a campaign that is not sending, with its
	// messages and events.
	DeleteCampaign(ctx context.Context, accountID, id string) error
	// ScheduleCampaign sets when a draft or scheduled campaign starts.
	ScheduleCampaign(ctx context.Context, accountID, id string, at time.Time) (Campaign, error)
	// CancelCampaign cancels a draft, scheduled or sending campaign; its
	// queued messages are never claimed again.
	CancelCampaign(ctx context.Context, accountID, id string, at time.Time) (Campaign, error)
	// StartCampaign moves a draft or scheduled campaign to sending and, in
	// the same transaction, queues one message per lead of its audience,
	// rendered by compose; at most one message per lead is ever queued. A
	// missing template is ErrTemplateNotFound, any other status a
	// *StateError. Of several concurrent calls, one starts the campaign.
	StartCampaign(ctx context.Context, accountID, id string, at time.Time, compose Compose) (Campaign, error)
	// DueCampaigns lists the scheduled campaigns whose time has come.
	DueCampaigns(ctx context.Context, now time.Time, limit int) ([]Campaign, error)
	// FinishCampaigns marks sent every sending campaign without a queued
	// message, and returns how many it marked.
	FinishCampaigns(ctx context.Context, now time.Time) (int, error)
	CampaignStats(ctx context.Context, accountID, id string) (CampaignStats, error)
	ListMessages(ctx context.Context, accountID, campaignID string, q Query) (MessagePage, error)

	// ClaimMessages leases up to limit queued messages of sending campaigns
	// that are free (never leased, lease expired, retry time passed), until
	// now+lease, counting an attempt for each. A message is leased to one
	// caller at a time, across processes sharing the database.
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// CompleteMessage records the outcome of a claimed message's attempt,
	// and marks its campaign sent when it was the last one queued.
	CompleteMessage(ctx context.Context, id string, o Outcome) error

	// RecordOpen counts an open of the message whose open token is token.
	RecordOpen(ctx context.Context, token string, at time.Time) error
	// RecordClick counts a click on the link whose token is token and
	// returns the link's URL.
	RecordClick(ctx context.Context, token string, at time.Time) (string, error)
	// Unsubscribe marks unsubscribed the lead of the message whose
	// unsubscribe token is token (if the lead still exists), counting the
	// unsubscribe once for that message.
	Unsubscribe(ctx context.Context, token string, at time.Time) error
}

// NewCampaignID returns a new campaign id, "cmp_…".
func NewCampaignID(now time.Time) string { return NewID("cmp_", now) }

// NewMessageID returns a new message id, "msg_…".
func NewMessageID(now time.Time) string { return NewID("msg_", now) }
