package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom/server/store"
)

var _ store.CampaignStore = (*DB)(nil)

// campaignColumns are read with the message counts of each campaign.
const campaignColumns = `c.id, c.account_id, c.name, c.template, c.audience, c.status,
	c.scheduled_at, c.started_at, c.completed_at, c.created_at, c.updated_at,
	(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = c.id),
	(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = c.id AND m.status = 'sent'),
	(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = c.id AND m.status = 'failed')`

// campaignSorts maps the sort fields of campaigns to their columns.
var campaignSorts = map[string]string{
	"created_at": "c.created_at",
	"updated_at": "c.updated_at",
	"name":       "c.name_sort",
}

const messageColumns = `id, campaign_id, account_id, lead_id, to_email, to_name, subject, html, text,
	open_token, unsubscribe_token, status, error, attempts, sent_at, created_at`

// querier is the pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// audienceJSON is how an audience is stored: never null lists.
type audienceJSON struct {
	Tags     []string `json:"tags"`
	Types    []string `json:"types"`
	Statuses []string `json:"statuses"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func normalizeAudience(a store.Audience) store.Audience {
	return store.Audience{Tags: nonNil(a.Tags), Types: nonNil(a.Types), Statuses: nonNil(a.Statuses)}
}

func encodeAudience(a store.Audience) ([]byte, error) {
	return json.Marshal(audienceJSON{Tags: nonNil(a.Tags), Types: nonNil(a.Types), Statuses: nonNil(a.Statuses)})
}

// storeTime is t as the store keeps it: UTC, whole milliseconds.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func storeTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := storeTime(*t)
	return &u
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func scanCampaign(row pgx.Row) (store.Campaign, error) {
	var (
		c                        store.Campaign
		audience                 []byte
		recipients, sent, failed int64
	)
	if err := row.Scan(&c.ID, &c.AccountID, &c.Name, &c.Template, &audience, &c.Status,
		&c.ScheduledAt, &c.StartedAt, &c.CompletedAt, &c.CreatedAt, &c.UpdatedAt, &recipients, &sent, &failed); err != nil {
		return store.Campaign{}, err
	}
	var a audienceJSON
	if err := json.Unmarshal(audience, &a); err != nil {
		return store.Campaign{}, fmt.Errorf("campaign %s audience: %w", c.ID, err)
	}
	c.Audience = normalizeAudience(store.Audience{Tags: a.Tags, Types: a.Types, Statuses: a.Statuses})
	c.ScheduledAt, c.StartedAt, c.CompletedAt = utcPtr(c.ScheduledAt), utcPtr(c.StartedAt), utcPtr(c.CompletedAt)
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	c.Counts = store.CampaignCounts{Recipients: int(recipients), Sent: int(sent), Failed: int(failed)}
	return c, nil
}

func getCampaign(ctx context.Context, q querier, accountID, id string) (store.Campaign, error) {
	c, err := scanCampaign(q.QueryRow(ctx, "SELECT "+campaignColumns+
		" FROM campaigns c WHERE c.id = $1 AND c.account_id = $2", id, accountID))
	return c, notFound(err)
}

// templateExists checks that the account has the live template slug.
func templateExists(ctx context.Context, tx pgx.Tx, accountID, slug string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM templates WHERE account_id = $1 AND slug = $2 AND deleted_at IS NULL",
		accountID, slug).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.ErrTemplateNotFound
	}
	return nil
}

// CreateCampaign stores c as a draft, or scheduled if it has a ScheduledAt.
func (db *DB) CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	t := now()
	c.ID = store.NewCampaignID(t)
	c.CreatedAt, c.UpdatedAt = t, t
	c.Status = store.CampaignDraft
	if c.ScheduledAt != nil {
		c.ScheduledAt, c.Status = storeTimePtr(c.ScheduledAt), store.CampaignScheduled
	}
	c.StartedAt, c.CompletedAt, c.Counts = nil, nil, store.CampaignCounts{}
	c.Audience = normalizeAudience(c.Audience)
	audience, err := encodeAudience(c.Audience)
	if err != nil {
		return store.Campaign{}, err
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := templateExists(ctx, tx, c.AccountID, c.Template); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO campaigns (id, account_id, name, name_sort, template, audience, status,
			scheduled_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ID, c.AccountID, c.Name, store.SortKey(c.Name), c.Template, audience, c.Status, c.ScheduledAt, t, t)
		return constraint(err)
	})
	if err != nil {
		return store.Campaign{}, fmt.Errorf("postgres: create campaign: %w", err)
	}
	return c, nil
}

// GetCampaign returns the campaign id of accountID with its counts.
func (db *DB) GetCampaign(ctx context.Context, accountID, id string) (store.Campaign, error) {
	c, err := getCampaign(ctx, db.pool, accountID, id)
	if err != nil {
		return store.Campaign{}, fmt.Errorf("postgres: get campaign %q: %w", id, err)
	}
	return c, nil
}

// ListCampaigns returns one page of the campaigns of accountID in q's
// order, ties broken by id in the same direction.
func (db *DB) ListCampaigns(ctx context.Context, accountID string, q store.Query, status string) (store.CampaignPage, error) {
	col, err := sortColumn(q, campaignSorts)
	if err != nil {
		return store.CampaignPage{}, err
	}
	dir, limit, offset, err := page(q)
	if err != nil {
		return store.CampaignPage{}, err
	}
	// col and dir come from fixed lists, never from the query's text.
	rows, err := db.pool.Query(ctx, "SELECT "+campaignColumns+
		" FROM campaigns c WHERE c.account_id = $1 AND ($2 = '' OR c.status = $2)"+
		" ORDER BY "+col+dir+", c.id"+dir+" LIMIT $3 OFFSET $4", accountID, status, limit, offset)
	if err != nil {
		return store.CampaignPage{}, fmt.Errorf("postgres: list campaigns: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Campaign, error) { return scanCampaign(row) })
	if err != nil {
		return store.CampaignPage{}, fmt.Errorf("postgres: list campaigns: %w", err)
	}
	p := store.CampaignPage{Campaigns: cs}
	if len(cs) > q.Limit {
		p.Campaigns, p.HasMore = cs[:q.Limit], true
	}
	return p, nil
}

// changeCampaign runs fn on the campaign id of accountID in a transaction
// holding the campaign's row lock, refusing with a *store.StateError when
// its status is not one of allowed, and returns the campaign after fn. The
// lock orders concurrent changes: of two starts, the second sees sending.
func (db *DB) changeCampaign(ctx context.Context, accountID, id, op string, allowed []string,
	fn func(tx pgx.Tx, c store.Campaign, t time.Time) error) (store.Campaign, error) {
	var c store.Campaign
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockCampaign(ctx, tx, accountID, id); err != nil {
			return err
		}
		var err error
		if c, err = getCampaign(ctx, tx, accountID, id); err != nil {
			return err
		}
		ok := false
		for _, s := range allowed {
			ok = ok || c.Status == s
		}
		if !ok {
			return &store.StateError{ID: id, Status: c.Status, Op: op}
		}
		if err := fn(tx, c, now()); err != nil {
			return err
		}
		c, err = getCampaign(ctx, tx, accountID, id)
		return err
	})
	if err != nil {
		return store.Campaign{}, fmt.Errorf("postgres: %s campaign %q: %w", op, id, err)
	}
	return c, nil
}

func lockCampaign(ctx context.Context, tx pgx.Tx, accountID, id string) error {
	var one int
	err := tx.QueryRow(ctx, "SELECT 1 FROM campaigns WHERE id = $1 AND account_id = $2 FOR UPDATE", id, accountID).Scan(&one)
	return notFound(err)
}

// UpdateCampaign changes the fields p sets of a draft or scheduled campaign.
func (db *DB) UpdateCampaign(ctx context.Context, accountID, id string, p store.CampaignPatch) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "update", []string{store.CampaignDraft, store.CampaignScheduled},
		func(tx pgx.Tx, c store.Campaign, t time.Time) error {
			if p.Name != nil {
				c.Name = *p.Name
			}
			if p.Template != nil {
				if err := templateExists(ctx, tx, accountID, *p.Template); err != nil {
					return err
				}
				c.Template = *p.Template
			}
			if p.Audience != nil {
				c.Audience = *p.Audience
			}
			audience, err := encodeAudience(c.Audience)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE campaigns SET name = $1, name_sort = $2, template = $3, audience = $4, updated_at = $5
				WHERE id = $6`, c.Name, store.SortKey(c.Name), c.Template, audience, t, id)
			return err
		})
}

// DeleteCampaign deletes a campaign that is not sending, with its messages,
// links and events (by cascade).
func (db *DB) DeleteCampaign(ctx context.Context, accountID, id string) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockCampaign(ctx, tx, accountID, id); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRow(ctx, "SELECT status FROM campaigns WHERE id = $1", id).Scan(&status); err != nil {
			return err
		}
		if status == store.CampaignSending {
			return &store.StateError{ID: id, Status: status, Op: "delete"}
		}
		_, err := tx.Exec(ctx, "DELETE FROM campaigns WHERE id = $1", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete campaign %q: %w", id, err)
	}
	return nil
}

// ScheduleCampaign sets when a draft or scheduled campaign starts.
func (db *DB) ScheduleCampaign(ctx context.Context, accountID, id string, at time.Time) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "schedule", []string{store.CampaignDraft, store.CampaignScheduled},
		func(tx pgx.Tx, _ store.Campaign, t time.Time) error {
			_, err := tx.Exec(ctx, "UPDATE campaigns SET status = $1, scheduled_at = $2, updated_at = $3 WHERE id = $4",
				store.CampaignScheduled, storeTime(at), t, id)
			return err
		})
}

// CancelCampaign cancels a draft, scheduled or sending campaign.
func (db *DB) CancelCampaign(ctx context.Context, accountID, id string, at time.Time) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "cancel",
		[]string{store.CampaignDraft, store.CampaignScheduled, store.CampaignSending},
		func(tx pgx.Tx, _ store.Campaign, t time.Time) error {
			_, err := tx.Exec(ctx, "UPDATE campaigns SET status = $1, completed_at = $2, updated_at = $3 WHERE id = $4",
				store.CampaignCancelled, storeTime(at), t, id)
			return err
		})
}

// StartCampaign queues the campaign's messages and moves it to sending in
// one transaction holding the campaign's row lock: of concurrent starts,
// here or on other servers, one queues the messages and the others, which
// waited for the lock, find the campaign sending.
func (db *DB) StartCampaign(ctx context.Context, accountID, id string, at time.Time, compose store.Compose) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "send", []string{store.CampaignDraft, store.CampaignScheduled},
		func(tx pgx.Tx, c store.Campaign, t time.Time) error {
			tmpl, err := scanTemplate(tx.QueryRow(ctx, "SELECT "+templateColumns+
				" FROM templates WHERE account_id = $1 AND slug = $2 AND deleted_at IS NULL", accountID, c.Template))
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrTemplateNotFound
			}
			if err != nil {
				return err
			}
			render, err := compose(c, tmpl)
			if err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "SELECT "+leadColumns+
				" FROM leads WHERE account_id = $1 AND status <> 'unsubscribed' ORDER BY created_at, id", accountID)
			if err != nil {
				return err
			}
			leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Lead, error) { return scanLead(row) })
			if err != nil {
				return err
			}
			var batch pgx.Batch
			for _, l := range leads {
				if !c.Audience.Matches(l) {
					continue
				}
				m, err := render(l)
				if err != nil {
					return fmt.Errorf("render message to %s: %w", l.ID, err)
				}
				m.ID = store.NewMessageID(t)
				batch.Queue(`INSERT INTO campaign_messages (id, campaign_id, account_id, lead_id, to_email, to_name,
					subject, html, text, open_token, unsubscribe_token, status, created_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
					m.ID, id, accountID, l.ID, m.To, m.ToName, m.Subject, m.HTML, m.Text,
					m.OpenToken, m.UnsubscribeToken, store.MessageQueued, t)
				for i, link := range m.Links {
					batch.Queue("INSERT INTO campaign_links (token, message_id, position, url) VALUES ($1, $2, $3, $4)",
						link.Token, m.ID, i, link.URL)
				}
			}
			batch.Queue("UPDATE campaigns SET status = $1, started_at = $2, updated_at = $3 WHERE id = $4",
				store.CampaignSending, storeTime(at), t, id)
			return constraint(tx.SendBatch(ctx, &batch).Close())
		})
}

// DueCampaigns lists scheduled campaigns whose time is at or before now.
func (db *DB) DueCampaigns(ctx context.Context, now time.Time, limit int) ([]store.Campaign, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+campaignColumns+
		" FROM campaigns c WHERE c.status = 'scheduled' AND c.scheduled_at <= $1 ORDER BY c.scheduled_at, c.id LIMIT $2",
		now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due campaigns: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Campaign, error) { return scanCampaign(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: due campaigns: %w", err)
	}
	return cs, nil
}

// finishSQL marks sent the sending campaigns (all, or one: $3) that have
// no queued message left.
const finishSQL = `UPDATE campaigns SET status = 'sent', completed_at = $1, updated_at = $2
	WHERE status = 'sending' AND ($3::text IS NULL OR id = $3)
	AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = 'queued')`

// FinishCampaigns marks sent every sending campaign with no queued message.
// It also closes a campaign whose last two messages were completed at once
// by two servers, each of which still saw the other's queued.
func (db *DB) FinishCampaigns(ctx context.Context, at time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, finishSQL, storeTime(at), now(), nil)
	if err != nil {
		return 0, fmt.Errorf("postgres: finish campaigns: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CampaignStats counts the messages and events of a campaign.
func (db *DB) CampaignStats(ctx context.Context, accountID, id string) (store.CampaignStats, error) {
	if _, err := getCampaign(ctx, db.pool, accountID, id); err != nil {
		return store.CampaignStats{}, fmt.Errorf("postgres: campaign stats %q: %w", id, err)
	}
	var n [9]int64
	err := db.pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed'),
		count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE unsubscribed_at IS NOT NULL)
		FROM campaign_messages WHERE campaign_id = $1`, id).Scan(&n[0], &n[1], &n[2], &n[3], &n[4])
	if err == nil {
		err = db.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE kind = 'open'), count(DISTINCT message_id) FILTER (WHERE kind = 'open'),
			count(*) FILTER (WHERE kind = 'click'), count(DISTINCT message_id) FILTER (WHERE kind = 'click')
			FROM campaign_events WHERE campaign_id = $1`, id).Scan(&n[5], &n[6], &n[7], &n[8])
	}
	if err != nil {
		return store.CampaignStats{}, fmt.Errorf("postgres: campaign stats %q: %w", id, err)
	}
	return store.CampaignStats{
		Recipients: int(n[0]), Sent: int(n[1]), Failed: int(n[2]), Pending: int(n[3]), Unsubscribes: int(n[4]),
		Opens: int(n[5]), UniqueOpens: int(n[6]), Clicks: int(n[7]), UniqueClicks: int(n[8]),
	}, nil
}

func scanMessage(row pgx.Row) (store.Message, error) {
	var (
		m        store.Message
		attempts int32
	)
	if err := row.Scan(&m.ID, &m.CampaignID, &m.AccountID, &m.LeadID, &m.To, &m.ToName, &m.Subject, &m.HTML, &m.Text,
		&m.OpenToken, &m.UnsubscribeToken, &m.Status, &m.Error, &attempts, &m.SentAt, &m.CreatedAt); err != nil {
		return store.Message{}, err
	}
	m.Attempts, m.SentAt, m.CreatedAt = int(attempts), utcPtr(m.SentAt), utc(m.CreatedAt)
	return m, nil
}

// ListMessages returns one page of a campaign's messages in recipient order.
func (db *DB) ListMessages(ctx context.Context, accountID, campaignID string, q store.Query) (store.MessagePage, error) {
	if _, err := getCampaign(ctx, db.pool, accountID, campaignID); err != nil {
		return store.MessagePage{}, fmt.Errorf("postgres: list messages of %q: %w", campaignID, err)
	}
	_, limit, offset, err := page(q)
	if err != nil {
		return store.MessagePage{}, err
	}
	rows, err := db.pool.Query(ctx, "SELECT "+messageColumns+
		" FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq LIMIT $2 OFFSET $3", campaignID, limit, offset)
	if err != nil {
		return store.MessagePage{}, fmt.Errorf("postgres: list messages: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Message, error) { return scanMessage(row) })
	if err != nil {
		return store.MessagePage{}, fmt.Errorf("postgres: list messages: %w", err)
	}
	p := store.MessagePage{Messages: ms}
	if len(ms) > q.Limit {
		p.Messages, p.HasMore = ms[:q.Limit], true
	}
	return p, nil
}

// ClaimMessages leases free queued messages of sending campaigns. The rows
// are picked FOR UPDATE SKIP LOCKED: servers claiming at once each take
// other rows, and a row another server has just leased is seen again, once
// its lock is released, with its new not_before, and left alone.
func (db *DB) ClaimMessages(ctx context.Context, at time.Time, lease time.Duration, limit int) ([]store.Message, error) {
	at = storeTime(at)
	rows, err := db.pool.Query(ctx, `UPDATE campaign_messages m SET not_before = $1, attempts = m.attempts + 1
		FROM (SELECT q.seq FROM campaign_messages q JOIN campaigns c ON c.id = q.campaign_id
			WHERE q.status = 'queued' AND q.not_before <= $2 AND c.status = 'sending'
			ORDER BY q.not_before, q.seq LIMIT $3
			FOR UPDATE OF q SKIP LOCKED) AS pick
		WHERE m.seq = pick.seq
		RETURNING m.id, m.campaign_id, m.account_id, m.lead_id, m.to_email, m.to_name, m.subject, m.html, m.text,
			m.open_token, m.unsubscribe_token, m.status, m.error, m.attempts, m.sent_at, m.created_at`,
		at.Add(lease), at, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim messages: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Message, error) { return scanMessage(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: claim messages: %w", err)
	}
	return ms, nil
}

// CompleteMessage records an attempt's outcome and, when no message of the
// campaign is left queued, marks the campaign sent, in one transaction.
func (db *DB) CompleteMessage(ctx context.Context, id string, o store.Outcome) error {
	at := storeTime(o.At)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var campaign string
		var err error
		switch o.Status {
		case store.MessageSent:
			err = tx.QueryRow(ctx, "UPDATE campaign_messages SET status = 'sent', error = '', sent_at = $1 WHERE id = $2 RETURNING campaign_id",
				at, id).Scan(&campaign)
		case store.MessageFailed:
			err = tx.QueryRow(ctx, "UPDATE campaign_messages SET status = 'failed', error = $1 WHERE id = $2 RETURNING campaign_id",
				o.Error, id).Scan(&campaign)
		case store.MessageQueued:
			err = tx.QueryRow(ctx, "UPDATE campaign_messages SET error = $1, not_before = $2 WHERE id = $3 AND status = 'queued' RETURNING campaign_id",
				o.Error, storeTime(o.Retry), id).Scan(&campaign)
		default:
			return fmt.Errorf("unknown outcome %q", o.Status)
		}
		if err != nil {
			return notFound(err) // not found: deleted with its campaign meanwhile
		}
		_, err = tx.Exec(ctx, finishSQL, at, now(), campaign)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: complete message %q: %w", id, err)
	}
	return nil
}

// RecordOpen counts an open of the message whose open token is token.
func (db *DB) RecordOpen(ctx context.Context, token string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO campaign_events (campaign_id, message_id, kind, at)
		SELECT campaign_id, id, 'open', $1 FROM campaign_messages WHERE open_token = $2`, storeTime(at), token)
	if err != nil {
		return fmt.Errorf("postgres: record open: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: record open: %w", store.ErrNotFound)
	}
	return nil
}

// RecordClick counts a click on a link and returns where it leads.
func (db *DB) RecordClick(ctx context.Context, token string, at time.Time) (string, error) {
	var url string
	err := db.pool.QueryRow(ctx, `WITH link AS (
			SELECT l.url, l.message_id, m.campaign_id FROM campaign_links l
			JOIN campaign_messages m ON m.id = l.message_id WHERE l.token = $1
		), event AS (
			INSERT INTO campaign_events (campaign_id, message_id, kind, link_token, at)
			SELECT campaign_id, message_id, 'click', $1, $2 FROM link
		)
		SELECT url FROM link`, token, storeTime(at)).Scan(&url)
	if err != nil {
		return "", fmt.Errorf("postgres: record click: %w", notFound(err))
	}
	return url, nil
}

// Unsubscribe marks the message's lead unsubscribed and the message as the
// one it unsubscribed through (once).
func (db *DB) Unsubscribe(ctx context.Context, token string, at time.Time) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var id, account, lead string
		err := tx.QueryRow(ctx, "SELECT id, account_id, lead_id FROM campaign_messages WHERE unsubscribe_token = $1 FOR UPDATE", token).
			Scan(&id, &account, &lead)
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.Exec(ctx, "UPDATE leads SET status = 'unsubscribed', updated_at = $1 WHERE id = $2 AND account_id = $3 AND status <> 'unsubscribed'",
			now(), lead, account); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE campaign_messages SET unsubscribed_at = $1 WHERE id = $2 AND unsubscribed_at IS NULL", storeTime(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: unsubscribe: %w", err)
	}
	return nil
}
