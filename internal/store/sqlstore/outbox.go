package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/axiomkit/axiom"
)

const messageColumns = `id, campaign_id, account_id, lead_id, to_email, to_name, subject, html, text,
	open_token, unsubscribe_token, status, error, attempts, sent_at, created_at`

// The outcomes of an attempt, each returning the message's campaign. A
// retry only applies to a message still queued.
var (
	messageSentSQL = "UPDATE campaign_messages SET status = " + lit(axiom.MessageSent) +
		", error = '', sent_at = $1 WHERE id = $2 RETURNING campaign_id"
	messageFailedSQL = "UPDATE campaign_messages SET status = " + lit(axiom.MessageFailed) +
		", error = $1 WHERE id = $2 RETURNING campaign_id"
	messageRetrySQL = "UPDATE campaign_messages SET error = $1, not_before = $2 WHERE id = $3 AND status = " +
		lit(axiom.MessageQueued) + " RETURNING campaign_id"
)

func scanMessage(row Scanner) (axiom.Message, error) {
	var v struct {
		m             axiom.Message
		sent, created Time
	}
	m := &v.m
	if err := row.Scan(&m.ID, &m.CampaignID, &m.AccountID, &m.LeadID, &m.To, &m.ToName, &m.Subject, &m.HTML, &m.Text,
		&m.OpenToken, &m.UnsubscribeToken, &m.Status, &m.Error, &m.Attempts, &v.sent, &v.created); err != nil {
		return axiom.Message{}, err
	}
	m.SentAt, m.CreatedAt = v.sent.Ptr(), v.created.Time
	return *m, nil
}

// invalidLink is the error of a tracking token no message or link has.
func invalidLink() *axiom.Error { return axiom.Errorf(axiom.CodeNotFound, "This link is not valid") }

// CampaignStats counts the messages and events of a campaign, in one query
// that finds no row when the account has no such campaign.
func (s *Store) CampaignStats(ctx context.Context, accountID, id string) (axiom.CampaignStats, error) {
	var st axiom.CampaignStats
	when := func(col, v string) string { return "CASE WHEN " + col + " = " + lit(v) + " THEN 1 END" }
	err := s.read().QueryRowContext(ctx, `SELECT msg.n, msg.sent, msg.failed, msg.queued, msg.unsubscribed,
			ev.opens, ev.unique_opens, ev.clicks, ev.unique_clicks
		FROM campaigns c,
			(SELECT count(*) AS n, count(`+when("status", string(axiom.MessageSent))+`) AS sent,
				count(`+when("status", string(axiom.MessageFailed))+`) AS failed, count(`+when("status", string(axiom.MessageQueued))+`) AS queued,
				count(unsubscribed_at) AS unsubscribed
				FROM campaign_messages WHERE campaign_id = $1) msg,
			(SELECT count(`+when("kind", "open")+`) AS opens, count(DISTINCT CASE WHEN kind = 'open' THEN message_id END) AS unique_opens,
				count(`+when("kind", "click")+`) AS clicks, count(DISTINCT CASE WHEN kind = 'click' THEN message_id END) AS unique_clicks
				FROM campaign_events WHERE campaign_id = $1) ev
		WHERE c.id = $1 AND c.account_id = $2`, id, accountID).
		Scan(&st.Recipients, &st.Sent, &st.Failed, &st.Pending, &st.Unsubscribes, &st.Opens, &st.UniqueOpens, &st.Clicks, &st.UniqueClicks)
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.CampaignNotFound(id)
	}
	if err != nil {
		return axiom.CampaignStats{}, s.errorf(err, "campaign stats %q", id)
	}
	return st, nil
}

// ListMessages returns one page of a campaign's messages in the order they
// were queued.
func (s *Store) ListMessages(ctx context.Context, accountID, campaignID string, q axiom.Query) (axiom.Page[axiom.Message], error) {
	if err := checkPage(q); err != nil {
		return axiom.Page[axiom.Message]{}, s.errorf(err, "list messages of %q", campaignID)
	}
	var one int
	err := s.read().QueryRowContext(ctx, "SELECT 1 FROM campaigns WHERE id = $1 AND account_id = $2", campaignID, accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.CampaignNotFound(campaignID)
	}
	if err != nil {
		return axiom.Page[axiom.Message]{}, s.errorf(err, "list messages of %q", campaignID)
	}
	p, err := listPage(ctx, s, q, scanMessage, "SELECT "+messageColumns+
		" FROM campaign_messages WHERE campaign_id = $1 ORDER BY seq LIMIT $2 OFFSET $3", campaignID)
	return p, s.errorf(err, "list messages of %q", campaignID)
}

// ClaimMessages leases up to limit free queued messages of sending
// campaigns until now+lease, oldest first, counting an attempt for each.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]axiom.Message, error) {
	now = axiom.StoreTime(now)
	var ms []axiom.Message
	err := s.write(ctx, false, func(c Conn) error {
		rows, err := c.QueryContext(ctx, s.sql.claimMessages, s.arg(now.Add(lease)), s.arg(now), limit)
		ms, err = collect(rows, err, limit, scanMessage)
		return err
	})
	if err != nil {
		return nil, s.errorf(err, "claim messages")
	}
	return ms, nil
}

// CompleteMessage records the outcome of an attempt and, in the same
// transaction, marks the campaign sent if this was its last queued
// message and its audience is wholly enqueued.
func (s *Store) CompleteMessage(ctx context.Context, id string, o axiom.Outcome) error {
	at := s.arg(o.At)
	err := s.write(ctx, true, func(c Conn) error {
		var row *sql.Row
		switch o.Status {
		case axiom.MessageSent:
			row = c.QueryRowContext(ctx, messageSentSQL, at, id)
		case axiom.MessageFailed:
			row = c.QueryRowContext(ctx, messageFailedSQL, o.Error, id)
		case axiom.MessageQueued:
			row = c.QueryRowContext(ctx, messageRetrySQL, o.Error, s.arg(o.Retry), id)
		default:
			return fmt.Errorf("unknown outcome %q", o.Status)
		}
		var campaign string
		if err := row.Scan(&campaign); errors.Is(err, sql.ErrNoRows) {
			// Deleted with its campaign meanwhile.
			return axiom.Errorf(axiom.CodeNotFound, "No message with id '%s'", id)
		} else if err != nil {
			return err
		}
		_, err := c.ExecContext(ctx, finishOneSQL, at, campaign)
		return err
	})
	return s.errorf(err, "complete message %q", id)
}

// RecordOpen counts an open of the message whose open token is token.
func (s *Store) RecordOpen(ctx context.Context, token string, at time.Time) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, `INSERT INTO campaign_events (campaign_id, message_id, kind, at)
			SELECT campaign_id, id, 'open', $1 FROM campaign_messages WHERE open_token = $2`, s.arg(at), token))
		if err == nil && n == 0 {
			err = invalidLink()
		}
		return err
	})
	return s.errorf(err, "record open")
}

// RecordClick counts a click on the link whose token is token and returns
// the link's URL, in one statement.
func (s *Store) RecordClick(ctx context.Context, token string, at time.Time) (string, error) {
	var url string
	err := s.write(ctx, false, func(c Conn) error {
		err := c.QueryRowContext(ctx, `INSERT INTO campaign_events (campaign_id, message_id, kind, link_token, at)
			SELECT m.campaign_id, l.message_id, 'click', l.token, $2
			FROM campaign_links l JOIN campaign_messages m ON m.id = l.message_id WHERE l.token = $1
			RETURNING (SELECT url FROM campaign_links WHERE token = campaign_events.link_token)`, token, s.arg(at)).Scan(&url)
		if errors.Is(err, sql.ErrNoRows) {
			err = invalidLink()
		}
		return err
	})
	if err != nil {
		return "", s.errorf(err, "record click")
	}
	return url, nil
}

// Unsubscribe marks the message's lead unsubscribed and the message as the
// one it unsubscribed through, once; the lead may have been deleted since.
func (s *Store) Unsubscribe(ctx context.Context, token string, at time.Time) error {
	err := s.write(ctx, true, func(c Conn) error {
		var account, lead string
		err := c.QueryRowContext(ctx, "UPDATE campaign_messages SET unsubscribed_at = coalesce(unsubscribed_at, $1)"+
			" WHERE unsubscribe_token = $2 RETURNING account_id, lead_id", s.arg(at), token).Scan(&account, &lead)
		if errors.Is(err, sql.ErrNoRows) {
			return invalidLink()
		}
		if err != nil {
			return err
		}
		unsubscribed := lit(axiom.LeadStatusUnsubscribed)
		_, err = c.ExecContext(ctx, "UPDATE leads SET status = "+unsubscribed+", updated_at = $1"+
			" WHERE id = $2 AND account_id = $3 AND status <> "+unsubscribed, s.arg(at), lead, account)
		return err
	})
	return s.errorf(err, "unsubscribe")
}
