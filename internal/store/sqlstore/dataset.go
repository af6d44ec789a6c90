package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/axiomkit/axiom"
)

// resetTables are the tables Reset empties, children first. bootstrap
// keeps its row: a reset database stays bootstrapped. lead_counts comes
// after leads, whose triggers have brought every count to zero by then.
var resetTables = []string{
	"campaign_events", "legacy_message_links", "campaign_messages", "campaign_link_targets", "campaign_content", "campaigns",
	"suppressions", "idempotency", "templates", "property_leads", "properties",
	"leads", "lead_counts", "api_keys", "accounts",
}

// Seed stores the records of d in one transaction: all of them, or none.
// A record replaces the one of the same id, and the one its account has
// under the same email (leads) or slug (templates), or with the same
// secret (keys): seeding twice leaves the database as seeding once did.
// Nothing else is touched.
func (s *Store) Seed(ctx context.Context, d axiom.Dataset) error {
	err := s.write(ctx, true, func(c Conn) error { return s.storeDataset(ctx, c, d, true) })
	return s.errorf(err, "seed")
}

// Reset makes the database hold d and nothing else, in one transaction:
// every account, key, lead, template, listing and its links, campaign,
// message, event, suppression and Idempotency-Key is deleted, then d is
// stored. A reader sees the database as it was before or as it is after,
// never between.
func (s *Store) Reset(ctx context.Context, d axiom.Dataset) error {
	err := s.write(ctx, true, func(c Conn) error {
		if s.d.EmptyBegin != "" {
			if _, err := c.ExecContext(ctx, s.d.EmptyBegin); err != nil {
				return err
			}
		}
		for _, t := range resetTables {
			if _, err := c.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("empty %s: %w", t, err)
			}
		}
		if s.d.EmptyEnd != "" {
			if _, err := c.ExecContext(ctx, s.d.EmptyEnd); err != nil {
				return err
			}
		}
		return s.storeDataset(ctx, c, d, false)
	})
	return s.errorf(err, "reset")
}

// storeDataset inserts the records of d, first deleting those each would
// replace when replace is set.
func (s *Store) storeDataset(ctx context.Context, c Conn, d axiom.Dataset, replace bool) error {
	// exec runs the statements of the record at path, naming it in an error.
	exec := func(path string, stmts ...stmt) error {
		for _, st := range stmts {
			if st.query == "" {
				continue
			}
			if _, err := c.ExecContext(ctx, st.query, st.args...); err != nil {
				return &axiom.DatasetError{Path: path, Message: s.datasetMessage(err), Err: err}
			}
		}
		return nil
	}
	when := func(q string) string {
		if replace {
			return q
		}
		return ""
	}
	for i, a := range d.Accounts {
		path := fmt.Sprintf("accounts[%d]", i)
		acc := a.Account
		if err := exec(path, stmt{insertAccountSQL + " ON CONFLICT (id) DO UPDATE SET plan = excluded.plan, created_at = excluded.created_at",
			[]any{acc.ID, string(acc.Plan), s.arg(acc.CreatedAt)}}); err != nil {
			return err
		}
		for j, k := range a.Keys {
			if err := exec(fmt.Sprintf("%s.keys[%d]", path, j),
				stmt{when("DELETE FROM api_keys WHERE id = $1 OR hash = $2"), []any{k.ID, k.Hash}},
				stmt{insertKeySQL, s.keyArgs(k)}); err != nil {
				return err
			}
		}
		for j, t := range a.Templates {
			if err := exec(fmt.Sprintf("%s.templates[%d]", path, j),
				stmt{when("DELETE FROM templates WHERE account_id = $1 AND slug = $2"), []any{t.AccountID, t.Slug}},
				stmt{insertTemplateSQL, s.templateArgs(t)}); err != nil {
				return err
			}
		}
		for j, l := range a.Leads {
			args, err := s.leadArgs(l)
			if err != nil {
				return err
			}
			if err := exec(fmt.Sprintf("%s.leads[%d]", path, j),
				stmt{when("DELETE FROM leads WHERE id = $1 OR (account_id = $2 AND email_key = $3)"), []any{l.ID, l.AccountID, axiom.EmailKey(l.Email)}},
				stmt{s.sql.insertLead, args}); err != nil {
				return err
			}
		}
		for j, p := range a.Properties {
			args, err := s.propertyValues(p)
			if err != nil {
				return err
			}
			if err := exec(fmt.Sprintf("%s.properties[%d]", path, j),
				stmt{when("DELETE FROM properties WHERE id = $1"), []any{p.ID}},
				stmt{insertPropertySQL, args}); err != nil {
				return err
			}
		}
		for j, k := range a.Links {
			if err := exec(fmt.Sprintf("%s.links[%d]", path, j),
				stmt{when("DELETE FROM property_leads WHERE property_id = $1 AND lead_id = $2"), []any{k.PropertyID, k.LeadID}},
				stmt{insertLinkSQL, []any{k.AccountID, k.PropertyID, k.LeadID, k.Relation, s.arg(k.CreatedAt), s.arg(k.UpdatedAt)}}); err != nil {
				return err
			}
		}
		for j, cm := range a.Campaigns {
			audience, err := encodeAudience(cm.Audience)
			if err != nil {
				return err
			}
			if err := exec(fmt.Sprintf("%s.campaigns[%d]", path, j),
				stmt{when("DELETE FROM campaigns WHERE id = $1"), []any{cm.ID}},
				stmt{insertCampaignSQL, s.campaignArgs(cm, audience)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// readAll runs query on c and scans every row.
func readAll[T any](ctx context.Context, c Conn, query string, scan func(Scanner) (T, error)) ([]T, error) {
	rows, err := c.QueryContext(ctx, query)
	return collect(rows, err, 0, scan)
}

// stmt is one statement and its arguments; an empty query is skipped.
type stmt struct {
	query string
	args  []any
}

// datasetMessage says which constraint a record broke.
func (s *Store) datasetMessage(err error) string {
	switch s.violation(err) {
	case Unique:
		return "it clashes with a record stored before it (the same id, email, slug or key secret)"
	case ForeignKey:
		return "it names an account, lead or property that does not exist"
	}
	return "it cannot be stored"
}

// Export reads every account with its keys, leads, live templates,
// listings and their links, and campaigns, as one consistent snapshot,
// oldest first.
func (s *Store) Export(ctx context.Context) (axiom.Dataset, error) {
	var d axiom.Dataset
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return d, s.errorf(err, "export")
	}
	defer tx.Rollback()
	c := Conn{s: s, q: tx}
	accounts, err := readAll(ctx, c, "SELECT id, plan, created_at FROM accounts ORDER BY created_at, id", func(row Scanner) (axiom.Account, error) {
		var a axiom.Account
		var created Time
		err := row.Scan(&a.ID, &a.Plan, &created)
		a.CreatedAt = created.Time
		return a, err
	})
	if err != nil {
		return d, s.errorf(err, "export accounts")
	}
	byID := make(map[string]*axiom.AccountData, len(accounts))
	d.Accounts = make([]axiom.AccountData, len(accounts))
	for i, a := range accounts {
		d.Accounts[i].Account = a
		byID[a.ID] = &d.Accounts[i]
	}
	// Each list is read whole and dealt to its account; a record of an
	// account read after the accounts cannot exist in one snapshot.
	keys, err := readAll(ctx, c, "SELECT "+keyColumns+" FROM api_keys k ORDER BY k.created_at, k.id", func(row Scanner) (axiom.Key, error) { return scanKey(row) })
	if err != nil {
		return d, s.errorf(err, "export keys")
	}
	for _, k := range keys {
		byID[k.AccountID].Keys = append(byID[k.AccountID].Keys, k)
	}
	leads, err := readAll(ctx, c, "SELECT "+s.sql.leadRow+" FROM leads ORDER BY created_at, id", ScanLead)
	if err != nil {
		return d, s.errorf(err, "export leads")
	}
	for _, l := range leads {
		byID[l.AccountID].Leads = append(byID[l.AccountID].Leads, l)
	}
	templates, err := readAll(ctx, c, "SELECT "+templateColumns+" FROM templates WHERE deleted_at IS NULL ORDER BY created_at, slug", scanTemplate)
	if err != nil {
		return d, s.errorf(err, "export templates")
	}
	for _, t := range templates {
		byID[t.AccountID].Templates = append(byID[t.AccountID].Templates, t)
	}
	properties, err := readAll(ctx, c, "SELECT "+PropertyColumns+" FROM properties ORDER BY created_at, id",
		func(row Scanner) (axiom.Property, error) { return scanProperty(row) })
	if err != nil {
		return d, s.errorf(err, "export properties")
	}
	for _, p := range properties {
		byID[p.AccountID].Properties = append(byID[p.AccountID].Properties, p)
	}
	links, err := readAll(ctx, c, "SELECT "+linkColumns+" FROM property_leads ORDER BY created_at, property_id, lead_id", scanLink)
	if err != nil {
		return d, s.errorf(err, "export links")
	}
	for _, k := range links {
		byID[k.AccountID].Links = append(byID[k.AccountID].Links, k)
	}
	campaigns, err := readAll(ctx, c, "SELECT "+campaignColumns+" FROM campaigns ORDER BY created_at, id", func(row Scanner) (axiom.Campaign, error) { return scanCampaign(row) })
	if err != nil {
		return d, s.errorf(err, "export campaigns")
	}
	for _, cm := range campaigns {
		cm.Counts = axiom.CampaignCounts{} // counted from messages, which a dataset does not hold
		byID[cm.AccountID].Campaigns = append(byID[cm.AccountID].Campaigns, cm)
	}
	if err := tx.Commit(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return d, s.errorf(err, "export")
	}
	return d, nil
}
