package storetest

import (
	"context"
	"time"

	"github.com/axiomkit/axiom"
)

// Store is every operation a backend offers, the union of what the server,
// the campaign service and the command line each declare they need. Each
// backend passes the whole suite.
//
// Errors a client must see are *axiom.Error values created by the store
// where it learns the fact (axiom.LeadNotFound(id), axiom.DuplicateEmail,
// axiom.CampaignStateError, …) and wrapped with %w; every other error is
// the database's, wrapped with the operation that failed.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error

	// Bootstrap stores a and k, the first account of a database and its
	// key, only if the database has never held an account; it reports
	// whether it did. Of several processes bootstrapping one database at
	// once, exactly one stores its account.
	Bootstrap(ctx context.Context, a axiom.Account, k axiom.Key) (bool, error)
	// CreateAccount stores a.
	CreateAccount(ctx context.Context, a axiom.Account) error
	// GetAccount returns account id; a missing one is an axiom.ErrNotFound.
	GetAccount(ctx context.Context, id string) (axiom.Account, error)
	// CreateKey stores k, whose ID, AccountID, Hash and Hint are set. A
	// taken id or hash is an axiom.ErrDuplicate, an unknown account an
	// axiom.ErrNotFound.
	CreateKey(ctx context.Context, k axiom.Key) error
	// KeyByHash finds a key (revoked or not) and its account by the hash of
	// its secret; none is an axiom.ErrNotFound.
	KeyByHash(ctx context.Context, hash []byte) (axiom.Key, axiom.Account, error)
	// ListKeys lists the keys of one account, or of all when accountID is
	// "", oldest first.
	ListKeys(ctx context.Context, accountID string) ([]axiom.Key, error)
	// RevokeKey marks key id revoked at at; revoking it again keeps the
	// first time. A missing key is an axiom.ErrNotFound.
	RevokeKey(ctx context.Context, id string, at time.Time) error

	// CreateLead stores l as it is (axiom.NewLead made it). An email the
	// account already has, compared by axiom.EmailKey, is
	// axiom.DuplicateEmail(l.Email).
	CreateLead(ctx context.Context, l axiom.Lead) error
	// GetLead returns lead id of the account; axiom.LeadNotFound(id) if the
	// account has none (another account's lead is not found either).
	GetLead(ctx context.Context, accountID, id string) (axiom.Lead, error)
	// UpdateLead applies p to lead id at now (axiom.LeadPatch.Apply) and
	// stores the result, atomically: concurrent patches of one lead, from
	// any process, each apply to the result of the one before.
	UpdateLead(ctx context.Context, accountID, id string, p axiom.LeadPatch, now time.Time) (axiom.Lead, error)
	// DeleteLead deletes lead id of the account and erases its personal
	// data in the same transaction (docs/privacy.md): its messages are
	// erased (no longer listed or got, their tokens and links dead, their
	// statistics kept), its addresses' suppression entries keep only their
	// key, the Idempotency-Key records whose answer names it are deleted.
	DeleteLead(ctx context.Context, accountID, id string) error
	// ListLeads returns one page of the account's leads that match
	// q.Search (each word of axiom.SearchWords(q.Search) begins a word of
	// the lead's SearchText), in q's order, ties broken by id in the same
	// direction. Sort fields: created_at, updated_at, name, email (by
	// axiom.SortKey).
	ListLeads(ctx context.Context, accountID string, q axiom.Query) (axiom.Page[axiom.Lead], error)

	// CreateTemplate stores t under its slug. A slug the account has ever
	// used, even by a deleted template, is an axiom.ErrDuplicate.
	CreateTemplate(ctx context.Context, t axiom.Template) error
	// GetTemplate returns the account's live template slug, or
	// axiom.TemplateNotFound(slug).
	GetTemplate(ctx context.Context, accountID, slug string) (axiom.Template, error)
	// UpdateTemplate applies p at now, atomically.
	UpdateTemplate(ctx context.Context, accountID, slug string, p axiom.TemplatePatch, now time.Time) (axiom.Template, error)
	// DeleteTemplate deletes the template, keeping its slug used.
	DeleteTemplate(ctx context.Context, accountID, slug string, now time.Time) error
	// ListTemplates returns one page of the account's live templates, ties
	// broken by slug. Sort fields: created_at, updated_at, name.
	ListTemplates(ctx context.Context, accountID string, q axiom.Query) (axiom.Page[axiom.Template], error)

	// ClaimIdempotencyKey claims r.Key for r.AccountID with r (Status 0,
	// r.Token set), atomically across processes: it stores r unless the
	// account holds a record of the key that is younger than ttl and is
	// either answered or claimed less than stale ago. It returns the record
	// now held and whether it is r's claim.
	ClaimIdempotencyKey(ctx context.Context, r axiom.IdempotencyRecord, ttl, stale time.Duration) (axiom.IdempotencyRecord, bool, error)
	// GetIdempotencyKey returns the record of the key, or axiom.ErrNotFound.
	GetIdempotencyKey(ctx context.Context, accountID, key string) (axiom.IdempotencyRecord, error)
	// CompleteIdempotencyKey stores the answer (Status, ContentType, Body)
	// of the claim r.Token holds; a claim lost meanwhile is
	// axiom.ErrNotFound.
	CompleteIdempotencyKey(ctx context.Context, r axiom.IdempotencyRecord) error
	// ReleaseIdempotencyKey deletes the claim token holds, so that a retry
	// runs again (the request failed).
	ReleaseIdempotencyKey(ctx context.Context, accountID, key, token string) error

	// CreateCampaign stores c as it is (axiom.NewCampaign made it).
	CreateCampaign(ctx context.Context, c axiom.Campaign) error
	// GetCampaign returns campaign id with its counts (records of leads
	// left out are no recipients), or axiom.CampaignNotFound(id).
	GetCampaign(ctx context.Context, accountID, id string) (axiom.Campaign, error)
	// ListCampaigns lists a page of campaigns, only those in status if it
	// is not "". Sort fields: created_at, updated_at, name.
	ListCampaigns(ctx context.Context, accountID string, q axiom.Query, status axiom.CampaignStatus) (axiom.Page[axiom.Campaign], error)
	// ChangeCampaign applies op to campaign id atomically, across
	// processes: if its status is one of op.From(), it sets the fields ch
	// sets and the status op.To() (unless ""), and returns the campaign as
	// it is after; otherwise axiom.CampaignStateError(id, status, op). With
	// ch.EnqueueUntil set (OpSend), the campaign starts enqueueing, held by
	// the caller until that time. Of concurrent calls that the status
	// allows only one, exactly one succeeds when op changes the status.
	ChangeCampaign(ctx context.Context, accountID, id string, op axiom.CampaignOp, ch axiom.CampaignChange) (axiom.Campaign, error)
	// DeleteCampaign deletes campaign id, if its status allows
	// axiom.OpDelete, with its messages, links and events.
	DeleteCampaign(ctx context.Context, accountID, id string) error
	// DueCampaigns lists the scheduled campaigns whose time is at or before now.
	DueCampaigns(ctx context.Context, now time.Time, limit int) ([]axiom.Campaign, error)
	// AudienceLeads lists up to limit leads of the account in id order,
	// those after afterID ("" from the first): the candidates of an audience.
	AudienceLeads(ctx context.Context, accountID, afterID string, limit int) ([]axiom.Lead, error)
	// CampaignContent returns the snapshot of the template the account's
	// campaign sends (Subject, Content), which ChangeCampaign(OpSend)
	// takes in its transaction; axiom.ErrNotFound before the send, for
	// another account's campaign, and once the campaign is compacted.
	CampaignContent(ctx context.Context, accountID, campaignID string) (axiom.Template, error)
	// EnqueueMessages queues ms (ids set; a body rendered, or the merge
	// values it is rendered from, Merge) for the sending
	// campaign that is enqueueing, in one short transaction, leaving out
	// any lead that already has a message in the campaign; a message of
	// status axiom.MessageSuppressed is kept, with its Error, as the record
	// of a lead left out (never claimed, no recipient). It records
	// cursor (the last lead considered) and the hold's new end. A campaign
	// that stopped enqueueing (cancelled, deleted) is axiom.ErrInvalidState.
	EnqueueMessages(ctx context.Context, campaignID string, ms []axiom.Message, cursor string, holdUntil time.Time) error
	// FinishEnqueue marks the campaign's audience wholly enqueued, and
	// returns the campaign as that made it. No message of a campaign is
	// claimed before its audience is wholly enqueued, so a sending campaign
	// it returns has sent nothing yet.
	FinishEnqueue(ctx context.Context, campaignID string) (axiom.Campaign, error)
	// ClaimEnqueue takes the hold of one sending campaign whose enqueueing
	// is unfinished and unheld (its holder died), until holdUntil, and
	// returns it with its cursor; ok is false when there is none.
	ClaimEnqueue(ctx context.Context, now, holdUntil time.Time) (c axiom.Campaign, cursor string, ok bool, err error)
	// FinishCampaigns marks sent (completed at now) every sending campaign
	// wholly enqueued without a queued message, and returns how many.
	FinishCampaigns(ctx context.Context, now time.Time) (int, error)
	// CampaignStats counts the messages and events of a campaign: the
	// records of leads left out count as Suppressed, not as Recipients.
	CampaignStats(ctx context.Context, accountID, id string) (axiom.CampaignStats, error)
	// ListMessages returns one page of a campaign's messages (not erased) in the order
	// they were queued.
	ListMessages(ctx context.Context, accountID, campaignID string, q axiom.Query) (axiom.Page[axiom.Message], error)
	// CompactMessages drops the bodies of the messages of one campaign
	// finished before before, limit at a time, and returns how many.
	CompactMessages(ctx context.Context, before time.Time, limit int) (int, error)
	// SendUsage counts the messages (suppressed records aside) of the
	// account's campaigns started since since, when the oldest of those
	// started, and the account's leads.
	SendUsage(ctx context.Context, accountID string, since time.Time) (used int, oldest time.Time, leads int, err error)
	// GetMessage returns one message of the account's campaign with its
	// body and links; ListMessages leaves the body out.
	GetMessage(ctx context.Context, accountID, campaignID, id string) (axiom.Message, error)
	// ClaimMessages claims for worker up to limit queued messages of
	// sending campaigns that are free (never claimed, claim run out, retry
	// time passed), until now+ttl, counting an attempt for each and
	// recording worker as their holder. A message is claimed by one caller
	// at a time, across processes sharing the database.
	ClaimMessages(ctx context.Context, worker string, now time.Time, ttl time.Duration, limit int) ([]axiom.Message, error)
	// RenewClaims extends until until the claims worker holds on the
	// messages ids (those it claimed and has not completed), and returns
	// the ids it still holds.
	RenewClaims(ctx context.Context, worker string, ids []string, until time.Time) ([]string, error)
	// CompleteMessage records the outcome of worker's attempt at a message
	// it holds, adds o.Suppress (if set, with a failure) to the account's
	// suppression list and marks the message bounced, and marks its
	// campaign sent when it was the last one queued of a wholly enqueued
	// campaign; all at once. A message deleted meanwhile, or one whose
	// claim passed to another worker, is axiom.ErrNotFound, and nothing
	// is recorded.
	CompleteMessage(ctx context.Context, worker, id string, o axiom.Outcome) error
	// RecordOpen counts an open of the message whose open token is token.
	RecordOpen(ctx context.Context, token string, at time.Time) error
	// RecordClick counts a click on the tracked link at position of the
	// message whose open token is token (a record of a lead left out has
	// none), up to axiom.MaxLinkHits for that message and position, and
	// returns the link's URL, from the campaign's links.
	RecordClick(ctx context.Context, token string, position int, at time.Time) (string, error)
	// RecordLegacyClick counts a click on the tracked link whose own token
	// is token, of mail queued when each link had one, as RecordClick does.
	RecordLegacyClick(ctx context.Context, token string, at time.Time) (string, error)
	// SaveCampaignLinks stores the targets of the tracked links of a
	// campaign's snapshot, by position, once; again changes nothing.
	SaveCampaignLinks(ctx context.Context, campaignID string, urls []string) error
	// CampaignLinks returns the targets the account's campaign stored.
	CampaignLinks(ctx context.Context, accountID, campaignID string) ([]string, error)
	// CheckOpen is nil when token is a message's open token; it counts
	// nothing.
	CheckOpen(ctx context.Context, token string) error
	// ClickTarget returns the URL RecordClick would; it counts nothing.
	ClickTarget(ctx context.Context, token string, position int) (string, error)
	// LegacyClickTarget returns the URL RecordLegacyClick would; it counts
	// nothing.
	LegacyClickTarget(ctx context.Context, token string) (string, error)
	// Seed stores the records of d (axiom.Dataset.Check passed) in one
	// transaction, all or none. A record replaces the stored one of the
	// same id, and its account's lead of the same email (axiom.EmailKey),
	// template of the same slug and key of the same hash, so that seeding
	// twice leaves what seeding once did; nothing else changes. A record
	// the database refuses fails the whole seed with an
	// *axiom.DatasetError naming it.
	Seed(ctx context.Context, d axiom.Dataset) error
	// Reset makes the database hold d and nothing else (no other account,
	// message, event or Idempotency-Key), in one transaction that readers
	// see whole or not at all.
	Reset(ctx context.Context, d axiom.Dataset) error
	// Export reads every account with its keys, leads, live templates and
	// campaigns (without their counts) as one consistent snapshot, each
	// list ordered by creation time then id (slug for templates).
	Export(ctx context.Context) (axiom.Dataset, error)

	// LeadMessages returns the account's messages to the lead (not
	// erased), oldest first, each as GetMessage returns it.
	LeadMessages(ctx context.Context, accountID, leadID string) ([]axiom.Message, error)
	// LeadEvents returns the opens and clicks of LeadMessages' messages,
	// in time order.
	LeadEvents(ctx context.Context, accountID, leadID string) ([]axiom.MessageEvent, error)

	// GetUnsubscription returns what the unsubscribe token names: the
	// message's account, campaign (and its name), lead and address, and
	// whether the address is unsubscribed already (through this message,
	// or on the account's suppression list). It changes nothing. Unknown
	// tokens are axiom.ErrNotFound.
	GetUnsubscription(ctx context.Context, token string) (axiom.Unsubscription, error)
	// Unsubscribe, in one transaction, marks unsubscribed the lead of the
	// message whose unsubscribe token is token (if the lead still exists),
	// counts the unsubscribe once for that message, and adds sup (the
	// suppression of the message's address, of the message's account) to
	// the account's list unless the address is there. Unknown tokens are
	// axiom.ErrNotFound.
	Unsubscribe(ctx context.Context, token string, sup axiom.Suppression) error

	// AddSuppression adds sup to its account's suppression list unless the
	// account has its address (by Key) already, and returns the entry the
	// list holds and whether it is sup. An unknown account is
	// axiom.ErrNotFound.
	AddSuppression(ctx context.Context, sup axiom.Suppression) (axiom.Suppression, bool, error)
	// GetSuppression returns the account's entry of email (erased or not),
	// compared by axiom.SuppressionKey, or axiom.SuppressionNotFound(email).
	GetSuppression(ctx context.Context, accountID, email string) (axiom.Suppression, error)
	// ListSuppressions returns one page of the account's entries, only
	// those of reason if it is not "". Sort fields: created_at, email (by
	// axiom.SortKey; erased entries have none); ties broken by key in the
	// same direction.
	ListSuppressions(ctx context.Context, accountID string, q axiom.Query, reason axiom.SuppressionReason) (axiom.Page[axiom.Suppression], error)
	// DeleteSuppression removes the account's entry of email, or is
	// axiom.SuppressionNotFound(email).
	DeleteSuppression(ctx context.Context, accountID, email string) error
	// Suppressed returns which of keys (axiom.SuppressionKey forms) the account
	// has suppressed, with their reasons; any number of keys.
	Suppressed(ctx context.Context, accountID string, keys []string) (map[string]axiom.SuppressionReason, error)

	// CreateProperty stores p as it is (axiom.NewProperty made it).
	CreateProperty(ctx context.Context, p axiom.Property) error
	// GetProperty returns listing id of the account, or
	// axiom.PropertyNotFound(id) (another account's too).
	GetProperty(ctx context.Context, accountID, id string) (axiom.Property, error)
	// UpdateProperty applies p at now (axiom.PropertyPatch.Apply),
	// atomically.
	UpdateProperty(ctx context.Context, accountID, id string, p axiom.PropertyPatch, now time.Time) (axiom.Property, error)
	// DeleteProperty deletes the listing and its links to leads.
	DeleteProperty(ctx context.Context, accountID, id string) error
	// ListProperties returns one page of the account's listings that pass f
	// and match q.Search (each word of axiom.SearchWords(q.Search) begins a
	// word of the listing's SearchText), in q's order, ties broken by id.
	// Sort fields: created_at, updated_at, price (by Money.Value).
	ListProperties(ctx context.Context, accountID string, q axiom.Query, f axiom.PropertyFilter) (axiom.Page[axiom.Property], error)
	// LinkLead links a lead and a listing of the account with relation, or
	// changes their link's relation, at now, and reports whether the link
	// is new. A missing listing is axiom.PropertyNotFound, a missing lead
	// axiom.LeadNotFound. Deleting either deletes the link.
	LinkLead(ctx context.Context, accountID, propertyID, leadID, relation string, now time.Time) (axiom.PropertyLink, bool, error)
	// UnlinkLead removes a link, or is axiom.LinkNotFound.
	UnlinkLead(ctx context.Context, accountID, propertyID, leadID string) error
	// PropertyLeads returns a page of the leads linked to a listing, of
	// relation if it is not "", most recently linked first, ties by lead id.
	PropertyLeads(ctx context.Context, accountID, propertyID, relation string, q axiom.Query) (axiom.Page[axiom.Linked[axiom.Lead]], error)
	// LeadProperties returns a page of the listings a lead is linked to, as
	// PropertyLeads does.
	LeadProperties(ctx context.Context, accountID, leadID, relation string, q axiom.Query) (axiom.Page[axiom.Linked[axiom.Property]], error)
	// PropertyLinks lists every link to the listings ids of the account.
	PropertyLinks(ctx context.Context, accountID string, ids []string) ([]axiom.PropertyLink, error)

	// CountLeads counts the account's leads created in each span, by their
	// value of by (all under "" for axiom.LeadTotal), leaving out values
	// without a lead: exactly what ListLeads lists, whatever the spans'
	// alignment.
	CountLeads(ctx context.Context, accountID string, spans []axiom.Span, by axiom.LeadDimension) ([]map[string]int, error)
	// CampaignPeriod returns the campaigns that started in [from, to): how
	// many, the sum of their CampaignStats, and page q of them (each with
	// its CampaignStats), most recently started first.
	CampaignPeriod(ctx context.Context, accountID string, from, to time.Time, q axiom.Query) (axiom.CampaignPeriod, error)
	// PropertyStats counts the listings in scope by status and type and
	// gives their price statistics by type and by city (country and
	// axiom.CityKey), each per currency, ordered by those keys.
	PropertyStats(ctx context.Context, accountID string, scope axiom.PropertyScope) (axiom.PropertyAnalytics, error)
}
