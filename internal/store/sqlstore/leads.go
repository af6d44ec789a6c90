package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/axiomkit/axiom"
)

// leadFields are the text columns of a lead as leadRow reads them, in the
// order of its JSON array; the creation and update times follow.
var leadFields = []string{"id", "account_id", "name", "email", "phone", "company", "type", "status", "source"}

// leadRow is the SQL that reads a lead of table t (or of the only table,
// when t is "") as the one text value decodeLead reads: the JSON array of
// leadFields and the creation and update times in Unix microseconds,
// followed by the tags, notes and custom fields as stored (each a JSON
// value already). One value per row instead of fourteen columns spares the
// driver a string, an interface and three calls into the database per
// column: a page of leads is read in about half the time, with a tenth of
// the allocations (docs/performance.md).
func leadRow(d Dialect, t string) string {
	col := func(c string) string {
		if t == "" {
			return c
		}
		return t + "." + c
	}
	vals := make([]string, 0, len(leadFields)+2)
	for _, f := range leadFields {
		vals = append(vals, col(f))
	}
	vals = append(vals, d.Micros(col("created_at")), d.Micros(col("updated_at")))
	return d.JSONArray(strings.Join(vals, ", ")) + " || " + d.JSONText(col("tags")) + " || " +
		d.JSONText(col("notes")) + " || " + d.JSONText(col("custom_fields"))
}

// ScanLead reads a row of LeadRow.
func ScanLead(row Scanner) (axiom.Lead, error) { return scanLeadWith(row) }

// scanLeadWith reads a row of LeadRow followed by the columns extra scans.
func scanLeadWith(row Scanner, extra ...any) (axiom.Lead, error) {
	var text string
	if err := row.Scan(append([]any{&text}, extra...)...); err != nil {
		return axiom.Lead{}, err
	}
	return decodeLead(text)
}

// decodeLead reads a lead from the text leadRow builds. The common case,
// strings without escapes, is read in place, the strings sharing the
// text's memory; anything else goes to encoding/json, so that what is
// accepted and returned is the same either way (FuzzDecodeLead).
func decodeLead(b string) (axiom.Lead, error) {
	if l, ok := fastLead(b); ok {
		return l.Normalized(), nil
	}
	l, err := slowLead(b)
	if err != nil {
		return axiom.Lead{}, err
	}
	return l.Normalized(), nil
}

// leadText points to the fields of l that leadFields name, in order.
func leadText(l *axiom.Lead) [9]*string {
	return [...]*string{&l.ID, &l.AccountID, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Type, &l.Status, &l.Source}
}

func fastLead(b string) (axiom.Lead, bool) {
	var l axiom.Lead
	r := jsonReader{b: b}
	if !r.byte('[') {
		return l, false
	}
	for i, p := range leadText(&l) {
		if i > 0 && !r.byte(',') {
			return l, false
		}
		*p = r.str()
	}
	var times [2]int64
	for i := range times {
		if !r.byte(',') {
			return l, false
		}
		times[i] = r.int()
	}
	if r.bad || !r.byte(']') {
		return l, false
	}
	l.CreatedAt, l.UpdatedAt = time.UnixMicro(times[0]).UTC(), time.UnixMicro(times[1]).UTC()
	l.Tags = r.strings()
	l.Notes = r.strings()
	l.CustomFields = r.stringMap()
	return l, !r.bad && r.end()
}

func slowLead(b string) (axiom.Lead, error) {
	var (
		l                axiom.Lead
		head             []json.RawMessage
		created, updated int64
	)
	dec := json.NewDecoder(strings.NewReader(b))
	if err := dec.Decode(&head); err != nil {
		return l, fmt.Errorf("read lead: %w", err)
	}
	if n := len(leadFields) + 2; len(head) != n {
		return l, fmt.Errorf("read lead: %d values, want %d", len(head), n)
	}
	for i, p := range leadText(&l) {
		if err := json.Unmarshal(head[i], p); err != nil {
			return l, fmt.Errorf("read lead: %w", err)
		}
	}
	if err := errors.Join(json.Unmarshal(head[len(head)-2], &created), json.Unmarshal(head[len(head)-1], &updated)); err != nil {
		return l, fmt.Errorf("read lead %s: times: %w", l.ID, err)
	}
	l.CreatedAt, l.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	if err := errors.Join(dec.Decode(&l.Tags), dec.Decode(&l.Notes), dec.Decode(&l.CustomFields)); err != nil {
		return l, fmt.Errorf("read lead %s: %w", l.ID, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return l, fmt.Errorf("read lead %s: text after the custom fields", l.ID)
	}
	return l, nil
}

// ScanLeads reads every row of a query of LeadRow.
func ScanLeads(rows *sql.Rows, err error) ([]axiom.Lead, error) {
	return collect(rows, err, 0, ScanLead)
}

// leadArgs are the arguments of the insert of l: its id and account, the
// fields the update sets, its creation time and its update time.
func (s *Store) leadArgs(l axiom.Lead) ([]any, error) {
	l = l.Normalized()
	tags, err := json.Marshal(l.Tags)
	if err != nil {
		return nil, err
	}
	notes, err := json.Marshal(l.Notes)
	if err != nil {
		return nil, err
	}
	custom, err := json.Marshal(l.CustomFields)
	if err != nil {
		return nil, err
	}
	return []any{l.ID, l.AccountID, l.Name, l.Email, axiom.EmailKey(l.Email), axiom.SortKey(l.Name), axiom.SortKey(l.Email),
		l.Phone, l.Company, l.Type, l.Status, l.Source, string(tags), string(notes), string(custom), s.d.SearchText(l),
		s.arg(l.CreatedAt), s.arg(l.UpdatedAt)}, nil
}

// leadError maps the constraint a write of l broke to the client's error.
func (s *Store) leadError(err error, l axiom.Lead) error {
	switch s.violation(err) {
	case Unique:
		return axiom.DuplicateEmail(l.Email)
	case ForeignKey:
		return accountNotFound(l.AccountID)
	}
	return err
}

// CreateLead stores l as it is; an email the account already has is
// axiom.DuplicateEmail.
func (s *Store) CreateLead(ctx context.Context, l axiom.Lead) error {
	args, err := s.leadArgs(l)
	if err == nil {
		err = s.write(ctx, false, func(c Conn) error {
			_, err := c.ExecContext(ctx, s.sql.insertLead, args...)
			return err
		})
	}
	return s.errorf(s.leadError(err, l), "create lead")
}

// InsertLead inserts l in q, the write pool of s or one of its
// transactions: for loading many leads in one transaction.
func InsertLead(ctx context.Context, s *Store, q Querier, l axiom.Lead) error {
	args, err := s.leadArgs(l)
	if err != nil {
		return err
	}
	_, err = WriteConn(s, q).ExecContext(ctx, s.sql.insertLead, args...)
	return s.leadError(err, l)
}

// GetLead returns the lead id of accountID.
func (s *Store) GetLead(ctx context.Context, accountID, id string) (axiom.Lead, error) {
	l, err := ScanLead(s.read().QueryRowContext(ctx, s.sql.getLead, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.LeadNotFound(id)
	}
	if err != nil {
		return axiom.Lead{}, s.errorf(err, "get lead %q", id)
	}
	return l, nil
}

// UpdateLead applies p to the lead id of accountID. The row is locked from
// the read to the write (by the single writer where there is one), so that
// concurrent patches each apply to the result of the one before.
func (s *Store) UpdateLead(ctx context.Context, accountID, id string, p axiom.LeadPatch, now time.Time) (axiom.Lead, error) {
	var l axiom.Lead
	err := s.write(ctx, true, func(c Conn) error {
		var err error
		l, err = ScanLead(c.QueryRowContext(ctx, s.sql.lockLead, id, accountID))
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.LeadNotFound(id)
		}
		if err != nil {
			return err
		}
		l = p.Apply(l, now)
		args, err := s.leadArgs(l)
		if err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, s.sql.updateLead, append(args[2:16:16], args[17], id, accountID)...)
		return err
	})
	if err != nil {
		return axiom.Lead{}, s.errorf(s.leadError(err, l), "update lead %q", id)
	}
	return l, nil
}

// DeleteLead deletes the lead id of accountID and, in the same
// transaction, erases its personal data wherever else the store keeps it
// (docs/privacy.md): its campaign messages keep their status, times and
// events for the campaigns' statistics, and lose their address, name,
// subject, merge values, bodies, error, tokens (replaced by fresh ones
// nobody holds), links and lead id; a message still queued is recorded
// suppressed, never sent. The suppression entries of the lead's addresses
// keep only their hash; the Idempotency-Key records whose stored answer
// names the lead or its address are deleted.
func (s *Store) DeleteLead(ctx context.Context, accountID, id string) error {
	now := s.arg(axiom.StoreTime(time.Now()))
	err := s.write(ctx, true, func(c Conn) error {
		l, err := ScanLead(c.QueryRowContext(ctx, s.sql.lockLead, id, accountID))
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.LeadNotFound(id)
		}
		if err != nil {
			return err
		}
		rows, err := c.QueryContext(ctx, "SELECT id, to_email FROM campaign_messages WHERE account_id = $1 AND lead_id = $2 AND erased_at IS NULL",
			accountID, id)
		msgs, err := collect(rows, err, 0, func(row Scanner) ([2]string, error) {
			var m [2]string
			return m, row.Scan(&m[0], &m[1])
		})
		if err != nil {
			return err
		}
		// The suppression keys of the lead's addresses (it may have changed
		// its own since a message), with their comparison forms.
		keys := map[string]string{axiom.SuppressionKey(l.Email): axiom.EmailKey(l.Email)}
		for _, m := range msgs {
			if _, err := c.ExecContext(ctx, eraseMessageSQL, m[0], now, axiom.UnheldToken(), axiom.UnheldToken()); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, "DELETE FROM legacy_message_links WHERE message_id = $1", m[0]); err != nil {
				return err
			}
			if m[1] != "" {
				keys[axiom.SuppressionKey(m[1])] = axiom.EmailKey(m[1])
			}
		}
		for k, plain := range keys {
			// An address another lead of the account now has is that lead's.
			if _, err := c.ExecContext(ctx, "UPDATE suppressions SET email = '', email_sort = '', detail = '', erased_at = $3"+
				" WHERE account_id = $1 AND email_key = $2 AND erased_at IS NULL"+
				" AND NOT EXISTS (SELECT 1 FROM leads WHERE account_id = $1 AND email_key = $4 AND id <> $5)",
				accountID, k, now, plain, id); err != nil {
				return err
			}
		}
		if _, err := c.ExecContext(ctx, s.sql.eraseIdempotency, accountID, id, l.Email); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, "DELETE FROM leads WHERE id = $1 AND account_id = $2", id, accountID)
		return err
	})
	return s.errorf(err, "delete lead %q", id)
}

// eraseMessageSQL erases message $1 at $2, its tokens replaced by $3 and
// $4: what stays counts in its campaign's statistics and names no one.
var eraseMessageSQL = `UPDATE campaign_messages SET to_email = '', to_name = '', subject = '', html = '', text = '',
	merge_values = NULL, lead_id = id, claimed_by = NULL, open_token = $3, unsubscribe_token = $4, erased_at = $2,
	error = CASE status WHEN ` + lit(axiom.MessageQueued) + ` THEN ` + lit(axiom.LeadDeletedReason) + ` ELSE '' END,
	status = CASE status WHEN ` + lit(axiom.MessageQueued) + ` THEN ` + lit(axiom.MessageSuppressed) + ` ELSE status END
	WHERE id = $1`

// ListLeads returns one page of the leads of accountID that match q.Search,
// in q's order, ties broken by id in the same direction.
func (s *Store) ListLeads(ctx context.Context, accountID string, q axiom.Query) (axiom.Page[axiom.Lead], error) {
	o, err := order(q, leadSorts)
	if err != nil {
		return axiom.Page[axiom.Lead]{}, s.errorf(err, "list leads")
	}
	if words := axiom.SearchWords(q.Search); len(words) > 0 {
		p, err := s.d.Search(ctx, accountID, q, o, words)
		return p, s.errorf(err, "list leads")
	}
	query := s.sql.leadLists[o]
	if q.Offset() == 0 {
		query = s.sql.leadFirstPages[o]
	}
	p, err := listPage(ctx, s, q, ScanLead, query, accountID)
	return p, s.errorf(err, "list leads")
}

// AudienceLeads lists up to limit leads of the account after afterID, in
// id order.
func (s *Store) AudienceLeads(ctx context.Context, accountID, afterID string, limit int) ([]axiom.Lead, error) {
	rows, err := s.read().QueryContext(ctx, "SELECT "+s.sql.leadRow+" FROM leads WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
		accountID, afterID, limit)
	leads, err := collect(rows, err, min(limit, 1000), ScanLead)
	return leads, s.errorf(err, "audience leads")
}
