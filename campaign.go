package axiom

import (
	"slices"
	"strings"
	"time"
)

// CampaignStatus is where a campaign stands: draft → scheduled → sending →
// sent, or cancelled (see CampaignOp for every move).
type CampaignStatus string

// The statuses of a campaign.
const (
	CampaignDraft     CampaignStatus = "draft"
	CampaignScheduled CampaignStatus = "scheduled"
	CampaignSending   CampaignStatus = "sending"
	CampaignSent      CampaignStatus = "sent"
	CampaignCancelled CampaignStatus = "cancelled"
)

// CampaignOp is something done to a campaign that its status may refuse.
type CampaignOp string

// The operations on a campaign.
const (
	OpUpdate   CampaignOp = "update"
	OpDelete   CampaignOp = "delete"
	OpSchedule CampaignOp = "schedule"
	OpSend     CampaignOp = "send"
	OpCancel   CampaignOp = "cancel"
	OpFinish   CampaignOp = "finish" // the last message was delivered or failed
)

// campaignRule is what one operation requires and does.
type campaignRule struct {
	from []CampaignStatus // the statuses that allow it
	to   CampaignStatus   // the status it leaves; "" keeps the status
}

// campaignRules is the one table of the campaign life cycle.
var campaignRules = map[CampaignOp]campaignRule{
	OpUpdate:   {from: []CampaignStatus{CampaignDraft, CampaignScheduled}},
	OpDelete:   {from: []CampaignStatus{CampaignDraft, CampaignScheduled, CampaignSent, CampaignCancelled}},
	OpSchedule: {from: []CampaignStatus{CampaignDraft, CampaignScheduled}, to: CampaignScheduled},
	OpSend:     {from: []CampaignStatus{CampaignDraft, CampaignScheduled}, to: CampaignSending},
	OpCancel:   {from: []CampaignStatus{CampaignDraft, CampaignScheduled, CampaignSending}, to: CampaignCancelled},
	OpFinish:   {from: []CampaignStatus{CampaignSending}, to: CampaignSent},
}

// From lists the statuses in which op is allowed.
func (op CampaignOp) From() []CampaignStatus { return slices.Clone(campaignRules[op].from) }

// To is the status op leaves a campaign in; "" when it keeps the status.
func (op CampaignOp) To() CampaignStatus { return campaignRules[op].to }

// Allows reports whether a campaign in status s may undergo op.
func (s CampaignStatus) Allows(op CampaignOp) bool { return slices.Contains(campaignRules[op].from, s) }

// CampaignStateError is the error of op refused to campaign id in status s.
func CampaignStateError(id string, s CampaignStatus, op CampaignOp) *Error {
	switch op {
	case OpUpdate:
		return Errorf(CodeInvalidState, "Campaign '%s' is %s and can no longer be changed", id, s)
	case OpDelete:
		return Errorf(CodeInvalidState, "Campaign '%s' is %s and cannot be deleted; cancel it first", id, s)
	case OpCancel:
		return Errorf(CodeInvalidState, "Campaign '%s' is already %s and cannot be cancelled", id, s)
	case OpSend:
		return Errorf(CodeInvalidState, "Campaign '%s' is %s and cannot be sent", id, s)
	case OpSchedule:
		return Errorf(CodeInvalidState, "Campaign '%s' is %s and cannot be scheduled", id, s)
	}
	return Errorf(CodeInvalidState, "Campaign '%s' is %s and cannot %s", id, s, op)
}

// CampaignNotFound is the error of a campaign id the account does not have.
func CampaignNotFound(id string) *Error { return Errorf(CodeNotFound, "No campaign with id '%s'", id) }

// MessageNotFound is the error of a message the account's campaign does not have.
func MessageNotFound(campaignID, id string) *Error {
	return Errorf(CodeNotFound, "No message with id '%s' in campaign '%s'", id, campaignID)
}

// CampaignTemplateNotFound is the error of a campaign naming a template
// the account does not have.
func CampaignTemplateNotFound(slug string) *Error {
	return Errorf(CodeTemplateNotFound, "No template with slug '%s' in this account", slug)
}

// CheckSchedule refuses a start time that is not in the future.
func CheckSchedule(at, now time.Time) error {
	if !at.After(now) {
		return Errorf(CodeInvalidState, "The scheduled time %s is in the past", at.UTC().Format(time.RFC3339))
	}
	return nil
}

// Audience selects the leads a campaign goes to: a lead matches when it has
// one of Tags (if any), its type is one of Types (if any), its status one
// of Statuses (if any), and it is linked to one of Properties (if any) by
// one of Relations (if any). Unsubscribed leads never match. Whether a lead
// that matches is mailed is Select's to say.
type Audience struct {
	Tags, Types, Statuses []string
	Properties, Relations []string
}

// Normalized returns a with nil lists made empty.
func (a Audience) Normalized() Audience {
	for _, l := range []*[]string{&a.Tags, &a.Types, &a.Statuses, &a.Properties, &a.Relations} {
		if *l == nil {
			*l = []string{}
		}
	}
	return a
}

// ByProperty reports whether a selects leads by their links to listings:
// then Matches and Select need each lead's links to a.Properties.
func (a Audience) ByProperty() bool { return len(a.Properties) > 0 }

// Matches reports whether l, whose links to listings include links (at
// least those to a.Properties), is in the audience and mailed, its address
// not suppressed.
func (a Audience) Matches(l Lead, links ...PropertyLink) bool {
	return a.Select(l, false, links...) == Mailed
}

// criteria reports whether l has one of the tags, types and statuses, and
// a link of one of the relations to one of the listings.
func (a Audience) criteria(l Lead, links []PropertyLink) bool {
	in := func(set []string, v ...string) bool {
		if len(set) == 0 {
			return true
		}
		for _, x := range v {
			if slices.Contains(set, x) {
				return true
			}
		}
		return false
	}
	if !in(a.Tags, l.Tags...) || !in(a.Types, l.Type) || !in(a.Statuses, l.Status) {
		return false
	}
	if !a.ByProperty() {
		return true
	}
	for _, k := range links {
		if k.LeadID == l.ID && slices.Contains(a.Properties, k.PropertyID) && in(a.Relations, k.Relation) {
			return true
		}
	}
	return false
}

// Selection is what becomes of one of an account's leads when a campaign's
// audience is queued.
type Selection int

// The selections.
const (
	// NotInAudience: the lead does not match the audience; nothing is recorded.
	NotInAudience Selection = iota
	// Mailed: the lead gets a message.
	Mailed
	// Suppressed: the lead is of the audience but may not be mailed (it
	// unsubscribed, or its address is on the account's suppression list):
	// the campaign records it left out, and counts it.
	Suppressed
)

// Select is the one rule of who is mailed: a lead of the audience who has
// not unsubscribed and whose address is not suppressed. suppressed tells
// whether the lead's address (by SuppressionKey) is on the account's suppression
// list; links are the lead's links to listings (at least those to
// a.Properties), which an audience by property needs.
func (a Audience) Select(l Lead, suppressed bool, links ...PropertyLink) Selection {
	switch {
	case !a.criteria(l, links):
		return NotInAudience
	case suppressed, l.Status == LeadStatusUnsubscribed:
		return Suppressed
	}
	return Mailed
}

// Campaign sends one template to an audience of an account's leads.
type Campaign struct {
	ID          string
	AccountID   string
	Name        string
	Template    string // the template's slug
	Audience    Audience
	Status      CampaignStatus
	ScheduledAt *time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
	Counts      CampaignCounts
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewCampaign returns c as it is created now in account accountID: a new
// id, its times, and draft, or scheduled when it has a start time.
func NewCampaign(accountID string, c Campaign, now time.Time) Campaign {
	now = StoreTime(now)
	c.ID, c.AccountID, c.CreatedAt, c.UpdatedAt = NewID(PrefixCampaign, now), accountID, now, now
	c.Status = CampaignDraft
	if c.ScheduledAt != nil {
		at := StoreTime(*c.ScheduledAt)
		c.ScheduledAt, c.Status = &at, CampaignScheduled
	}
	c.StartedAt, c.CompletedAt, c.Counts = nil, nil, CampaignCounts{}
	c.Audience = c.Audience.Normalized()
	return c
}

// CampaignChange is what an operation changes of a campaign; nil fields
// are kept. The status is the operation's own (CampaignOp.To).
type CampaignChange struct {
	Name, Template *string
	Audience       *Audience
	ScheduledAt    *time.Time
	StartedAt      *time.Time
	CompletedAt    *time.Time
	UpdatedAt      time.Time
	// EnqueueUntil, with OpSend, starts the enqueueing of the campaign's
	// audience, held by the caller until this time.
	EnqueueUntil *time.Time
}

// CampaignCounts counts a campaign's messages by status.
type CampaignCounts struct {
	Recipients, Sent, Failed int
}

// CampaignStats are a campaign's delivery and engagement figures.
// Recipients counts the messages to send; Suppressed the leads of the
// audience left out (Select), Bounces the messages whose address the relay
// refused for good, which suppressed it.
type CampaignStats struct {
	Recipients, Sent, Failed, Pending int
	Suppressed, Bounces               int
	Opens, UniqueOpens                int
	Clicks, UniqueClicks              int
	Unsubscribes                      int
}

// MessageStatus is where a campaign message stands. A queued message may
// be claimed by a worker: it stays queued, claimed, until the worker
// records the outcome.
type MessageStatus string

// The statuses of a message.
const (
	MessageQueued MessageStatus = "queued"
	MessageSent   MessageStatus = "sent"
	MessageFailed MessageStatus = "failed"
	// MessageSuppressed records a lead of the audience left out (Select):
	// never sent, not a recipient; its Error says why.
	MessageSuppressed MessageStatus = "suppressed"
)

// MaxLinkHits is how many hits of one open pixel, or of one tracked link,
// a message's statistics count: beyond it a hit is answered but not
// stored, so that a token fetched in a loop cannot grow the database.
// Unique opens and clicks are what engagement is judged by.
const MaxLinkHits = 10

// Message is one campaign message to one lead.
type Message struct {
	ID         string
	CampaignID string
	AccountID  string
	LeadID     string
	To         string
	ToName     string
	Subject    string
	// HTML and Text are the body, rendered from the campaign's snapshot of
	// its template and Merge when the message is sent or read. A message
	// queued before bodies were rendered at send time holds them rendered,
	// with Merge nil; so does one whose body was dropped after the
	// retention period, both empty.
	HTML string
	Text string
	// Merge are the merge values of the fields the template uses, the
	// recipient's own data the body is rendered with; nil when the body is
	// stored rendered (or dropped).
	Merge map[string]string
	// OpenToken names the message in its tracking pixel and in its tracked
	// links, each of which adds its position among the tracked links of the
	// campaign's template; UnsubscribeToken names it in its unsubscribe link.
	OpenToken        string
	UnsubscribeToken string
	// LegacyLinkTokens are the tokens of the tracked links of a message
	// queued when each link had a token of its own: mail sent then still
	// holds them, and so may the body stored with it. Nil for any other.
	LegacyLinkTokens []string
	Status           MessageStatus
	Error            string // why the last attempt failed; "" once sent
	Attempts         int
	SentAt           *time.Time
	CreatedAt        time.Time
}

// Redacted is what the API shows of a token: a token is the recipient's
// credential (it opens, clicks and unsubscribes as them), not the account's.
const Redacted = "REDACTED"

// Redacted returns m with every token of its links, in its fields and its
// body, replaced by Redacted.
func (m Message) Redacted() Message {
	pairs := []string{}
	for _, tok := range append([]string{m.OpenToken, m.UnsubscribeToken}, m.LegacyLinkTokens...) {
		if tok != "" {
			pairs = append(pairs, tok, Redacted)
		}
	}
	r := strings.NewReplacer(pairs...)
	m.HTML, m.Text = r.Replace(m.HTML), r.Replace(m.Text)
	m.OpenToken, m.UnsubscribeToken = Redacted, Redacted
	if m.LegacyLinkTokens != nil {
		m.LegacyLinkTokens = slices.Repeat([]string{Redacted}, len(m.LegacyLinkTokens))
	}
	return m
}

// Outcome is the result of one delivery attempt.
type Outcome struct {
	Status MessageStatus // MessageSent, MessageFailed, MessageQueued to try again, or MessageSuppressed: not wanted any more
	Error  string        // why it failed
	At     time.Time     // when the attempt ended
	Retry  time.Time     // with MessageQueued: not before this time
	// Suppress, with MessageFailed, is the suppression the failure earns
	// the address (a bounce), recorded with the outcome.
	Suppress *Suppression
}

// SuppressedMessage is the record of lead l of campaign c left out of it
// at now: a message that is never sent, whose Error says why. openToken
// and unsubscribeToken are fresh tokens, unique as every message's are.
func SuppressedMessage(c Campaign, l Lead, reason string, openToken, unsubscribeToken string, now time.Time) Message {
	now = StoreTime(now)
	return Message{
		ID: NewID(PrefixMessage, now), CampaignID: c.ID, AccountID: c.AccountID, LeadID: l.ID,
		To: l.Email, ToName: l.Name, OpenToken: openToken, UnsubscribeToken: unsubscribeToken,
		Status: MessageSuppressed, Error: reason, CreatedAt: now,
	}
}

// MaxMessageBytes bounds a rendered message (HTML and text): merge fields
// can make a template many times its size (a value of 1,000 characters in
// each of thousands of fields), and a message is stored, sent and read
// back whole.
const MaxMessageBytes = 2 << 20

// TooLargeReason is the error of a message whose rendered body is larger
// than MaxMessageBytes: it is never sent.
const TooLargeReason = "The message rendered for this lead is larger than 2 MiB: it was not sent"

// Bounded returns m, or, when its body is larger than MaxMessageBytes, the
// record of a message that failed without being sent, body dropped: the
// check of every body rendered for sending or reading.
func (m Message) Bounded() Message {
	if len(m.HTML)+len(m.Text) <= MaxMessageBytes {
		return m
	}
	m.HTML, m.Text = "", ""
	m.Status, m.Error = MessageFailed, TooLargeReason
	return m
}

// Unsubscription is what an unsubscribe link names: the message's account,
// campaign and address, and whether the address is unsubscribed already.
type Unsubscription struct {
	AccountID    string
	CampaignID   string
	CampaignName string
	LeadID       string
	Email        string
	Unsubscribed bool
}

// The kinds of a message's events.
const (
	EventOpen  = "open"
	EventClick = "click"
)

// MessageEvent is one counted open or click of a message.
type MessageEvent struct {
	MessageID string
	Kind      string // EventOpen or EventClick
	At        time.Time
	URL       string // the link clicked; "" for an open
}
