package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// A search finds one page of the leads whose words begin with the query's
// words. Four plans do it, each cheap where another is dear:
//
//   - scan: read the account's leads in the page's order (the sort index)
//     and test each lead's words, until the page and one lead more are
//     found. It reads about need/share leads, where share is the part of
//     the leads that match: cheap for common words, dear for rare ones.
//   - walk (newest or oldest first only): take the matches from the
//     full-text index in the order of seq, the order in which leads were
//     stored, which is nearly that of created_at, until the page is found
//     and one query on the sort index proves that no lead not yet seen can
//     belong to it. It reads about one lead per lead on the page, but FTS5
//     gathers all the matches of a word longer than the index's prefixes
//     before giving the first, so it is dear for long common words.
//   - filter: read the sort index alone in the page's order, keeping the
//     leads among the full-text index's matches, until the page is found:
//     cheap per lead passed, but it gathers every match first, and passes
//     every lead before the page's last.
//   - index: take every match from the full-text index, then sort them:
//     its cost grows with the number of matches, whatever the page.
//
// The scan runs first with a small budget, which common words need not
// exceed. Newest or oldest first, the walk follows. In other orders the
// matches are counted, up to filterTo: fewer than filterFrom, the index
// plan; more, the filter plan, after a longer scan if there are filterTo.
const (
	// scanFirst and scanFirstMax bound the reads of the first scan:
	// scanFirst per lead needed, scanFirstMax in all.
	scanFirst, scanFirstMax = 20, 1000
	// scanOther and scanOtherMax bound the first scan in other orders.
	scanOther, scanOtherMax = 8, 400
	// From filterFrom matches on, the filter plan is chosen over the index
	// plan, in orders other than created_at: the index plan reads a random
	// row per match (about 5 µs), the filter plan a sort index entry per
	// lead up to the page (about 0.15 µs) after gathering the matches
	// (about 0.15 µs each). From filterTo matches on, a longer scan comes
	// first, of scanSlack times the reads it should need.
	filterFrom, filterTo = 2000, 40_000
	scanSlack            = 4
	// proofCostRatio is how many entries of the sort index the walk's proof
	// reads in the time the walk reads one lead; minProof and maxProof
	// bound the entries it reads.
	proofCostRatio     = 50
	minProof, maxProof = 1000, 200_000
)

// searchPlan names a plan; the zero value chooses as above.
type searchPlan int

const (
	planAuto searchPlan = iota
	planScan
	planIndex
	planWalk // the index plan where the order is not created_at
	planFilter
)

// sortIndexes names the index of each sort column, for the filter plan.
var sortIndexes = map[string]string{
	"created_at": "leads_created",
	"updated_at": "leads_updated",
	"name_sort":  "leads_name",
	"email_sort": "leads_email",
}

// wordMatcher tests whether every word of a query begins a word of a
// lead's search_text (its words, lower-cased, separated by single spaces):
// the search rule itself, exactly.
type wordMatcher struct {
	words   [][]byte // the query's words
	spaced  [][]byte // the same, each after a space
	scratch []byte
}

func newWordMatcher(words []string) *wordMatcher {
	m := &wordMatcher{}
	for _, w := range words {
		m.words = append(m.words, []byte(w))
		m.spaced = append(m.spaced, []byte(" "+w))
	}
	return m
}

func (m *wordMatcher) match(text []byte) bool {
	for i, w := range m.words {
		if !bytes.HasPrefix(text, w) && !bytes.Contains(text, m.spaced[i]) {
			return false
		}
	}
	return true
}

// searchLeads returns one page of the leads of accountID that match words,
// in order o, all read in one snapshot.
func (db *DB) searchLeads(ctx context.Context, accountID string, q axiom.Query, o sqlstore.Order, words []string) (axiom.Page[axiom.Lead], error) {
	col, dir := o.Column, o.Dir()
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	defer tx.Rollback()

	match := matchExpr(words)
	offset := q.Offset()
	need := offset + q.Limit + 1 // the page, and one more to learn has_more
	// The lead count of the database bounds that of the account.
	var leads int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM leads").Scan(&leads); err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	found := func(seqs []int64) (axiom.Page[axiom.Lead], error) { return db.fetchPage(ctx, tx, seqs, q, col, dir) }

	switch {
	case db.plan == planScan:
		seqs, _, err := scanMatches(ctx, tx, accountID, col, dir, words, offset, need, leads+1)
		if err != nil {
			return axiom.Page[axiom.Lead]{}, err
		}
		return found(seqs)
	case db.plan == planIndex:
		return db.indexMatches(ctx, tx, accountID, q, col, dir, words, match)
	case db.plan == planFilter:
		seqs, err := filterMatches(ctx, tx, accountID, col, dir, words, match, offset, need)
		if err != nil {
			return axiom.Page[axiom.Lead]{}, err
		}
		return found(seqs)
	case col == "created_at":
		if db.plan == planAuto {
			seqs, ok, err := scanMatches(ctx, tx, accountID, col, dir, words, offset, need, min(scanFirst*int64(need), scanFirstMax))
			if err != nil {
				return axiom.Page[axiom.Lead]{}, err
			}
			if ok {
				return found(seqs)
			}
		}
		proof := proofCap(need, leads)
		if db.proof > 0 {
			proof = db.proof
		}
		seqs, err := walkMatches(ctx, tx, accountID, q.Desc, words, match, offset, need, leads, proof)
		if err != nil {
			return axiom.Page[axiom.Lead]{}, err
		}
		return found(seqs)
	case db.plan == planWalk:
		return db.indexMatches(ctx, tx, accountID, q, col, dir, words, match)
	}

	// Other orders read a random row per lead scanned: a shorter first scan.
	seqs, ok, err := scanMatches(ctx, tx, accountID, col, dir, words, offset, need, min(scanOther*int64(need), scanOtherMax))
	if err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	if ok {
		return found(seqs)
	}
	var count int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM leads_fts WHERE leads_fts MATCH ? LIMIT ?)",
		match, filterTo).Scan(&count); err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	if count < filterFrom {
		return db.indexMatches(ctx, tx, accountID, q, col, dir, words, match)
	}
	if count >= filterTo {
		// Too many matches to gather cheaply, but as many as that are found
		// soon, unless they gather elsewhere in the order.
		reads := max(scanSlack*int64(need)*leads/int64(count), scanFirstMax)
		seqs, ok, err := scanMatches(ctx, tx, accountID, col, dir, words, offset, need, reads)
		if err != nil {
			return axiom.Page[axiom.Lead]{}, err
		}
		if ok {
			return found(seqs)
		}
	}
	seqs, err = filterMatches(ctx, tx, accountID, col, dir, words, match, offset, need)
	if err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	return found(seqs)
}

// filterMatches returns the seqs of the matches of the page, from the
// offset-th on, up to need in all: it reads the account's sort index in the
// page's order, keeping the leads whose seq is among the full-text index's
// matches (SQLite holds them in a table of its own for the query), and
// tests their words.
func filterMatches(ctx context.Context, tx *sql.Tx, accountID, col, dir string, words []string, match string, offset, need int) ([]int64, error) {
	// col, dir and the index come from fixed lists, never from the query's
	// text. INDEXED BY keeps SQLite from sorting the matches instead.
	rows, err := tx.QueryContext(ctx, "SELECT seq, search_text FROM leads INDEXED BY "+sortIndexes[col]+
		" WHERE account_id = ? AND seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?)"+
		" ORDER BY "+col+dir+", id"+dir, accountID, match)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := newWordMatcher(words)
	var (
		seqs    []int64
		seq     int64
		text    sql.RawBytes
		matched int
	)
	for matched < need && rows.Next() {
		if err := rows.Scan(&seq, &text); err != nil {
			return nil, err
		}
		if !m.match(text) {
			continue
		}
		if matched >= offset {
			seqs = append(seqs, seq)
		}
		matched++
	}
	return seqs, rows.Err()
}

// proofCap is the most entries of the sort index that the walk's proof
// reads: past it, the matches are rare enough that reading the rest of them
// costs less.
func proofCap(need int, leads int64) int {
	c := math.Sqrt(float64(need) * float64(leads) * proofCostRatio)
	return int(min(max(c, minProof), maxProof))
}

// walkKey is a match of the walk, with its place in the order.
type walkKey struct {
	created int64
	id      string
	seq     int64
}

// walkMatches returns the seqs of the matches of the page, from the
// offset-th on, up to need in all, newest first if desc, oldest first if
// not: it takes the matches of accountID from the full-text index in seq
// order, the same way, and stops once it has need of them and proves that
// every lead of the account that comes before the need-th in the page's
// order has a seq it has passed (so that it has seen it, if it matches).
// The proof reads the sort index up to that lead, at most proof entries;
// when it would read more, or more than going on to the last match costs
// (as it would for a rare word), the walk goes on to the last match.
// leads is the greatest seq.
func walkMatches(ctx context.Context, tx *sql.Tx, accountID string, desc bool, words []string, match string, offset, need int, leads int64, proof int) ([]int64, error) {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	// CROSS JOIN keeps the index outermost, and FTS5 gives its matches in
	// rowid order itself.
	rows, err := tx.QueryContext(ctx, "SELECT l.seq, l.created_at, l.id, l.search_text"+
		" FROM leads_fts f CROSS JOIN leads l ON l.seq = f.rowid"+
		" WHERE leads_fts MATCH ? AND l.account_id = ? ORDER BY f.rowid"+dir, match, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// before reports whether a comes before b in the page's order.
	before := func(a, b walkKey) bool {
		if a.created != b.created {
			return (a.created > b.created) == desc
		}
		return (a.id > b.id) == desc
	}
	m := newWordMatcher(words)
	var (
		keys    []walkKey
		text    sql.RawBytes
		first   int64 = -1 // the seq of the first lead read
		matched int
		proved  bool
		bound   int64 // once proved: the seq up to which the walk must go on
		bounded bool
	)
	for rows.Next() {
		var k walkKey
		if err := rows.Scan(&k.seq, &k.created, &k.id, &text); err != nil {
			return nil, err
		}
		if first < 0 {
			first = k.seq
		}
		if bounded && (desc && k.seq < bound || !desc && k.seq > bound) {
			break
		}
		if !m.match(text) {
			continue
		}
		keys = append(keys, k)
		matched++
		if matched < need || proved {
			continue
		}
		proved = true
		// The proof reads about as many index entries as the walk has
		// passed seqs (leads are stored nearly in created_at order); going
		// on costs proofCostRatio entries per match still ahead, of which
		// there are as many per seq as so far.
		passed, ahead := k.seq-first, leads-k.seq
		if desc {
			passed, ahead = first-k.seq, k.seq
		}
		passed++
		if passed > int64(proof) || passed > int64(matched)*ahead/passed*proofCostRatio {
			continue
		}
		// The first time need matches are in hand: find the seqs of the
		// leads that come before the need-th of them.
		slices.SortFunc(keys, func(a, b walkKey) int {
			if before(a, b) {
				return -1
			}
			return 1
		})
		keys = keys[:need]
		edge, ok, err := proveWalk(ctx, tx, accountID, desc, keys[need-1], proof)
		if err != nil {
			return nil, err
		}
		if ok {
			// Every lead before the need-th has a seq from edge on: the walk
			// has seen those up to k.seq and goes on to edge.
			if desc && edge >= k.seq || !desc && edge <= k.seq {
				break
			}
			bound, bounded = edge, true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b walkKey) int {
		if before(a, b) {
			return -1
		}
		return 1
	})
	keys = keys[:min(len(keys), need)]
	var seqs []int64
	for _, k := range keys[min(offset, len(keys)):] {
		seqs = append(seqs, k.seq)
	}
	return seqs, nil
}

// proveWalk reads, in the sort index, the leads of accountID that come
// before last in the order (newest first if desc), at most proof of them,
// and returns the least seq among them (the greatest if not desc), or
// last's own seq if there are none. ok is false if there were more than
// proof of them.
func proveWalk(ctx context.Context, tx *sql.Tx, accountID string, desc bool, last walkKey, proof int) (edge int64, ok bool, err error) {
	query := "SELECT count(*), coalesce(min(seq), ?) FROM (SELECT seq FROM leads WHERE account_id = ?" +
		" AND (created_at, id) > (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?)"
	if !desc {
		query = "SELECT count(*), coalesce(max(seq), ?) FROM (SELECT seq FROM leads WHERE account_id = ?" +
			" AND (created_at, id) < (?, ?) ORDER BY created_at, id LIMIT ?)"
	}
	var n int
	if err := tx.QueryRowContext(ctx, query, last.seq, accountID, last.created, last.id, proof+1).Scan(&n, &edge); err != nil {
		return 0, false, err
	}
	if n > proof {
		return 0, false, nil
	}
	if desc {
		return min(edge, last.seq), true, nil
	}
	return max(edge, last.seq), true, nil
}

// scanMatches reads at most reads leads of accountID in the page's order
// and returns the seqs of the matches from the offset-th on, up to need in
// all. ok reports whether they are exactly the page's: need were found, or
// the account's leads ran out first.
func scanMatches(ctx context.Context, tx *sql.Tx, accountID, col, dir string, words []string, offset, need int, reads int64) (seqs []int64, ok bool, err error) {
	// col and dir come from fixed lists, never from the query's text.
	rows, err := tx.QueryContext(ctx, "SELECT seq, search_text FROM leads WHERE account_id = ?"+
		" ORDER BY "+col+dir+", id"+dir+" LIMIT ?", accountID, reads)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	m := newWordMatcher(words)
	var (
		seq     int64
		text    sql.RawBytes
		read    int64
		matched int
	)
	for rows.Next() {
		read++
		if err := rows.Scan(&seq, &text); err != nil {
			return nil, false, err
		}
		if !m.match(text) {
			continue
		}
		if matched >= offset {
			seqs = append(seqs, seq)
		}
		matched++
		if matched == need {
			return seqs, true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return seqs, read < reads, nil
}

// fetchPage reads the leads seqs (found in the page's order, one more than
// the page holds when another follows) and returns the page.
func (db *DB) fetchPage(ctx context.Context, tx *sql.Tx, seqs []int64, q axiom.Query, col, dir string) (axiom.Page[axiom.Lead], error) {
	p := axiom.Page[axiom.Lead]{Items: []axiom.Lead{}}
	if len(seqs) > q.Limit {
		seqs, p.HasMore = seqs[:q.Limit], true
	}
	if len(seqs) == 0 {
		return p, nil
	}
	args := make([]any, len(seqs))
	for i, s := range seqs {
		args[i] = s
	}
	// The leads come back in the page's order: the same ORDER BY.
	leads, err := sqlstore.ScanLeads(tx.QueryContext(ctx, "SELECT "+db.LeadRow()+
		" FROM leads WHERE seq IN (?"+strings.Repeat(", ?", len(seqs)-1)+")"+
		" ORDER BY "+col+dir+", id"+dir, args...))
	if err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	p.Items = leads
	return p, nil
}

// indexMatches returns the page from every match the full-text index
// finds, sorted. The words are tested again on the lead's text, so that the
// rule is exactly that of the scan plan whatever the tokenizer makes of
// letters it does not know.
func (db *DB) indexMatches(ctx context.Context, tx *sql.Tx, accountID string, q axiom.Query, col, dir string, words []string, match string) (axiom.Page[axiom.Lead], error) {
	var filter strings.Builder
	args := []any{match, accountID}
	for _, w := range words {
		filter.WriteString(" AND instr(' ' || l.search_text, ?) > 0")
		args = append(args, " "+w)
	}
	args = append(args, q.Limit+1, q.Offset())
	// CROSS JOIN keeps the index outermost; the inner query sorts only the
	// matches' keys, and the outer one reads the page's leads.
	leads, err := sqlstore.ScanLeads(tx.QueryContext(ctx, "SELECT "+db.LeadRow()+" FROM leads WHERE seq IN ("+
		"SELECT l.seq FROM leads_fts f CROSS JOIN leads l ON l.seq = f.rowid"+
		" WHERE leads_fts MATCH ? AND l.account_id = ?"+filter.String()+
		" ORDER BY l."+col+dir+", l.id"+dir+" LIMIT ? OFFSET ?)"+
		" ORDER BY "+col+dir+", id"+dir, args...))
	if err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	return sqlstore.PageOf(leads, q.Limit), nil
}

// matchExpr is the FTS5 query asking for every word as a prefix: each is a
// quoted string (so that no word is read as an operator or column name)
// followed by *. It is "" when there is no word.
func matchExpr(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"` + strings.ReplaceAll(w, `"`, `""`) + `"*`)
	}
	return b.String()
}
