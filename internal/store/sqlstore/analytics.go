package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axiomkit/axiom"
)

// Lead analytics add up lead_counts (see the migrations): the leads
// created in each quarter hour (grain q), hour (h) and UTC day (d), by
// value. A span is cut into parts that each grain answers: its edges that
// are not on a quarter hour are counted from the leads themselves, the rest
// from the fewest rows of the three grains, a day row less the hours and
// quarters it holds beyond the span when that reads fewer rows.
const (
	quarterMS = int64(15 * time.Minute / time.Millisecond)
	hourMS    = int64(time.Hour / time.Millisecond)
	dayMS     = int64(24 * time.Hour / time.Millisecond)
)

// countPart is a half-open range [lo, hi) of Unix milliseconds of span i,
// read from grain ("" for the leads themselves) and counted sign times.
type countPart struct {
	i      int
	grain  string
	lo, hi int64
	sign   int
}

func floorTo(v, unit int64) int64 {
	r := v % unit
	if r < 0 {
		r += unit
	}
	return v - r
}

func ceilTo(v, unit int64) int64 { return -floorTo(-v, unit) }

// countParts cuts spans into the parts that add up to their counts.
func countParts(spans []axiom.Span) []countPart {
	var parts []countPart
	for i, s := range spans {
		lo, hi := s.Start.UnixMilli(), s.End.UnixMilli()
		qlo, qhi := ceilTo(lo, quarterMS), floorTo(hi, quarterMS)
		if qlo >= qhi {
			parts = append(parts, countPart{i: i, lo: lo, hi: hi, sign: 1})
			continue
		}
		if lo < qlo {
			parts = append(parts, countPart{i: i, lo: lo, hi: qlo, sign: 1})
		}
		if qhi < hi {
			parts = append(parts, countPart{i: i, lo: qhi, hi: hi, sign: 1})
		}
		// The days [dlo, dhi) that read fewest rows with the hours and
		// quarters added or taken away at each end; none at all is a
		// candidate too.
		bestLo, bestHi, best := int64(0), int64(0), subDay(nil, i, qlo, qhi, 1)
		for _, dlo := range []int64{floorTo(qlo, dayMS), ceilTo(qlo, dayMS)} {
			for _, dhi := range []int64{floorTo(qhi, dayMS), ceilTo(qhi, dayMS)} {
				if dhi <= dlo {
					continue
				}
				if cost := (dhi-dlo)/dayMS + edge(nil, i, qlo, dlo) + edge(nil, i, dhi, qhi); cost < best {
					bestLo, bestHi, best = dlo, dhi, cost
				}
			}
		}
		if bestLo == bestHi {
			subDay(&parts, i, qlo, qhi, 1)
			continue
		}
		parts = append(parts, countPart{i: i, grain: "d", lo: bestLo, hi: bestHi, sign: 1})
		edge(&parts, i, qlo, bestLo)
		edge(&parts, i, bestHi, qhi)
	}
	return parts
}

// edge covers [a, b) in hours and quarters, added when a < b, taken away
// as [b, a) when b < a; it returns the rows that reads, and appends the
// parts to parts unless it is nil.
func edge(parts *[]countPart, i int, a, b int64) int64 {
	if a < b {
		return subDay(parts, i, a, b, 1)
	}
	return subDay(parts, i, b, a, -1)
}

// subDay covers [a, b), on quarter hours, with whole hours and the
// quarters at either end, counted sign times; it returns the rows read and
// appends the parts to parts unless it is nil.
func subDay(parts *[]countPart, i int, a, b int64, sign int) int64 {
	if a >= b {
		return 0
	}
	add := func(grain string, lo, hi int64) {
		if parts != nil && lo < hi {
			*parts = append(*parts, countPart{i: i, grain: grain, lo: lo, hi: hi, sign: sign})
		}
	}
	hlo, hhi := ceilTo(a, hourMS), floorTo(b, hourMS)
	if hlo >= hhi {
		add("q", a, b)
		return (b - a) / quarterMS
	}
	add("q", a, hlo)
	add("h", hlo, hhi)
	add("q", hhi, b)
	return (hlo-a)/quarterMS + (hhi-hlo)/hourMS + (b-hhi)/quarterMS
}

// partsPerQuery bounds the parts of one statement, well within every
// database's limit on arguments.
const partsPerQuery = 2000

// CountLeads counts the leads of accountID created in each of spans, by
// their value of by (under "" for axiom.LeadTotal); values without a lead
// are left out.
func (s *Store) CountLeads(ctx context.Context, accountID string, spans []axiom.Span, by axiom.LeadDimension) ([]map[string]int, error) {
	col := map[axiom.LeadDimension]string{axiom.LeadTotal: "''", axiom.LeadBySource: "source", axiom.LeadByType: "type", axiom.LeadByStatus: "status"}[by]
	if col == "" {
		return nil, s.errorf(fmt.Errorf("no lead dimension %q", by), "count leads")
	}
	counts := make([]map[string]int, len(spans))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	var rolled []countPart
	for _, p := range countParts(spans) {
		if p.grain != "" {
			rolled = append(rolled, p)
			continue
		}
		group := " GROUP BY " + col
		if by == axiom.LeadTotal {
			group = "" // one row, counting every lead
		}
		rows, err := s.read().QueryContext(ctx, "SELECT "+col+", count(*) FROM leads WHERE account_id = $1 AND created_at >= $2 AND created_at < $3"+group,
			accountID, s.arg(time.UnixMilli(p.lo)), s.arg(time.UnixMilli(p.hi)))
		if err := addCounts(rows, err, counts[p.i]); err != nil {
			return nil, s.errorf(err, "count leads")
		}
	}
	for chunk := range slices.Chunk(rolled, partsPerQuery) {
		// The placeholders come in the order of their numbers, which SQLite
		// binds without looking each up by name among thousands.
		args := make([]any, 0, len(chunk)*5+2)
		rowsSQL := make([]string, len(chunk))
		for j, p := range chunk {
			n := len(args)
			args = append(args, p.i, p.grain, p.lo, p.hi, p.sign)
			// The first row's casts type every row's (PostgreSQL's rule
			// for VALUES); the others stay short to parse.
			format := "($%d, $%d, $%d, $%d, $%d)"
			if j == 0 {
				format = "(CAST($%d AS INTEGER), CAST($%d AS TEXT), CAST($%d AS BIGINT), CAST($%d AS BIGINT), CAST($%d AS INTEGER))"
			}
			rowsSQL[j] = fmt.Sprintf(format, n+1, n+2, n+3, n+4, n+5)
		}
		account, dim := fmt.Sprintf("$%d", len(args)+1), fmt.Sprintf("$%d", len(args)+2)
		args = append(args, accountID, string(by))
		// Built for each request, these statements are rebound but not kept.
		// CROSS JOIN keeps SQLite reading the parts first and each one's
		// range of counts by the primary key: with hundreds of parts its
		// planner would otherwise read all the account's counts, and look
		// each up among the parts.
		rows, err := s.r.QueryContext(ctx, s.rebind(`WITH p (i, grain, lo, hi, sign) AS (VALUES `+strings.Join(rowsSQL, ", ")+`)
			SELECT p.i, c.value, sum(p.sign * c.n) FROM p CROSS JOIN lead_counts c
			WHERE c.account_id = `+account+` AND c.grain = p.grain AND c.dim = `+dim+` AND c.slot >= p.lo AND c.slot < p.hi
			GROUP BY p.i, c.value`), args...)
		if err != nil {
			return nil, s.errorf(err, "count leads")
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var (
					i, n int
					v    string
				)
				if err := rows.Scan(&i, &v, &n); err != nil {
					return err
				}
				counts[i][v] += n
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, s.errorf(err, "count leads")
		}
	}
	for _, c := range counts {
		for v, n := range c {
			if n == 0 {
				delete(c, v)
			}
		}
	}
	return counts, nil
}

// addCounts adds rows of (value, count) to counts.
func addCounts(rows *sql.Rows, err error, counts map[string]int) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v string
			n int
		)
		if err := rows.Scan(&v, &n); err != nil {
			return err
		}
		counts[v] += n
	}
	return rows.Err()
}

// campaignStatsColumns are the figures of campaign c, as CampaignStats
// reads them: recipients, sent, failed, pending, suppressed, bounces,
// unsubscribes, opens, unique opens, clicks, unique clicks. The records of
// leads left out are no recipients: they count as suppressed.
func campaignStatsColumns(c string) []string {
	msgs := func(cond string) string {
		return "(SELECT count(*) FROM campaign_messages m WHERE m.campaign_id = " + c + ".id" + cond + ")"
	}
	status := func(st axiom.MessageStatus) string { return msgs(" AND m.status = " + lit(st)) }
	events := func(agg, kind string) string {
		return "(SELECT " + agg + " FROM campaign_events e WHERE e.campaign_id = " + c + ".id AND e.kind = '" + kind + "')"
	}
	return []string{
		msgs(" AND m.status <> " + lit(axiom.MessageSuppressed)), status(axiom.MessageSent), status(axiom.MessageFailed),
		status(axiom.MessageQueued), status(axiom.MessageSuppressed), msgs(" AND m.bounced"),
		msgs(" AND m.unsubscribed_at IS NOT NULL"),
		events("count(*)", "open"), events("count(DISTINCT e.message_id)", "open"),
		events("count(*)", "click"), events("count(DISTINCT e.message_id)", "click"),
	}
}

func statsDest(st *axiom.CampaignStats) []any {
	return []any{&st.Recipients, &st.Sent, &st.Failed, &st.Pending, &st.Suppressed, &st.Bounces, &st.Unsubscribes,
		&st.Opens, &st.UniqueOpens, &st.Clicks, &st.UniqueClicks}
}

// CampaignPeriod returns the campaigns of accountID that started in [from,
// to): how many, the sum of their stats, and the page q of them, most
// recently started first, ties by id.
func (s *Store) CampaignPeriod(ctx context.Context, accountID string, from, to time.Time, q axiom.Query) (axiom.CampaignPeriod, error) {
	out := axiom.CampaignPeriod{From: from, To: to}
	if err := checkPage(q); err != nil {
		return out, s.errorf(err, "campaign period")
	}
	const started = " FROM campaigns c WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3"
	var sums []string
	for _, col := range campaignStatsColumns("c") {
		sums = append(sums, "coalesce(sum("+col+"), 0)")
	}
	t := &out.Totals
	if err := s.read().QueryRowContext(ctx, "SELECT count(*), "+strings.Join(sums, ", ")+started,
		accountID, s.arg(from), s.arg(to)).Scan(append([]any{&out.Campaigns}, statsDest(t)...)...); err != nil {
		return out, s.errorf(err, "campaign period")
	}
	p, err := listPage(ctx, s, q, func(row Scanner) (axiom.CampaignResult, error) {
		var (
			r       axiom.CampaignResult
			startAt Time
		)
		c := &r.Campaign
		err := row.Scan(append([]any{&c.ID, &c.AccountID, &c.Name, &c.Status, &startAt}, statsDest(&r.Stats)...)...)
		c.StartedAt = startAt.Ptr()
		return r, err
	}, "SELECT c.id, c.account_id, c.name, c.status, c.started_at, "+strings.Join(campaignStatsColumns("c"), ", ")+started+
		" ORDER BY c.started_at DESC, c.id DESC LIMIT $4 OFFSET $5", accountID, s.arg(from), s.arg(to))
	if err != nil {
		return out, s.errorf(err, "campaign period")
	}
	out.Page = p
	return out, nil
}

// PropertyStats counts the listings of accountID in scope by status and
// type, and gives their prices' statistics by type and by city.
func (s *Store) PropertyStats(ctx context.Context, accountID string, scope axiom.PropertyScope) (axiom.PropertyAnalytics, error) {
	out := axiom.PropertyAnalytics{Scope: scope, ByStatus: map[string]int{}, ByType: map[string]int{}}
	args := []any{accountID}
	where := "account_id = $1"
	if scope.From != nil {
		args = append(args, s.arg(*scope.From))
		where += fmt.Sprintf(" AND created_at >= $%d", len(args))
	}
	if scope.To != nil {
		args = append(args, s.arg(*scope.To))
		where += fmt.Sprintf(" AND created_at < $%d", len(args))
	}
	if scope.Status != "" {
		args = append(args, scope.Status)
		where += fmt.Sprintf(" AND status = $%d", len(args))
	}
	rows, err := s.read().QueryContext(ctx, "SELECT status, type, count(*) FROM properties WHERE "+where+" GROUP BY status, type", args...)
	if err != nil {
		return out, s.errorf(err, "property stats")
	}
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			var (
				status, typ string
				n           int
			)
			if err := rows.Scan(&status, &typ, &n); err != nil {
				return err
			}
			out.ByStatus[status] += n
			out.ByType[typ] += n
			out.Total += n
		}
		return rows.Err()
	}()
	if err != nil {
		return out, s.errorf(err, "property stats")
	}
	// The lower median is the row (n+1)/2 of a group sorted by price.
	prices := func(group string) string {
		return `SELECT ` + group + `, currency, cnt, lo, mid, hi, city FROM (
			SELECT ` + group + `, currency, price_minor AS mid, min(city) OVER g AS city,
				count(*) OVER g AS cnt, min(price_minor) OVER g AS lo, max(price_minor) OVER g AS hi,
				row_number() OVER (PARTITION BY ` + group + `, currency ORDER BY price_minor, id) AS rn
			FROM properties WHERE ` + where + `
			WINDOW g AS (PARTITION BY ` + group + `, currency)) t
		WHERE rn = (cnt + 1) / 2 ORDER BY ` + group + `, currency`
	}
	scanStats := func(row Scanner, keys ...any) (axiom.PriceStats, string, error) {
		var (
			ps   axiom.PriceStats
			city string
		)
		err := row.Scan(append(keys, &ps.Currency, &ps.Count, &ps.Min, &ps.Median, &ps.Max, &city)...)
		return ps, city, err
	}
	rows, err = s.read().QueryContext(ctx, prices("type"), args...)
	byType, err := collect(rows, err, 0, func(row Scanner) (axiom.TypePrices, error) {
		var tp axiom.TypePrices
		ps, _, err := scanStats(row, &tp.Type)
		tp.Prices = ps
		return tp, err
	})
	if err != nil {
		return out, s.errorf(err, "property prices by type")
	}
	rows, err = s.read().QueryContext(ctx, prices("country, city_key"), args...)
	byCity, err := collect(rows, err, 0, func(row Scanner) (axiom.CityPrices, error) {
		var (
			cp  axiom.CityPrices
			key string
		)
		ps, city, err := scanStats(row, &cp.Country, &key)
		cp.City, cp.Prices = city, ps
		return cp, err
	})
	if err != nil {
		return out, s.errorf(err, "property prices by city")
	}
	out.PricesByType, out.PricesByCity = byType, byCity
	return out, nil
}
