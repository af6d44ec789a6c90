package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// querier is a connection pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// audienceJSON is how an audience is stored: never null lists.
type audienceJSON struct {
	Tags     []string `json:"tags"`
	Types    []string `json:"types"`
	Statuses []string `json:"statuses"`
}

func encodeAudience(a store.Audience) (string, error) {
	b, err := json.Marshal(audienceJSON{Tags: nonNil(a.Tags), Types: nonNil(a.Types), Statuses: nonNil(a.Statuses)})
	return string(b), err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func millis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromNullMillis(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMillis(ms.Int64)
	return &t
}

// storeTime is t as the store keeps it: UTC, whole milliseconds.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func scanCampaign(row interface{ Scan(...any) error }) (store.Campaign, error) {
	var (
		c                             store.Campaign
		audience                      string
		scheduled, started, completed sql.NullInt64
		createdAt, updatedAt          int64
		recipients, sent, failed      int
	)
	if err := row.Scan(&c.ID, &c.AccountID, &c.Name, &c.Template, &audience, &c.Status,
		&scheduled, &started, &completed, &createdAt, &updatedAt, &recipients, &sent, &failed); err != nil {
		return store.Campaign{}, err
	}
	var a audienceJSON
	if err := json.Unmarshal([]byte(audience), &a); err != nil {
		return store.Campaign{}, fmt.Errorf("campaign %s audience: %w", c.ID, err)
	}
	c.Audience = store.Audience{Tags: nonNil(a.Tags), Types: nonNil(a.Types), Statuses: nonNil(a.Statuses)}
	c.ScheduledAt, c.StartedAt, c.CompletedAt = fromNullMillis(scheduled), fromNullMillis(started), fromNullMillis(completed)
	c.CreatedAt, c.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	c.Counts = store.CampaignCounts{Recipients: recipients, Sent: sent, Failed: failed}
	return c, nil
}

func getCampaign(ctx context.Context, q querier, accountID, id string) (store.Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, "SELECT "+campaignColumns+
		" FROM campaigns c WHERE c.id = ? AND c.account_id = ?", id, accountID))
	return c, notFound(err)
}

// templateExists reports whether the account has the live template slug.
func templateExists(ctx context.Context, tx *sql.Tx, accountID, slug string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM templates WHERE account_id = ? AND slug = ? AND deleted_at IS NULL",
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
		at := storeTime(*c.ScheduledAt)
		c.ScheduledAt, c.Status = &at, store.CampaignScheduled
	}
	c.StartedAt, c.CompletedAt, c.Counts = nil, nil, store.CampaignCounts{}
	c.Audience = store.Audience{Tags: nonNil(c.Audience.Tags), Types: nonNil(c.Audience.Types), Statuses: nonNil(c.Audience.Statuses)}
	audience, err := encodeAudience(c.Audience)
	if err != nil {
		return store.Campaign{}, err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if err := templateExists(ctx, tx, c.AccountID, c.Template); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, account_id, name, name_sort, template, audience, status,
			scheduled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.AccountID, c.Name, store.SortKey(c.Name), c.Template, audience, c.Status,
			millis(c.ScheduledAt), t.UnixMilli(), t.UnixMilli())
		return constraint(err)
	})
	if err != nil {
		return store.Campaign{}, fmt.Errorf("sqlite: create campaign: %w", err)
	}
	return c, nil
}

// GetCampaign returns the campaign id of accountID with its counts.
func (db *DB) GetCampaign(ctx context.Context, accountID, id string) (store.Campaign, error) {
	c, err := getCampaign(ctx, db.r, accountID, id)
	if err != nil {
		return store.Campaign{}, fmt.Errorf("sqlite: get campaign %q: %w", id, err)
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
	query := "SELECT " + campaignColumns + " FROM campaigns c WHERE c.account_id = ?"
	args := []any{accountID}
	if status != "" {
		query += " AND c.status = ?"
		args = append(args, status)
	}
	// col and dir come from fixed lists, never from the query's text.
	query += " ORDER BY " + col + dir + ", c.id" + dir + " LIMIT ? OFFSET ?"
	args = append(args, limit, offset)
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return store.CampaignPage{}, fmt.Errorf("sqlite: list campaigns: %w", err)
	}
	defer rows.Close()
	cs := make([]store.Campaign, 0, min(limit, 101))
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return store.CampaignPage{}, fmt.Errorf("sqlite: list campaigns: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return store.CampaignPage{}, fmt.Errorf("sqlite: list campaigns: %w", err)
	}
	p := store.CampaignPage{Campaigns: cs}
	if len(cs) > q.Limit {
		p.Campaigns, p.HasMore = cs[:q.Limit], true
	}
	return p, nil
}

// changeCampaign runs fn on the campaign id of accountID inside a write
// transaction, refusing with a *store.StateError when its status is not
// one of allowed, and returns the campaign as it is after fn.
func (db *DB) changeCampaign(ctx context.Context, accountID, id, op string, allowed []string,
	fn func(tx *sql.Tx, c store.Campaign, t time.Time) error) (store.Campaign, error) {
	var c store.Campaign
	err := db.write(ctx, func(tx *sql.Tx) error {
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
		return store.Campaign{}, fmt.Errorf("sqlite: %s campaign %q: %w", op, id, err)
	}
	return c, nil
}

// UpdateCampaign changes the fields p sets of a draft or scheduled campaign.
func (db *DB) UpdateCampaign(ctx context.Context, accountID, id string, p store.CampaignPatch) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "update", []string{store.CampaignDraft, store.CampaignScheduled},
		func(tx *sql.Tx, c store.Campaign, t time.Time) error {
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
			_, err = tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, name_sort = ?, template = ?, audience = ?, updated_at = ?
				WHERE id = ?`, c.Name, store.SortKey(c.Name), c.Template, audience, t.UnixMilli(), id)
			return err
		})
}

// DeleteCampaign deletes a campaign that is not sending, with its messages,
// links and events (by cascade).
func (db *DB) DeleteCampaign(ctx context.Context, accountID, id string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		c, err := getCampaign(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if c.Status == store.CampaignSending {
			return &store.StateError{ID: id, Status: c.Status, Op: "delete"}
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM campaigns WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete campaign %q: %w", id, err)
	}
	return nil
}

// ScheduleCampaign sets when a draft or scheduled campaign starts.
func (db *DB) ScheduleCampaign(ctx context.Context, accountID, id string, at time.Time) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "schedule", []string{store.CampaignDraft, store.CampaignScheduled},
		func(tx *sql.Tx, _ store.Campaign, t time.Time) error {
			_, err := tx.ExecContext(ctx, "UPDATE campaigns SET status = ?, scheduled_at = ?, updated_at = ? WHERE id = ?",
				store.CampaignScheduled, storeTime(at).UnixMilli(), t.UnixMilli(), id)
			return err
		})
}

// CancelCampaign cancels a draft, scheduled or sending campaign.
func (db *DB) CancelCampaign(ctx context.Context, accountID, id string, at time.Time) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "cancel",
		[]string{store.CampaignDraft, store.CampaignScheduled, store.CampaignSending},
		func(tx *sql.Tx, _ store.Campaign, t time.Time) error {
			_, err := tx.ExecContext(ctx, "UPDATE campaigns SET status = ?, completed_at = ?, updated_at = ? WHERE id = ?",
				store.CampaignCancelled, storeTime(at).UnixMilli(), t.UnixMilli(), id)
			return err
		})
}

// StartCampaign queues the campaign's messages and moves it to sending, in
// one write transaction: SQLite has a single writer, so of two concurrent
// starts the second sees the campaign sending and is refused.
func (db *DB) StartCampaign(ctx context.Context, accountID, id string, at time.Time, compose store.Compose) (store.Campaign, error) {
	return db.changeCampaign(ctx, accountID, id, "send", []string{store.CampaignDraft, store.CampaignScheduled},
		func(tx *sql.Tx, c store.Campaign, t time.Time) error {
			tmpl, err := scanTemplate(tx.QueryRowContext(ctx, "SELECT "+templateColumns+
				" FROM templates WHERE account_id = ? AND slug = ? AND deleted_at IS NULL", accountID, c.Template))
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrTemplateNotFound
			}
			if err != nil {
				return err
			}
			render, err := compose(c, tmpl)
			if err != nil {
				return err
			}
			leads, err := audienceLeads(ctx, tx, accountID, c.Audience)
			if err != nil {
				return err
			}
			started := storeTime(at)
			for _, l := range leads {
				m, err := render(l)
				if err != nil {
					return fmt.Errorf("render message to %s: %w", l.ID, err)
				}
				m.ID, m.CampaignID, m.AccountID, m.LeadID = store.NewMessageID(t), id, accountID, l.ID
				if err := insertMessage(ctx, tx, m, t); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, "UPDATE campaigns SET status = ?, started_at = ?, updated_at = ? WHERE id = ?",
				store.CampaignSending, started.UnixMilli(), t.UnixMilli(), id)
			return err
		})
}

// audienceLeads lists the leads of the audience, oldest first.
func audienceLeads(ctx context.Context, tx *sql.Tx, accountID string, a store.Audience) ([]store.Lead, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+leadColumns+
		" FROM leads WHERE account_id = ? AND status <> 'unsubscribed' ORDER BY created_at, id", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var leads []store.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		if a.Matches(l) {
			leads = append(leads, l)
		}
	}
	return leads, rows.Err()
}

func insertMessage(ctx context.Context, tx *sql.Tx, m store.Message, t time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO campaign_messages (id, campaign_id, account_id, lead_id, to_email, to_name,
		subject, html, text, open_token, unsubscribe_token, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.CampaignID, m.AccountID, m.LeadID, m.To, m.ToName, m.Subject, m.HTML, m.Text,
		m.OpenToken, m.UnsubscribeToken, store.MessageQueued, t.UnixMilli())
	if err != nil {
		return constraint(err)
	}
	for i, l := range m.Links {
		if _, err := tx.ExecContext(ctx, "INSERT INTO campaign_links (token, message_id, position, url) VALUES (?, ?, ?, ?)",
			l.Token, m.ID, i, l.URL); err != nil {
			return constraint(err)
		}
	}
	return nil
}

// DueCampaigns lists scheduled campaigns whose time is at or before now.
func (db *DB) DueCampaigns(ctx context.Context, now time.Time, limit int) ([]store.Campaign, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+campaignColumns+
		" FROM campaigns c WHERE c.status = 'scheduled' AND c.scheduled_at <= ? ORDER BY c.scheduled_at, c.id LIMIT ?",
		now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due campaigns: %w", err)
	}
	defer rows.Close()
	var cs []store.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: due campaigns: %w", err)
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// finishSQL marks sent the sending campaigns (all, or one: ?3) that have
// no queued message left.
const finishSQL = `UPDATE campaigns SET status = 'sent', completed_at = ?1, updated_at = ?2
	WHERE status = 'sending' AND (?3 IS NULL OR id = ?3)
	AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = 'queued')`

// FinishCampaigns marks sent every sending campaign with no queued message.
func (db *DB) FinishCampaigns(ctx context.Context, at time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, finishSQL, storeTime(at).UnixMilli(), now().UnixMilli(), nil)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: finish campaigns: %w", err)
	}
	return int(n), nil
}

// CampaignStats counts the messages and events of a campaign.
func (db *DB) CampaignStats(ctx context.Context, accountID, id string) (store.CampaignStats, error) {
	var s store.CampaignStats
	if _, err := getCampaign(ctx, db.r, accountID, id); err != nil {
		return s, fmt.Errorf("sqlite: campaign stats %q: %w", id, err)
	}
	err := db.r.QueryRowContext(ctx, `SELECT count(*),
		coalesce(sum(status = 'sent'), 0), coalesce(sum(status = 'failed'), 0), coalesce(sum(status = 'queued'), 0),
		coalesce(sum(unsubscribed_at IS NOT NULL), 0)
		FROM campaign_messages WHERE campaign_id = ?`, id).
		Scan(&s.Recipients, &s.Sent, &s.Failed, &s.Pending, &s.Unsubscribes)
	if err == nil {
		err = db.r.QueryRowContext(ctx, `SELECT
			coalesce(sum(kind = 'open'), 0), count(DISTINCT CASE WHEN kind = 'open' THEN message_id END),
			coalesce(sum(kind = 'click'), 0), count(DISTINCT CASE WHEN kind = 'click' THEN message_id END)
			FROM campaign_events WHERE campaign_id = ?`, id).
			Scan(&s.Opens, &s.UniqueOpens, &s.Clicks, &s.UniqueClicks)
	}
	if err != nil {
		return store.CampaignStats{}, fmt.Errorf("sqlite: campaign stats %q: %w", id, err)
	}
	return s, nil
}

func scanMessage(row interface{ Scan(...any) error }) (store.Message, error) {
	var (
		m         store.Message
		sentAt    sql.NullInt64
		createdAt int64
	)
	if err := row.Scan(&m.ID, &m.CampaignID, &m.AccountID, &m.LeadID, &m.To, &m.ToName, &m.Subject, &m.HTML, &m.Text,
		&m.OpenToken, &m.UnsubscribeToken, &m.Status, &m.Error, &m.Attempts, &sentAt, &createdAt); err != nil {
		return store.Message{}, err
	}
	m.SentAt, m.CreatedAt = fromNullMillis(sentAt), fromMillis(createdAt)
	return m, nil
}

// ListMessages returns one page of a campaign's messages in recipient order.
func (db *DB) ListMessages(ctx context.Context, accountID, campaignID string, q store.Query) (store.MessagePage, error) {
	if _, err := getCampaign(ctx, db.r, accountID, campaignID); err != nil {
		return store.MessagePage{}, fmt.Errorf("sqlite: list messages of %q: %w", campaignID, err)
	}
	_, limit, offset, err := page(q)
	if err != nil {
		return store.MessagePage{}, err
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+messageColumns+
		" FROM campaign_messages WHERE campaign_id = ? ORDER BY seq LIMIT ? OFFSET ?", campaignID, limit, offset)
	if err != nil {
		return store.MessagePage{}, fmt.Errorf("sqlite: list messages: %w", err)
	}
	defer rows.Close()
	ms := make([]store.Message, 0, min(limit, 101))
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return store.MessagePage{}, fmt.Errorf("sqlite: list messages: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return store.MessagePage{}, fmt.Errorf("sqlite: list messages: %w", err)
	}
	p := store.MessagePage{Messages: ms}
	if len(ms) > q.Limit {
		p.Messages, p.HasMore = ms[:q.Limit], true
	}
	return p, nil
}

// ClaimMessages leases free queued messages of sending campaigns, in
// recipient order. The write transaction is the lock: processes sharing
// the file take turns, and each sees the leases of those before it.
func (db *DB) ClaimMessages(ctx context.Context, at time.Time, lease time.Duration, limit int) ([]store.Message, error) {
	at = storeTime(at)
	var ms []store.Message
	err := db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE campaign_messages SET not_before = ?, attempts = attempts + 1
			WHERE seq IN (SELECT m.seq FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id
				WHERE m.status = 'queued' AND m.not_before <= ? AND c.status = 'sending'
				ORDER BY m.not_before, m.seq LIMIT ?)
			RETURNING `+messageColumns, at.Add(lease).UnixMilli(), at.UnixMilli(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			ms = append(ms, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim messages: %w", err)
	}
	return ms, nil
}

// CompleteMessage records an attempt's outcome and, when no message of the
// campaign is left queued, marks the campaign sent, in one transaction.
func (db *DB) CompleteMessage(ctx context.Context, id string, o store.Outcome) error {
	at := storeTime(o.At)
	err := db.write(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		switch o.Status {
		case store.MessageSent:
			res, err = tx.ExecContext(ctx, "UPDATE campaign_messages SET status = 'sent', error = '', sent_at = ? WHERE id = ?",
				at.UnixMilli(), id)
		case store.MessageFailed:
			res, err = tx.ExecContext(ctx, "UPDATE campaign_messages SET status = 'failed', error = ? WHERE id = ?", o.Error, id)
		case store.MessageQueued:
			res, err = tx.ExecContext(ctx, "UPDATE campaign_messages SET error = ?, not_before = ? WHERE id = ? AND status = 'queued'",
				o.Error, storeTime(o.Retry).UnixMilli(), id)
		default:
			return fmt.Errorf("unknown outcome %q", o.Status)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound // deleted with its campaign meanwhile
		}
		var campaign string
		if err := tx.QueryRowContext(ctx, "SELECT campaign_id FROM campaign_messages WHERE id = ?", id).Scan(&campaign); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, finishSQL, at.UnixMilli(), now().UnixMilli(), campaign)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: complete message %q: %w", id, err)
	}
	return nil
}

// RecordOpen counts an open of the message whose open token is token.
func (db *DB) RecordOpen(ctx context.Context, token string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO campaign_events (campaign_id, message_id, kind, at)
			SELECT campaign_id, id, 'open', ? FROM campaign_messages WHERE open_token = ?`, storeTime(at).UnixMilli(), token)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: record open: %w", err)
	}
	return nil
}

// RecordClick counts a click on a link and returns where it leads.
func (db *DB) RecordClick(ctx context.Context, token string, at time.Time) (string, error) {
	var url string
	err := db.write(ctx, func(tx *sql.Tx) error {
		var campaign, message string
		err := tx.QueryRowContext(ctx, `SELECT l.url, l.message_id, m.campaign_id FROM campaign_links l
			JOIN campaign_messages m ON m.id = l.message_id WHERE l.token = ?`, token).Scan(&url, &message, &campaign)
		if err != nil {
			return notFound(err)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO campaign_events (campaign_id, message_id, kind, link_token, at) VALUES (?, ?, 'click', ?, ?)",
			campaign, message, token, storeTime(at).UnixMilli())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: record click: %w", err)
	}
	return url, nil
}

// Unsubscribe marks the message's lead unsubscribed and the message as the
// one it unsubscribed through (once).
func (db *DB) Unsubscribe(ctx context.Context, token string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var id, account, lead string
		err := tx.QueryRowContext(ctx, "SELECT id, account_id, lead_id FROM campaign_messages WHERE unsubscribe_token = ?", token).
			Scan(&id, &account, &lead)
		if err != nil {
			return notFound(err)
		}
		t := storeTime(at).UnixMilli()
		if _, err := tx.ExecContext(ctx, "UPDATE leads SET status = 'unsubscribed', updated_at = ? WHERE id = ? AND account_id = ? AND status <> 'unsubscribed'",
			now().UnixMilli(), lead, account); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE campaign_messages SET unsubscribed_at = ? WHERE id = ? AND unsubscribed_at IS NULL", t, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: unsubscribe: %w", err)
	}
	return nil
}
