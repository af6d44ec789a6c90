package sqlstore

import (
	"context"

	"github.com/axiomkit/axiom"
)

// LeadMessages returns the messages of the account's campaigns to lead
// leadID (erased ones are no one's), oldest first, each as GetMessage
// returns it, with its links.
func (s *Store) LeadMessages(ctx context.Context, accountID, leadID string) ([]axiom.Message, error) {
	rows, err := s.read().QueryContext(ctx, "SELECT campaign_id, id FROM campaign_messages"+
		" WHERE account_id = $1 AND lead_id = $2 AND erased_at IS NULL ORDER BY created_at, seq", accountID, leadID)
	ids, err := collect(rows, err, 0, func(row Scanner) ([2]string, error) {
		var v [2]string
		return v, row.Scan(&v[0], &v[1])
	})
	if err != nil {
		return nil, s.errorf(err, "messages of lead %q", leadID)
	}
	ms := make([]axiom.Message, 0, len(ids))
	for _, id := range ids {
		m, err := s.GetMessage(ctx, accountID, id[0], id[1])
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// LeadEvents returns the opens and clicks counted of the messages of
// LeadMessages, in time order.
func (s *Store) LeadEvents(ctx context.Context, accountID, leadID string) ([]axiom.MessageEvent, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT e.message_id, e.kind, e.at, COALESCE(t.url, '') FROM campaign_events e
		JOIN campaign_messages m ON m.campaign_id = e.campaign_id AND m.id = e.message_id
		LEFT JOIN campaign_link_targets t ON t.campaign_id = e.campaign_id AND t.position = e.link_position
		WHERE m.account_id = $1 AND m.lead_id = $2 AND m.erased_at IS NULL ORDER BY e.at, e.message_id, e.kind`, accountID, leadID)
	evs, err := collect(rows, err, 0, func(row Scanner) (axiom.MessageEvent, error) {
		var (
			e  axiom.MessageEvent
			at Time
		)
		err := row.Scan(&e.MessageID, &e.Kind, &at, &e.URL)
		e.At = at.Time
		return e, err
	})
	return evs, s.errorf(err, "events of lead %q", leadID)
}
