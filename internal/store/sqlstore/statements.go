package sqlstore

import (
	"strings"

	"github.com/axiomkit/axiom"
)

// statements are the SQL texts that depend on the dialect, built once by New.
type statements struct {
	insertLead, updateLead, lockLead string
	leadRow, getLead                 string
	leadLists, leadFirstPages        map[Order]string
	lockTemplate, lockProperty       string
	claimMessages                    string
	claimEnqueue                     string
	pruneIdempotency                 string
	eraseIdempotency                 string
}

func buildStatements(d Dialect) statements {
	leadRow := leadRow(d, "")
	getLead := "SELECT " + leadRow + " FROM leads WHERE id = $1 AND account_id = $2"
	st := statements{
		leadRow: leadRow,
		getLead: getLead,
		insertLead: `INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort,
			phone, company, type, status, source, tags, notes, custom_fields, ` + d.SearchColumn + `, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, ` + d.SearchValue("$16") + `, $17, $18)`,
		updateLead: `UPDATE leads SET name = $1, email = $2, email_key = $3, name_sort = $4, email_sort = $5,
			phone = $6, company = $7, type = $8, status = $9, source = $10, tags = $11, notes = $12, custom_fields = $13,
			` + d.SearchColumn + ` = ` + d.SearchValue("$14") + `, updated_at = $15
			WHERE id = $16 AND account_id = $17`,
		lockLead: getLead + d.lock("", false),
		// The stored answers that name lead $2 or its address $3.
		eraseIdempotency: "DELETE FROM idempotency WHERE account_id = $1 AND (" + d.BytesContain("body", "$2") +
			" OR " + d.BytesContain("body", "$3") + ")",
		leadLists:      map[Order]string{},
		leadFirstPages: map[Order]string{},
		lockTemplate:   getTemplateSQL + d.lock("", false),
		lockProperty:   getPropertySQL + d.lock("", false),
		// The rows are picked under a lock others skip, so that processes
		// claiming at once each take other messages; a message another has
		// just claimed is seen again, once its lock is released, with its
		// new not_before, and left alone. Whether a claim is free is read
		// from the row alone (its holder renews not_before), so that this
		// recheck is exact.
		// One campaign's at a time (ClaimMessages takes turns between
		// accounts), in queue order along the campaign's index.
		claimMessages: `UPDATE campaign_messages SET not_before = $1, attempts = attempts + 1, claimed_by = $4
			WHERE seq IN (SELECT q.seq FROM campaign_messages q JOIN campaigns c ON c.id = q.campaign_id
				WHERE q.campaign_id = $5 AND q.status = ` + lit(axiom.MessageQueued) + ` AND q.not_before <= $2
				AND c.status = ` + lit(axiom.CampaignSending) + ` AND c.enqueued
				ORDER BY q.seq LIMIT $3` + d.lock("q", true) + `)
			RETURNING ` + messageColumns,
		claimEnqueue: `UPDATE campaigns SET enqueue_until = $2
			WHERE id = (SELECT id FROM campaigns WHERE ` + enqueueFree + ` ORDER BY id LIMIT 1` + d.lock("", true) + `)
			AND ` + enqueueFree + `
			RETURNING ` + campaignColumns + `, enqueue_cursor`,
		// Processes pruning at once take disjoint rows, never each other's
		// locks, so that they cannot deadlock.
		pruneIdempotency: `DELETE FROM idempotency WHERE (account_id, key) IN (
			SELECT account_id, key FROM idempotency WHERE created_at <= $1 LIMIT 100` + d.lock("", true) + `)`,
	}
	// The inner query finds the page in the sort index alone, so that the
	// leads an offset skips are never read; the outer one reads the page's.
	// The first page, which skips none, is read along the index directly,
	// without the second sort: a quarter less work on SQLite.
	for _, o := range orders(leadSorts) {
		st.leadLists[o] = "SELECT " + leadRow + " FROM leads WHERE " + d.LeadKey + " IN (" +
			"SELECT " + d.LeadKey + " FROM leads WHERE account_id = $1" + o.By("id") + " LIMIT $2 OFFSET $3)" + o.By("id")
		st.leadFirstPages[o] = "SELECT " + leadRow + " FROM leads WHERE account_id = $1" + o.By("id") + " LIMIT $2 OFFSET $3"
	}
	return st
}

// hotReads and hotWrites are the statements Prepare prepares: those of
// every request and of the busiest writes.
func (st statements) hotReads() []string {
	reads := []string{keyByHashSQL, st.getLead}
	for o, q := range st.leadLists {
		reads = append(reads, q, st.leadFirstPages[o])
	}
	return reads
}

func (st statements) hotWrites() []string {
	return []string{st.insertLead, st.claimMessages, messageSentSQL, messageFailedSQL, messageRetrySQL, finishOneSQL}
}

// lock is the clause that locks the rows a SELECT reads, of table of only
// if set, passing over those others hold if skip: "" in a dialect that
// needs no lock.
func (d Dialect) lock(of string, skip bool) string {
	if d.ForUpdate == "" {
		return ""
	}
	clause := d.ForUpdate
	if of != "" {
		clause += " OF " + of
	}
	if skip {
		clause += d.SkipLocked
	}
	return clause
}

// lit is s as an SQL string literal. Statuses are written into the SQL
// rather than passed, so that the partial indexes on them serve.
func lit[S ~string](s S) string { return "'" + strings.ReplaceAll(string(s), "'", "''") + "'" }

// litList is the parenthesized list of the literals of ss.
func litList[S ~string](ss []S) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = lit(s)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
