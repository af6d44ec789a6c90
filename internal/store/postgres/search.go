package postgres

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// maxLexeme is the longest lexeme, in bytes, that PostgreSQL keeps intact
// (longer ones are corrupted by array_to_tsvector, refused in a tsquery).
const maxLexeme = 2047

// lexeme cuts w to maxLexeme bytes, on a character boundary. Only words
// longer than any field the API accepts are cut; a query word cut the same
// way still begins the cut word it began.
func lexeme(w string) string {
	if len(w) <= maxLexeme {
		return w
	}
	i := maxLexeme
	for i > 0 && !utf8.RuneStart(w[i]) {
		i--
	}
	return w[:i]
}

// SearchText is what the search column is made of for l: its words
// (axiom.SearchWords of name, email, company, phone and tags, split as a
// query is, so that both sides agree on what a word is), cut to lexemes,
// each once, space-separated; array_to_tsvector takes them verbatim, and
// no parser, dictionary or stemmer of PostgreSQL's decides what a word is.
func SearchText(l axiom.Lead) string {
	words := strings.Fields(l.SearchText())
	for i, w := range words {
		words[i] = lexeme(w)
	}
	slices.Sort(words)
	return strings.Join(slices.Compact(words), " ")
}

// TSQuery is the text search query asking for every word as a prefix: each
// a quoted lexeme (so that no word is read as an operator) followed by :*,
// joined by &. It is "" when there is no word. The query is sent as a bound
// parameter and cast to tsquery, which takes the lexemes as they are.
func TSQuery(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" & ")
		}
		w = strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(lexeme(w))
		b.WriteString("'" + w + "':*")
	}
	return b.String()
}

// search returns one page of the leads of accountID whose words begin
// with every word, found by the GIN index of the search column.
func (db *DB) search(ctx context.Context, accountID string, q axiom.Query, o sqlstore.Order, words []string) (axiom.Page[axiom.Lead], error) {
	leads, err := sqlstore.ScanLeads(db.sql.QueryContext(ctx, "SELECT "+db.LeadRow()+
		" FROM leads WHERE account_id = $1 AND search @@ $2::tsquery"+o.By("id")+" LIMIT $3 OFFSET $4",
		accountID, TSQuery(words), q.Limit+1, q.Offset()))
	if err != nil {
		return axiom.Page[axiom.Lead]{}, err
	}
	return sqlstore.PageOf(leads, q.Limit), nil
}
