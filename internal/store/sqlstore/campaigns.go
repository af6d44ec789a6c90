package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/axiomkit/axiom"
)

var (
	// campaignColumns are read with the message counts of each campaign;
	// the table is named rather than aliased, so that an UPDATE can return
	// them.
	campaignColumns = `campaigns.id, campaigns.account_id, campaigns.name, campaigns.template, campaigns.audience, campaigns.status,
		campaigns.scheduled_at, campaigns.started_at, campaigns.completed_at, campaigns.created_at, campaigns.updated_at,
		(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status <> ` + lit(axiom.MessageSuppressed) + `),
		(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = ` + lit(axiom.MessageSent) + `),
		(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = ` + lit(axiom.MessageFailed) + `)`
	getCampaignSQL = "SELECT " + campaignColumns + " FROM campaigns WHERE id = $1 AND account_id = $2"

	// enqueueFree selects the sending campaigns whose audience is still to
	// be enqueued and whose hold has ended at $1.
	enqueueFree = "status = " + lit(axiom.CampaignSending) + " AND NOT enqueued AND (enqueue_until IS NULL OR enqueue_until <= $1)"

	// refusalSQL reads why a change did not apply: the campaign's status,
	// the template it names, or $3 instead, and whether that one is live.
	refusalSQL = `SELECT status, coalesce($3, template), EXISTS (SELECT 1 FROM templates t WHERE t.account_id = campaigns.account_id
		AND t.slug = coalesce($3, campaigns.template) AND t.deleted_at IS NULL)
		FROM campaigns WHERE id = $1 AND account_id = $2`

	// finishSQL marks sent the sending campaigns whose audience is wholly
	// enqueued and of which no message is still queued; finishOneSQL only
	// campaign $2.
	finishSQL = `UPDATE campaigns SET status = ` + lit(axiom.OpFinish.To()) + `, completed_at = $1, updated_at = $1
		WHERE status IN ` + litList(axiom.OpFinish.From()) + ` AND enqueued
		AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = ` + lit(axiom.MessageQueued) + `)`
	finishOneSQL = finishSQL + " AND id = $2"
)

// insertCampaignSQL stores a campaign as it is; CreateCampaign adds the
// condition that its template exists.
const insertCampaignSQL = `INSERT INTO campaigns (id, account_id, name, name_sort, template, audience, status,
	scheduled_at, started_at, completed_at, created_at, updated_at)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12`

func (s *Store) campaignArgs(c axiom.Campaign, audience string) []any {
	return []any{c.ID, c.AccountID, c.Name, axiom.SortKey(c.Name), c.Template, audience, string(c.Status),
		s.nullArg(c.ScheduledAt), s.nullArg(c.StartedAt), s.nullArg(c.CompletedAt), s.arg(c.CreatedAt), s.arg(c.UpdatedAt)}
}

// audienceJSON is how an audience is stored: never null lists.
type audienceJSON struct {
	Tags       []string `json:"tags"`
	Types      []string `json:"types"`
	Statuses   []string `json:"statuses"`
	Properties []string `json:"properties,omitempty"`
	Relations  []string `json:"relations,omitempty"`
}

func encodeAudience(a axiom.Audience) (string, error) {
	a = a.Normalized()
	b, err := json.Marshal(audienceJSON{Tags: a.Tags, Types: a.Types, Statuses: a.Statuses, Properties: a.Properties, Relations: a.Relations})
	return string(b), err
}

func scanCampaign(row Scanner, extra ...any) (axiom.Campaign, error) {
	var v struct {
		c                             axiom.Campaign
		audience                      []byte
		scheduled, started, completed Time
		created, updated              Time
	}
	c := &v.c
	dest := append([]any{&c.ID, &c.AccountID, &c.Name, &c.Template, &v.audience, &c.Status,
		&v.scheduled, &v.started, &v.completed, &v.created, &v.updated,
		&c.Counts.Recipients, &c.Counts.Sent, &c.Counts.Failed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return axiom.Campaign{}, err
	}
	var a audienceJSON
	if err := json.Unmarshal(v.audience, &a); err != nil {
		return axiom.Campaign{}, fmt.Errorf("campaign %s audience: %w", c.ID, err)
	}
	c.Audience = axiom.Audience{Tags: a.Tags, Types: a.Types, Statuses: a.Statuses, Properties: a.Properties, Relations: a.Relations}.Normalized()
	c.ScheduledAt, c.StartedAt, c.CompletedAt = v.scheduled.Ptr(), v.started.Ptr(), v.completed.Ptr()
	c.CreatedAt, c.UpdatedAt = v.created.Time, v.updated.Time
	return *c, nil
}

// CreateCampaign stores c as it is, provided the account has its template.
func (s *Store) CreateCampaign(ctx context.Context, c axiom.Campaign) error {
	audience, err := encodeAudience(c.Audience)
	if err != nil {
		return s.errorf(err, "create campaign")
	}
	err = s.write(ctx, false, func(conn Conn) error {
		n, err := affected(conn.ExecContext(ctx, insertCampaignSQL+
			" WHERE EXISTS (SELECT 1 FROM templates WHERE account_id = $2 AND slug = $5 AND deleted_at IS NULL)",
			s.campaignArgs(c, audience)...))
		if err == nil && n == 0 {
			err = axiom.CampaignTemplateNotFound(c.Template)
		}
		return err
	})
	switch s.violation(err) {
	case Unique:
		err = axiom.Errorf(axiom.CodeDuplicateEntry, "A campaign with id '%s' already exists", c.ID)
	case ForeignKey:
		err = accountNotFound(c.AccountID)
	}
	return s.errorf(err, "create campaign")
}

// GetCampaign returns the campaign id of accountID with its counts.
func (s *Store) GetCampaign(ctx context.Context, accountID, id string) (axiom.Campaign, error) {
	c, err := scanCampaign(s.read().QueryRowContext(ctx, getCampaignSQL, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.CampaignNotFound(id)
	}
	if err != nil {
		return axiom.Campaign{}, s.errorf(err, "get campaign %q", id)
	}
	return c, nil
}

// ListCampaigns returns one page of the campaigns of accountID, those in
// status only if it is set, in q's order, ties broken by id.
func (s *Store) ListCampaigns(ctx context.Context, accountID string, q axiom.Query, status axiom.CampaignStatus) (axiom.Page[axiom.Campaign], error) {
	o, err := order(q, campaignSorts)
	if err != nil {
		return axiom.Page[axiom.Campaign]{}, s.errorf(err, "list campaigns")
	}
	query := "SELECT " + campaignColumns + " FROM campaigns WHERE account_id = $1"
	args := []any{accountID}
	if status != "" {
		query += " AND status = $2"
		args = append(args, string(status))
	}
	query += fmt.Sprintf("%s LIMIT $%d OFFSET $%d", o.By("id"), len(args)+1, len(args)+2)
	p, err := listPage(ctx, s, q, func(row Scanner) (axiom.Campaign, error) { return scanCampaign(row) }, query, args...)
	return p, s.errorf(err, "list campaigns")
}

// ChangeCampaign applies op to the campaign id of accountID in one
// statement, which changes it only if its status is one of op.From(), and
// finds out why when it did not. A campaign is only pointed at, or
// started with, a live template.
func (s *Store) ChangeCampaign(ctx context.Context, accountID, id string, op axiom.CampaignOp, ch axiom.CampaignChange) (axiom.Campaign, error) {
	from := op.From()
	if len(from) == 0 {
		return axiom.Campaign{}, s.errorf(errors.New("no such operation"), "%s campaign %q", op, id)
	}
	args := []any{id, accountID}
	var set []string
	add := func(col string, v any) {
		args = append(args, v)
		set = append(set, col+" = $"+strconv.Itoa(len(args)))
	}
	if to := op.To(); to != "" {
		add("status", string(to))
	}
	if ch.Name != nil {
		add("name", *ch.Name)
		add("name_sort", axiom.SortKey(*ch.Name))
	}
	slug, template := "campaigns.template", any(nil)
	if ch.Template != nil {
		add("template", *ch.Template)
		slug, template = "$"+strconv.Itoa(len(args)), *ch.Template
	}
	if ch.Audience != nil {
		a, err := encodeAudience(*ch.Audience)
		if err != nil {
			return axiom.Campaign{}, s.errorf(err, "%s campaign %q", op, id)
		}
		add("audience", a)
	}
	for _, f := range []struct {
		col string
		at  *time.Time
	}{{"scheduled_at", ch.ScheduledAt}, {"started_at", ch.StartedAt}, {"completed_at", ch.CompletedAt}} {
		if f.at != nil {
			add(f.col, s.arg(*f.at))
		}
	}
	if !ch.UpdatedAt.IsZero() {
		add("updated_at", s.arg(ch.UpdatedAt))
	}
	if ch.EnqueueUntil != nil {
		set = append(set, "enqueued = false", "enqueue_cursor = ''")
		add("enqueue_until", s.arg(*ch.EnqueueUntil))
	}
	if len(set) == 0 {
		set = append(set, "status = status")
	}
	query := "UPDATE campaigns SET " + strings.Join(set, ", ") +
		" WHERE id = $1 AND account_id = $2 AND status IN " + litList(from)
	needTemplate := ch.Template != nil || op == axiom.OpSend
	if needTemplate {
		query += " AND EXISTS (SELECT 1 FROM templates t WHERE t.account_id = campaigns.account_id AND t.slug = " + slug +
			" AND t.deleted_at IS NULL)"
	}
	query += " RETURNING " + campaignColumns

	var c axiom.Campaign
	err := s.write(ctx, op == axiom.OpSend, func(conn Conn) error {
		return s.refused(ctx, conn, id, accountID, op, needTemplate, template, func() error {
			var err error
			c, err = scanCampaign(conn.QueryRowContext(ctx, query, args...))
			if err == nil && op == axiom.OpSend {
				// The one copy of the template the campaign sends: editing or
				// deleting the template later changes no queued message.
				_, err = conn.ExecContext(ctx, snapshotSQL, id)
			}
			return err
		})
	})
	if err != nil {
		return axiom.Campaign{}, s.errorf(err, "%s campaign %q", op, id)
	}
	return c, nil
}

// snapshotSQL copies the template of campaign $1, as it is now, into the
// campaign's snapshot.
const snapshotSQL = `INSERT INTO campaign_content (campaign_id, subject, content)
	SELECT c.id, t.subject, t.content FROM campaigns c
	JOIN templates t ON t.account_id = c.account_id AND t.slug = c.template AND t.deleted_at IS NULL WHERE c.id = $1
	ON CONFLICT (campaign_id) DO UPDATE SET subject = excluded.subject, content = excluded.content`

// refused runs change, a statement of op on campaign id that changes
// nothing (sql.ErrNoRows) unless the campaign allows op, and says why it
// did not: the campaign is missing, its status refuses op, or the
// template it needs is gone. A change that raced with another is run again.
func (s *Store) refused(ctx context.Context, c Conn, id, accountID string, op axiom.CampaignOp, needTemplate bool, template any, change func() error) error {
	for attempt := 0; ; attempt++ {
		err := change()
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var (
			status axiom.CampaignStatus
			slug   string
			live   bool
		)
		err = c.QueryRowContext(ctx, refusalSQL, id, accountID, template).Scan(&status, &slug, &live)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return axiom.CampaignNotFound(id)
		case err != nil:
			return err
		case !status.Allows(op):
			return axiom.CampaignStateError(id, status, op)
		case needTemplate && !live:
			return axiom.CampaignTemplateNotFound(slug)
		case attempt == 3:
			return fmt.Errorf("the campaign keeps changing")
		}
	}
}

// DeleteCampaign deletes the campaign id of accountID if its status allows
// it, with its messages, links and events (by cascade).
func (s *Store) DeleteCampaign(ctx context.Context, accountID, id string) error {
	err := s.write(ctx, false, func(c Conn) error {
		return s.refused(ctx, c, id, accountID, axiom.OpDelete, false, nil, func() error {
			n, err := affected(c.ExecContext(ctx, "DELETE FROM campaigns WHERE id = $1 AND account_id = $2 AND status IN "+
				litList(axiom.OpDelete.From()), id, accountID))
			if err == nil && n == 0 {
				err = sql.ErrNoRows
			}
			return err
		})
	})
	return s.errorf(err, "delete campaign %q", id)
}

// DueCampaigns lists the scheduled campaigns whose time is at or before now.
func (s *Store) DueCampaigns(ctx context.Context, now time.Time, limit int) ([]axiom.Campaign, error) {
	rows, err := s.read().QueryContext(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE status = "+lit(axiom.CampaignScheduled)+
		" AND scheduled_at <= $1 ORDER BY scheduled_at, id LIMIT $2", s.arg(now), limit)
	cs, err := collect(rows, err, 0, func(row Scanner) (axiom.Campaign, error) { return scanCampaign(row) })
	return cs, s.errorf(err, "due campaigns")
}

const (
	// messageInsertColumns are those a queued message, or the record of a
	// lead left out, is inserted with.
	messageInsertColumns = "id, campaign_id, account_id, lead_id, to_email, to_name, subject, html, text, merge_values, open_token, unsubscribe_token, status, error, created_at"
	// messagesPerInsert and linksPerInsert bound the rows of one INSERT,
	// well within every database's limit on arguments.
	messagesPerInsert, linksPerInsert = 100, 500
)

// EnqueueMessages queues ms for the sending campaign that is enqueueing,
// in one transaction that first takes the campaign's row: a cancel waits
// for it, or it sees the cancel. A message of status MessageSuppressed is
// kept as the record of a lead left out, never sent. A lead that already
// has a message in the campaign is left out (UNIQUE (campaign_id, lead_id)).
func (s *Store) EnqueueMessages(ctx context.Context, campaignID string, ms []axiom.Message, cursor string, holdUntil time.Time) error {
	err := s.write(ctx, true, func(c Conn) error {
		var accountID string
		err := c.QueryRowContext(ctx, "UPDATE campaigns SET enqueue_cursor = $2, enqueue_until = $3"+
			" WHERE id = $1 AND status = "+lit(axiom.CampaignSending)+" AND NOT enqueued RETURNING account_id",
			campaignID, cursor, s.arg(holdUntil)).Scan(&accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.Errorf(axiom.CodeInvalidState, "Campaign '%s' is not enqueueing its audience", campaignID)
		}
		if err != nil {
			return err
		}
		for chunk := range slices.Chunk(ms, messagesPerInsert) {
			args := make([]any, 0, len(chunk)*15)
			for _, m := range chunk {
				merge, err := encodeMerge(m.Merge)
				if err != nil {
					return err
				}
				created := m.CreatedAt
				if created.IsZero() {
					created = time.Now()
				}
				status, reason := axiom.MessageQueued, ""
				if m.Status == axiom.MessageSuppressed {
					status, reason = m.Status, m.Error
				}
				args = append(args, m.ID, campaignID, accountID, m.LeadID, m.To, m.ToName, m.Subject, m.HTML, m.Text, merge,
					m.OpenToken, m.UnsubscribeToken, string(status), reason, s.arg(created))
			}
			// Built for each batch, these statements are rebound but not kept.
			if _, err := c.q.ExecContext(ctx, c.s.rebind("INSERT INTO campaign_messages ("+messageInsertColumns+") VALUES "+
				values(len(chunk), 15)+" ON CONFLICT (campaign_id, lead_id) DO NOTHING"), args...); err != nil {
				return err
			}
		}
		return nil
	})
	return s.errorf(err, "enqueue messages of campaign %q", campaignID)
}

// SaveCampaignLinks stores urls, the targets of the tracked links of the
// campaign's snapshot, by position: once per campaign, whatever its
// audience. Saving them again changes nothing.
func (s *Store) SaveCampaignLinks(ctx context.Context, campaignID string, urls []string) error {
	if len(urls) == 0 {
		return nil
	}
	var have int
	if err := s.read().QueryRowContext(ctx, "SELECT count(*) FROM campaign_link_targets WHERE campaign_id = $1", campaignID).Scan(&have); err != nil {
		return s.errorf(err, "links of campaign %q", campaignID)
	}
	if have == len(urls) {
		return nil
	}
	args := make([]any, 0, 3*len(urls))
	for i, u := range urls {
		args = append(args, campaignID, i, u)
	}
	err := s.write(ctx, true, func(c Conn) error {
		for chunk := range slices.Chunk(args, linksPerInsert*3) {
			// Built for each size of chunk, the statement is rebound but not kept.
			if _, err := c.q.ExecContext(ctx, c.s.rebind("INSERT INTO campaign_link_targets (campaign_id, position, url) VALUES "+
				values(len(chunk)/3, 3)+" ON CONFLICT (campaign_id, position) DO NOTHING"), chunk...); err != nil {
				return err
			}
		}
		return nil
	})
	return s.errorf(err, "save links of campaign %q", campaignID)
}

// CampaignLinks returns the targets of the tracked links of the account's
// campaign, by position (none before it starts, or without links).
func (s *Store) CampaignLinks(ctx context.Context, accountID, campaignID string) ([]string, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT k.url FROM campaign_link_targets k JOIN campaigns c ON c.id = k.campaign_id
		WHERE k.campaign_id = $1 AND c.account_id = $2 ORDER BY k.position`, campaignID, accountID)
	urls, err := collect(rows, err, 0, func(row Scanner) (string, error) {
		var u string
		return u, row.Scan(&u)
	})
	return urls, s.errorf(err, "links of campaign %q", campaignID)
}

// FinishEnqueue marks the campaign's audience wholly enqueued, which lets
// it finish once its last message is sent.
func (s *Store) FinishEnqueue(ctx context.Context, campaignID string) (axiom.Campaign, error) {
	var c axiom.Campaign
	err := s.write(ctx, false, func(conn Conn) error {
		var err error
		c, err = scanCampaign(conn.QueryRowContext(ctx, "UPDATE campaigns SET enqueued = true, enqueue_until = NULL WHERE id = $1 RETURNING "+campaignColumns, campaignID))
		if errors.Is(err, sql.ErrNoRows) {
			err = axiom.CampaignNotFound(campaignID)
		}
		return err
	})
	return c, s.errorf(err, "finish enqueueing campaign %q", campaignID)
}

// ClaimEnqueue takes, until holdUntil, the hold of a sending campaign whose
// enqueueing is unfinished and whose holder let its hold end by now. The
// candidate is picked under a lock others skip, so that processes claiming
// at once take different campaigns.
func (s *Store) ClaimEnqueue(ctx context.Context, now, holdUntil time.Time) (axiom.Campaign, string, bool, error) {
	var (
		c      axiom.Campaign
		cursor string
		ok     bool
	)
	err := s.write(ctx, false, func(conn Conn) error {
		var err error
		c, err = scanCampaign(conn.QueryRowContext(ctx, s.sql.claimEnqueue, s.arg(now), s.arg(holdUntil)), &cursor)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil || !ok {
		return axiom.Campaign{}, "", false, s.errorf(err, "claim enqueue")
	}
	return c, cursor, true, nil
}

// FinishCampaigns marks sent every sending campaign wholly enqueued of
// which no message is queued.
func (s *Store) FinishCampaigns(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, false, func(c Conn) error {
		var err error
		n, err = affected(c.ExecContext(ctx, finishSQL, s.arg(now)))
		return err
	})
	return int(n), s.errorf(err, "finish campaigns")
}

// values is the VALUES list of n rows of cols placeholders each.
func values(n, cols int) string {
	var b strings.Builder
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(r*cols+c+1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// SendUsage counts what a sending quota weighs: the messages of the
// account's campaigns started since since (suppressed records aside), when
// the oldest of those campaigns started, and the account's leads, which
// bound any audience.
func (s *Store) SendUsage(ctx context.Context, accountID string, since time.Time) (used int, oldest time.Time, leads int, err error) {
	var first Time
	err = s.read().QueryRowContext(ctx, `SELECT count(*), min(c.started_at) FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id
		WHERE c.account_id = $1 AND c.started_at >= $2 AND m.status <> `+lit(axiom.MessageSuppressed), accountID, s.arg(since)).Scan(&used, &first)
	if err == nil {
		err = s.read().QueryRowContext(ctx, "SELECT count(*) FROM leads WHERE account_id = $1", accountID).Scan(&leads)
	}
	if err != nil {
		return 0, time.Time{}, 0, s.errorf(err, "send usage of %q", accountID)
	}
	return used, first.Time, leads, nil
}

// CompactMessages drops the bodies (HTML and text, or the merge values they
// are rendered from, and the campaign's snapshot of its template) of the messages of one
// campaign finished before before, at most limit at a time, each step its
// own short write; once none is left the campaign is marked compacted and
// not read again. Statistics, links and the messages' metadata stay. It
// returns how many bodies it dropped, 0 when no campaign is due.
func (s *Store) CompactMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	var id string
	err := s.read().QueryRowContext(ctx, "SELECT id FROM campaigns WHERE status IN ("+lit(axiom.CampaignSent)+", "+lit(axiom.CampaignCancelled)+
		") AND completed_at < $1 AND NOT compacted ORDER BY completed_at LIMIT 1", s.arg(before)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.errorf(err, "compact messages")
	}
	var total int64
	for {
		var n int64
		err := s.write(ctx, false, func(c Conn) error {
			var err error
			n, err = affected(c.ExecContext(ctx, `UPDATE campaign_messages SET html = '', text = '', merge_values = NULL
				WHERE seq IN (SELECT seq FROM campaign_messages WHERE campaign_id = $1
					AND (html <> '' OR text <> '' OR merge_values IS NOT NULL) LIMIT $2)`, id, limit))
			if err == nil && n == 0 {
				_, err = c.ExecContext(ctx, "UPDATE campaigns SET compacted = true WHERE id = $1", id)
			}
			if err == nil && n == 0 {
				_, err = c.ExecContext(ctx, "DELETE FROM campaign_content WHERE campaign_id = $1", id)
			}
			return err
		})
		if err != nil {
			return int(total), s.errorf(err, "compact messages of %q", id)
		}
		total += n
		if n == 0 {
			return int(total), nil
		}
	}
}
