package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/axiomkit/axiom"
)

const messageColumns = `id, campaign_id, account_id, lead_id, to_email, to_name, subject, html, text, merge_values,
	open_token, unsubscribe_token, status, error, attempts, sent_at, created_at`

// messageSummaryColumns are messageColumns without the body: a listing
// reads neither html nor text nor the merge values.
const messageSummaryColumns = `id, campaign_id, account_id, lead_id, to_email, to_name, subject, '', '', NULL,
	open_token, unsubscribe_token, status, error, attempts, sent_at, created_at`

// The outcomes of an attempt, each returning the message's campaign and
// account. Only the worker that holds the claim ($2) records one, and only
// while the message is queued: a claim that passed to another worker when
// its holder stopped renewing it is that worker's to complete. A retry
// frees the message until its retry time.
var (
	heldSQL        = " WHERE id = $1 AND claimed_by = $2 AND status = " + lit(axiom.MessageQueued) + " RETURNING campaign_id, account_id"
	messageSentSQL = "UPDATE campaign_messages SET status = " + lit(axiom.MessageSent) +
		", error = '', sent_at = $3" + heldSQL
	messageFailedSQL = "UPDATE campaign_messages SET status = " + lit(axiom.MessageFailed) +
		", error = $3, bounced = $4" + heldSQL
	messageRetrySQL      = "UPDATE campaign_messages SET error = $3, not_before = $4, claimed_by = NULL" + heldSQL
	messageSuppressedSQL = "UPDATE campaign_messages SET status = " + lit(axiom.MessageSuppressed) + ", error = $3" + heldSQL
)

func scanMessage(row Scanner) (axiom.Message, error) {
	var v struct {
		m             axiom.Message
		merge         sql.NullString
		sent, created Time
	}
	m := &v.m
	if err := row.Scan(&m.ID, &m.CampaignID, &m.AccountID, &m.LeadID, &m.To, &m.ToName, &m.Subject, &m.HTML, &m.Text, &v.merge,
		&m.OpenToken, &m.UnsubscribeToken, &m.Status, &m.Error, &m.Attempts, &v.sent, &v.created); err != nil {
		return axiom.Message{}, err
	}
	if v.merge.Valid {
		if err := json.Unmarshal([]byte(v.merge.String), &m.Merge); err != nil {
			return axiom.Message{}, fmt.Errorf("merge values of message %s: %w", m.ID, err)
		}
		if m.Merge == nil {
			m.Merge = map[string]string{}
		}
	}
	m.SentAt, m.CreatedAt = v.sent.Ptr(), v.created.Time
	return *m, nil
}

// invalidLink is the error of a tracking token no message or link has.
func invalidLink() *axiom.Error { return axiom.Errorf(axiom.CodeNotFound, "This link is not valid") }

// CampaignStats counts the messages and events of a campaign, in one query
// that finds no row when the account has no such campaign; campaign
// analytics read the same columns (campaignStatsColumns).
func (s *Store) CampaignStats(ctx context.Context, accountID, id string) (axiom.CampaignStats, error) {
	var st axiom.CampaignStats
	err := s.read().QueryRowContext(ctx, "SELECT "+strings.Join(campaignStatsColumns("c"), ", ")+
		" FROM campaigns c WHERE c.id = $1 AND c.account_id = $2", id, accountID).Scan(statsDest(&st)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.CampaignNotFound(id)
	}
	if err != nil {
		return axiom.CampaignStats{}, s.errorf(err, "campaign stats %q", id)
	}
	return st, nil
}

// ListMessages returns one page of a campaign's messages in the order they
// were queued, without their bodies (HTML and Text are empty); erased
// messages are not listed.
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
	p, err := listPage(ctx, s, q, scanMessage, "SELECT "+messageSummaryColumns+
		" FROM campaign_messages WHERE campaign_id = $1 AND erased_at IS NULL ORDER BY seq LIMIT $2 OFFSET $3", campaignID)
	return p, s.errorf(err, "list messages of %q", campaignID)
}

// encodeMerge is the merge_values of a message: NULL for one whose body is
// stored rendered.
func encodeMerge(m map[string]string) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// CampaignContent returns the snapshot of the template the account's
// campaign sends (Subject and Content), taken when it started.
func (s *Store) CampaignContent(ctx context.Context, accountID, campaignID string) (axiom.Template, error) {
	var t axiom.Template
	err := s.read().QueryRowContext(ctx, `SELECT c.template, k.subject, k.content FROM campaign_content k
		JOIN campaigns c ON c.id = k.campaign_id WHERE k.campaign_id = $1 AND c.account_id = $2`, campaignID, accountID).
		Scan(&t.Slug, &t.Subject, &t.Content)
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.Errorf(axiom.CodeNotFound, "Campaign '%s' has no snapshot of its template", campaignID)
	}
	if err != nil {
		return axiom.Template{}, s.errorf(err, "content of campaign %q", campaignID)
	}
	return t, nil
}

// GetMessage returns one message of the account's campaign (not erased), with its body
// as stored (empty when it is rendered at send and read time from its
// merge values) and, for a message queued when each link had a token of
// its own, those tokens.
func (s *Store) GetMessage(ctx context.Context, accountID, campaignID, id string) (axiom.Message, error) {
	m, err := scanMessage(s.read().QueryRowContext(ctx, "SELECT "+messageColumns+
		" FROM campaign_messages WHERE id = $1 AND campaign_id = $2 AND account_id = $3 AND erased_at IS NULL", id, campaignID, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.MessageNotFound(campaignID, id)
	}
	if err != nil {
		return axiom.Message{}, s.errorf(err, "get message %q", id)
	}
	// A message queued when each link had a token of its own: its stored
	// body may hold them.
	rows, err := s.read().QueryContext(ctx, "SELECT token FROM legacy_message_links WHERE message_id = $1 ORDER BY position", id)
	m.LegacyLinkTokens, err = collect(rows, err, 0, func(row Scanner) (string, error) {
		var tok string
		return tok, row.Scan(&tok)
	})
	if len(m.LegacyLinkTokens) == 0 {
		m.LegacyLinkTokens = nil
	}
	return m, s.errorf(err, "links of message %q", id)
}

// ClaimMessages claims for worker up to limit free queued messages of
// sending campaigns, until now+ttl, counting an attempt for each. Accounts
// take turns: each gets an equal share of limit (at least one), from a
// random first account, and the messages come back interleaved, so that
// one account's backlog delays another's next message by no more than a
// claim.
func (s *Store) ClaimMessages(ctx context.Context, worker string, now time.Time, ttl time.Duration, limit int) ([]axiom.Message, error) {
	now = axiom.StoreTime(now)
	var ms []axiom.Message
	err := s.write(ctx, false, func(c Conn) error {
		ms = ms[:0]
		type sending struct{ account, campaign string }
		rows, err := c.QueryContext(ctx, "SELECT account_id, id FROM campaigns WHERE status = "+lit(axiom.CampaignSending)+
			" AND enqueued ORDER BY account_id, id")
		camps, err := collect(rows, err, 8, func(r Scanner) (sending, error) {
			var v sending
			return v, r.Scan(&v.account, &v.campaign)
		})
		if err != nil || len(camps) == 0 {
			return err
		}
		var accounts [][]string // each account's sending campaigns
		for i, sc := range camps {
			if i == 0 || sc.account != camps[i-1].account {
				accounts = append(accounts, nil)
			}
			accounts[len(accounts)-1] = append(accounts[len(accounts)-1], sc.campaign)
		}
		share := max(1, (limit+len(accounts)-1)/len(accounts))
		first := rand.IntN(len(accounts))
		byAccount := make([][]axiom.Message, len(accounts))
		// The first round gives each account its share; the second, what an
		// account short of messages left, to the others in turn.
		for _, round := range []int{share, limit} {
			for i := range accounts {
				for _, id := range accounts[(first+i)%len(accounts)] {
					want := min(round-len(byAccount[i]), limit-claimed(byAccount))
					if want <= 0 {
						break
					}
					rows, err := c.QueryContext(ctx, s.sql.claimMessages, s.arg(now.Add(ttl)), s.arg(now), want, worker, id)
					part, err := collect(rows, err, want, scanMessage)
					if err != nil {
						return err
					}
					byAccount[i] = append(byAccount[i], part...)
				}
			}
			if claimed(byAccount) >= limit {
				break
			}
		}
		// Interleaved: the first of each account, then the second…
		for k := 0; len(ms) < claimed(byAccount); k++ {
			for _, got := range byAccount {
				if k < len(got) {
					ms = append(ms, got[k])
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.errorf(err, "claim messages")
	}
	return ms, nil
}

func claimed(byAccount [][]axiom.Message) int {
	n := 0
	for _, got := range byAccount {
		n += len(got)
	}
	return n
}

// RenewClaims extends until until the claims worker holds on the messages
// ids, and returns the ids it still holds.
func (s *Store) RenewClaims(ctx context.Context, worker string, ids []string, until time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{s.arg(until), worker}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+3)
	}
	var held []string
	err := s.write(ctx, false, func(c Conn) error {
		// Built for each number of claims, the statement is rebound but not kept.
		rows, err := c.q.QueryContext(ctx, s.rebind("UPDATE campaign_messages SET not_before = $1 WHERE claimed_by = $2 AND status = "+
			lit(axiom.MessageQueued)+" AND id IN ("+strings.Join(marks, ", ")+") RETURNING id"), args...)
		held, err = collect(rows, err, len(ids), func(row Scanner) (string, error) {
			var id string
			return id, row.Scan(&id)
		})
		return err
	})
	if err != nil {
		return nil, s.errorf(err, "renew claims")
	}
	return held, nil
}

// CompleteMessage records the outcome of worker's attempt at message id
// and, in the same transaction, the suppression the outcome earns its
// address, and marks the campaign sent if this was its last queued
// message and its audience is wholly enqueued.
func (s *Store) CompleteMessage(ctx context.Context, worker, id string, o axiom.Outcome) error {
	at := s.arg(o.At)
	err := s.write(ctx, true, func(c Conn) error {
		var row *sql.Row
		switch o.Status {
		case axiom.MessageSent:
			row = c.QueryRowContext(ctx, messageSentSQL, id, worker, at)
		case axiom.MessageFailed:
			row = c.QueryRowContext(ctx, messageFailedSQL, id, worker, o.Error, o.Suppress != nil)
		case axiom.MessageQueued:
			row = c.QueryRowContext(ctx, messageRetrySQL, id, worker, o.Error, s.arg(o.Retry))
		case axiom.MessageSuppressed:
			row = c.QueryRowContext(ctx, messageSuppressedSQL, id, worker, o.Error)
		default:
			return fmt.Errorf("unknown outcome %q", o.Status)
		}
		var campaign, account string
		if err := row.Scan(&campaign, &account); errors.Is(err, sql.ErrNoRows) {
			// Deleted with its campaign meanwhile, or its claim passed on.
			return claimLost(id, worker)
		} else if err != nil {
			return err
		}
		if o.Suppress != nil && o.Status == axiom.MessageFailed {
			sup := *o.Suppress
			if sup.AccountID != account {
				return fmt.Errorf("the suppression of message %s is of account %s, not %s", id, sup.AccountID, account)
			}
			if _, err := c.ExecContext(ctx, insertSuppressionSQL, s.suppressionArgs(sup)...); err != nil {
				return err
			}
		}
		_, err := c.ExecContext(ctx, finishOneSQL, at, campaign)
		return err
	})
	return s.errorf(err, "complete message %q", id)
}

// claimLost is the error of an outcome for a message worker does not hold.
func claimLost(id, worker string) *axiom.Error {
	return axiom.Errorf(axiom.CodeNotFound, "Message '%s' is not queued and claimed by worker '%s'", id, worker)
}

// RecordOpen counts an open of the message whose open token is token, up
// to axiom.MaxLinkHits; past them it only checks the token.
func (s *Store) RecordOpen(ctx context.Context, token string, at time.Time) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, `INSERT INTO campaign_events (campaign_id, message_id, kind, at)
			SELECT m.campaign_id, m.id, 'open', $1 FROM campaign_messages m WHERE m.open_token = $2
			AND (SELECT count(*) FROM campaign_events e
				WHERE e.campaign_id = m.campaign_id AND e.kind = 'open' AND e.message_id = m.id) < $3`,
			s.arg(at), token, axiom.MaxLinkHits))
		if err != nil || n > 0 {
			return err
		}
		var one int
		err = c.QueryRowContext(ctx, "SELECT 1 FROM campaign_messages WHERE open_token = $1", token).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			err = invalidLink()
		}
		return err
	})
	return s.errorf(err, "record open")
}

// clickSQL finds the tracked link at position $2 of the message whose open
// token is $1, from its campaign's targets: a message only through its
// current token, a record of a lead left out never.
const clickSQL = ` FROM campaign_messages m JOIN campaign_link_targets k ON k.campaign_id = m.campaign_id AND k.position = $2
	WHERE m.open_token = $1 AND m.status <> ` + "'" + string(axiom.MessageSuppressed) + "'"

// legacyClickSQL finds the tracked link whose own token is $1, of mail
// queued before links were per template, while its message keeps the open
// token it had then.
const legacyClickSQL = ` FROM legacy_message_links k JOIN campaign_messages m ON m.id = k.message_id AND m.open_token = k.open_token
	WHERE k.token = $1`

// storedPosition reports whether a link may be at position: the column is
// a 32-bit integer, and a value past it names no link.
func storedPosition(position int) bool { return position >= 0 && position <= math.MaxInt32 }

// RecordClick counts a click on the tracked link at position of the
// message whose open token is token, up to axiom.MaxLinkHits for that
// message and position, and returns the link's URL.
func (s *Store) RecordClick(ctx context.Context, token string, position int, at time.Time) (string, error) {
	if !storedPosition(position) {
		return "", s.errorf(invalidLink(), "record click")
	}
	url, err := s.recordClick(ctx, clickSQL, at, token, position)
	return url, s.errorf(err, "record click")
}

// RecordLegacyClick counts a click on the tracked link whose own token is
// token (mail queued before links were per template), as RecordClick does.
func (s *Store) RecordLegacyClick(ctx context.Context, token string, at time.Time) (string, error) {
	url, err := s.recordClick(ctx, legacyClickSQL, at, token)
	return url, s.errorf(err, "record click")
}

// recordClick records a click on the link from finds, the FROM … WHERE of
// a message m and a link k (position, url) that takes args.
func (s *Store) recordClick(ctx context.Context, from string, at time.Time, args ...any) (string, error) {
	n := len(args)
	var url string
	err := s.write(ctx, false, func(c Conn) error {
		err := c.QueryRowContext(ctx, `INSERT INTO campaign_events (campaign_id, message_id, kind, link_position, at)
			SELECT m.campaign_id, m.id, 'click', k.position, $`+strconv.Itoa(n+1)+from+`
			AND (SELECT count(*) FROM campaign_events e WHERE e.campaign_id = m.campaign_id AND e.kind = 'click'
				AND e.message_id = m.id AND e.link_position = k.position) < $`+strconv.Itoa(n+2)+`
			RETURNING 1`, append(args, s.arg(at), axiom.MaxLinkHits)...).Scan(new(int))
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			// Counted, or past the cap: the target, read again.
			err = c.QueryRowContext(ctx, "SELECT k.url"+from, args...).Scan(&url)
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = invalidLink()
		}
		return err
	})
	return url, err
}

// CheckOpen reports whether token is a message's open token, counting
// nothing: the answer to a HEAD of the pixel.
func (s *Store) CheckOpen(ctx context.Context, token string) error {
	var one int
	err := s.read().QueryRowContext(ctx, "SELECT 1 FROM campaign_messages WHERE open_token = $1", token).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		err = invalidLink()
	}
	return s.errorf(err, "check open")
}

// ClickTarget returns the URL of the tracked link at position of the
// message whose open token is token, counting nothing: the answer to a
// HEAD of the tracked link.
func (s *Store) ClickTarget(ctx context.Context, token string, position int) (string, error) {
	if !storedPosition(position) {
		return "", s.errorf(invalidLink(), "click target")
	}
	var url string
	err := s.read().QueryRowContext(ctx, "SELECT k.url"+clickSQL, token, position).Scan(&url)
	if errors.Is(err, sql.ErrNoRows) {
		err = invalidLink()
	}
	return url, s.errorf(err, "click target")
}

// LegacyClickTarget returns the URL of the tracked link whose own token is
// token, counting nothing.
func (s *Store) LegacyClickTarget(ctx context.Context, token string) (string, error) {
	var url string
	err := s.read().QueryRowContext(ctx, "SELECT k.url"+legacyClickSQL, token).Scan(&url)
	if errors.Is(err, sql.ErrNoRows) {
		err = invalidLink()
	}
	return url, s.errorf(err, "click target")
}

// GetUnsubscription returns what the unsubscribe link of token names, and
// whether the address is unsubscribed already: through this message, or
// on the account's suppression list.
func (s *Store) GetUnsubscription(ctx context.Context, token string) (axiom.Unsubscription, error) {
	var u axiom.Unsubscription
	err := s.read().QueryRowContext(ctx, `SELECT m.account_id, m.campaign_id, c.name, m.lead_id, m.to_email, m.unsubscribed_at IS NOT NULL
		FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id WHERE m.unsubscribe_token = $1`, token).
		Scan(&u.AccountID, &u.CampaignID, &u.CampaignName, &u.LeadID, &u.Email, &u.Unsubscribed)
	if err == nil && !u.Unsubscribed {
		var one int
		err = s.read().QueryRowContext(ctx, "SELECT 1 FROM suppressions WHERE account_id = $1 AND email_key = $2",
			u.AccountID, axiom.SuppressionKey(u.Email)).Scan(&one)
		if u.Unsubscribed = err == nil; errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	} else if errors.Is(err, sql.ErrNoRows) {
		err = invalidLink()
	}
	if err != nil {
		return axiom.Unsubscription{}, s.errorf(err, "get unsubscription")
	}
	return u, nil
}

// Unsubscribe marks the message of token as the one its lead unsubscribed
// through (once), the lead unsubscribed if it still exists, and adds sup,
// the suppression of the message's address, to the message's account;
// all in one transaction.
func (s *Store) Unsubscribe(ctx context.Context, token string, sup axiom.Suppression) error {
	err := s.write(ctx, true, func(c Conn) error {
		var account, lead string
		err := c.QueryRowContext(ctx, "UPDATE campaign_messages SET unsubscribed_at = coalesce(unsubscribed_at, $1)"+
			" WHERE unsubscribe_token = $2 AND account_id = $3 RETURNING account_id, lead_id", s.arg(sup.CreatedAt), token, sup.AccountID).
			Scan(&account, &lead)
		if errors.Is(err, sql.ErrNoRows) {
			return invalidLink()
		}
		if err != nil {
			return err
		}
		unsubscribed := lit(axiom.LeadStatusUnsubscribed)
		if _, err = c.ExecContext(ctx, "UPDATE leads SET status = "+unsubscribed+", updated_at = $1"+
			" WHERE id = $2 AND account_id = $3 AND status <> "+unsubscribed, s.arg(sup.CreatedAt), lead, account); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, insertSuppressionSQL, s.suppressionArgs(sup)...)
		return err
	})
	return s.errorf(err, "unsubscribe")
}
