package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// campaignDeadline bounds the wait for a sent campaign: a server's worker
// polls its outbox every second or so, and the run's campaigns have a
// handful of messages.
const campaignDeadline = 30 * time.Second

// campaignOps are the operations the campaign checks need.
var campaignOps = []string{
	"createLead", "getLead", "createTemplate", "deleteTemplate", "createCampaign", "getCampaign", "listCampaigns",
	"updateCampaign", "deleteCampaign", "scheduleCampaign", "sendCampaign", "cancelCampaign", "getCampaignStats",
	"listCampaignMessages", "getCampaignMessage", "trackOpen", "trackClick", "trackLegacyClick", "unsubscribePage", "unsubscribe",
}

// campaignFixture is what the run's campaigns send and to whom. A campaign
// goes to every matching lead of the account, so every audience the suite
// sends to names the run's tag, which only the leads it created carry:
// against a shared account it can email no one else.
type campaignFixture struct {
	tag      string // the run's lead tag
	template string // the slug of the campaigns' template
	offer    string // the template's link, under the run's own test domain; never fetched
	// leads are the run's tagged leads, in creation order, in the state
	// the spec gives them (unsubscribed once the suite followed their link).
	leads []map[string]any
	// suppressed are the run's addresses on the account's suppression
	// list, by their lower-cased form.
	suppressed map[string]bool
}

// oneClick is the body of RFC 8058's one-click unsubscribe.
const oneClick = "List-Unsubscribe=One-Click"

// subjectTemplate is the template's subject; each message's is the lead's name filled in.
const subjectTemplate = "Offer for {{name}}"

// tokenRE finds the tokens of the public links in a message's HTML, by
// path: the host is the server's public URL, which the suite does not use.
// The API shows each as REDACTED.
var tokenRE = map[string]*regexp.Regexp{
	"trackOpen":   regexp.MustCompile(`/t/o/([0-9A-Za-z_-]{8,128})`),
	"trackClick":  regexp.MustCompile(`/t/c/([0-9A-Za-z_-]{8,128})/[0-9]+`),
	"unsubscribe": regexp.MustCompile(`/u/([0-9A-Za-z_-]{8,128})`),
}

// redacted is how the API shows a token.
const redacted = "REDACTED"

// campaigns checks the campaign operations: the lifecycle from draft to
// sent, the states that refuse an operation, and the public tracking and
// unsubscribe links of the messages.
func (r *runner) campaigns(ctx context.Context) {
	covered := true
	for _, c := range []string{CampaignLifecycle, CampaignStateRules, TrackingLinks} {
		covered = r.need(c, campaignOps...) && covered
	}
	if !covered {
		return
	}
	f := r.campaignFixture(ctx)
	if f == nil {
		return
	}
	r.fixture = f
	sent, msgs := r.campaignLifecycle(ctx, f)
	if sent != "" {
		r.trackingLinks(ctx, f, sent, msgs)
		r.refusedWhenSent(ctx, sent)
		r.laterCampaign(ctx, f)
	}
	cancelled := r.campaignStateRules(ctx, f)
	// The account's campaigns may not all be the run's: they are only read.
	r.pages(ctx, "listCampaigns", "id", nil, 3)
	r.sortOrders(ctx, "listCampaigns", "id", nil, []string{"name", "updated_at", "created_at"})
	if cancelled != "" {
		r.deleteAndCheck(ctx, "campaign", "deleteCampaign", "getCampaign", "id", cancelled, r.cfg.APIKey)
	}
}

// campaignFixture creates the template and the tagged leads of the run's
// campaigns: an active lead, an active client, an inactive lead and an
// unsubscribed lead.
func (r *runner) campaignFixture(ctx context.Context) *campaignFixture {
	f := &campaignFixture{tag: "axiom-contract-" + r.tag, offer: "https://" + r.tag + ".axiom-contract.test/offer", suppressed: map[string]bool{}}
	f.template = r.createTemplate(ctx, map[string]any{
		"name":    "Contract campaign " + r.tag,
		"subject": subjectTemplate,
		"content": `<!doctype html><html><body><p>Hello {{name}},</p><p><a href="` + f.offer + `">See the offer</a></p></body></html>`,
	}, "create the template of the run's campaigns")
	if f.template == "" {
		return nil
	}
	for i, l := range []struct{ typ, status string }{{"lead", "active"}, {"client", "active"}, {"lead", "inactive"}, {"lead", "unsubscribed"}} {
		body := map[string]any{
			"name": fmt.Sprintf("Recipient %s %c", r.tag, 'A'+i), "email": r.gen.email(),
			"type": l.typ, "status": l.status, "tags": []any{f.tag},
		}
		lead := r.createLead(ctx, body, r.cfg.APIKey, fmt.Sprintf("create an %s %s with the run's campaign tag %s", l.status, l.typ, f.tag))
		if lead == nil {
			return nil
		}
		f.leads = append(f.leads, lead)
	}
	return f
}

// restricted reports whether a campaign, as the server answered it, can
// reach only the run's leads: its audience names the run's tag alone.
func (f *campaignFixture) restricted(c map[string]any) error {
	a, _ := c["audience"].(map[string]any)
	if tags, _ := a["tags"].([]any); len(tags) == 1 && tags[0] == f.tag {
		return nil
	}
	return fmt.Errorf("the campaign's audience is %s, not restricted to the run's tag %q: the suite will not send it, since it could reach leads the run did not create",
		compact(c["audience"]), f.tag)
}

// audience splits the run's leads of an audience, by the spec's rule: a
// lead is of it with one of its tags if any, its type among types if any
// and its status among statuses if any; of those, an unsubscribed lead,
// or one whose address is suppressed, is left out (recorded, not mailed),
// the others are the recipients.
func (f *campaignFixture) audience(audience any) (recipients, leftOut []map[string]any) {
	a, _ := audience.(map[string]any)
	anyOf := func(list any, v ...any) bool {
		l, ok := list.([]any)
		if !ok || len(l) == 0 {
			return true
		}
		for _, x := range v {
			if slices.Contains(l, x) {
				return true
			}
		}
		return false
	}
	for _, l := range f.leads {
		tags, _ := l["tags"].([]any)
		if !anyOf(a["tags"], tags...) || !anyOf(a["types"], l["type"]) || !anyOf(a["statuses"], l["status"]) {
			continue
		}
		email, _ := l["email"].(string)
		if l["status"] == "unsubscribed" || f.suppressed[strings.ToLower(email)] {
			leftOut = append(leftOut, l)
		} else {
			recipients = append(recipients, l)
		}
	}
	return recipients, leftOut
}

// recipients are the run's leads an audience mails.
func (f *campaignFixture) recipients(audience any) []map[string]any {
	r, _ := f.audience(audience)
	return r
}

// mailed are the messages of msgs sent or to send: not the records of
// leads left out.
func mailed(msgs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range msgs {
		if m["status"] != "suppressed" {
			out = append(out, m)
		}
	}
	return out
}

func (r *runner) campaignCall(ctx context.Context, op, id string, body any, key, scenario string) *response {
	return r.do(ctx, &call{op: op, params: map[string]string{"id": id}, body: body, key: key, scenario: scenario})
}

// dataOf decodes the object (a campaign, a listing, an entry of the
// suppression list) a response answered with status want.
func dataOf(res *response, want int) (map[string]any, error) {
	if res.status != want {
		return nil, fmt.Errorf("answered %d, not %d: %s", res.status, want, errorSummary(res.body))
	}
	var c map[string]any
	if err := data(res, &c); err != nil {
		return nil, err
	}
	return c, nil
}

// refused records whether res is the 422 with code that the spec gives.
func (r *runner) refused(check string, res *response, code, what string) {
	if res.err != nil {
		return
	}
	var err error
	if got := errorCode(res); res.status != http.StatusUnprocessableEntity || got != code {
		err = fmt.Errorf("%s answered %s, not 422 %s", what, answer(res.status, got), code)
	}
	r.record(check, "", res, err)
}

// futureTime is a schedule far enough ahead that no campaign of the run
// starts on its own, in whole seconds.
func futureTime() time.Time { return time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second) }

func timeField(c map[string]any, field string) (time.Time, bool) {
	s, _ := c[field].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// checkStatus checks a campaign's status and which of its times are set.
func checkStatus(c map[string]any, status string, started, completed bool) error {
	var errs []string
	if c["status"] != status {
		errs = append(errs, fmt.Sprintf("status is %v, not %s", c["status"], status))
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"started_at", started}, {"completed_at", completed}} {
		if _, ok := timeField(c, f.name); ok != f.set {
			errs = append(errs, fmt.Sprintf("%s is %s, want it %s", f.name, compact(c[f.name]), map[bool]string{true: "set", false: "null"}[f.set]))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("the campaign: %s", strings.Join(errs, "; "))
}

func counts(c map[string]any) (recipients, sent, failed int) {
	m, _ := c["counts"].(map[string]any)
	num := func(k string) int { f, _ := m[k].(float64); return int(f) }
	return num("recipients"), num("sent"), num("failed")
}

// campaignLifecycle takes a campaign from draft through scheduled and
// sending to sent, checking each step, and returns its id and messages
// once sent ("" when it did not get there).
func (r *runner) campaignLifecycle(ctx context.Context, f *campaignFixture) (string, []map[string]any) {
	key := r.cfg.APIKey
	body := map[string]any{"name": "Lifecycle " + r.tag, "template": f.template, "audience": map[string]any{"tags": []any{f.tag}}}
	res := r.do(ctx, &call{op: "createCampaign", body: body, key: key, scenario: "create a draft campaign to the run's tag"})
	if res.err != nil {
		return "", nil
	}
	c, err := dataOf(res, http.StatusCreated)
	if err != nil {
		r.record(CampaignLifecycle, "", res, fmt.Errorf("a valid draft campaign %w", err))
		r.trackCreated(res, "campaign", key)
		return "", nil
	}
	id, _ := c["id"].(string)
	r.track("campaign", id, key)
	r.record(PositiveDataAcceptance, "", res, diffError("the created campaign differs from what was sent", differences(body, c)))
	err = checkStatus(c, "draft", false, false)
	if rc, sc, fc := counts(c); err == nil && (c["scheduled_at"] != nil || rc+sc+fc != 0) {
		err = fmt.Errorf("a new draft has scheduled_at %s and counts %s, want null and zeros", compact(c["scheduled_at"]), compact(c["counts"]))
	}
	r.record(CampaignLifecycle, "", res, err)
	if err := f.restricted(c); err != nil {
		r.record(CampaignLifecycle, "", res, err)
		return "", nil
	}
	if id == "" {
		return "", nil
	}

	r.campaignIsolation(ctx, c)
	if got, res := r.get(ctx, "getCampaign", "id", id, key, "fetch the campaign just created"); res.err == nil {
		err := fmt.Errorf("the campaign just created answered %d", res.status)
		if got != nil {
			err = diffError("the campaign reads back differently from its creation", differences(c, got))
		}
		r.record(CreatedResourceAvailable, "getCampaign", res, err)
		if r.cfg.SecondAccountKey != "" {
			r.record(AccountIsolation, "getCampaign", res, err)
		}
	}
	items, _, lres, err := r.list(ctx, "listCampaigns", url.Values{"limit": {"100"}}, key, "list the newest campaigns")
	if err == nil && !slices.Contains(ids(items, "id"), id) {
		err = fmt.Errorf("campaign %s, the newest, is missing from the first page", id)
	}
	if lres.err == nil {
		r.record(CreatedResourceAvailable, "listCampaigns", lres, err)
	}

	// An update that narrows the audience to leads, read back.
	patch := map[string]any{"name": "Lifecycle " + r.tag + " renamed", "audience": map[string]any{"tags": []any{f.tag}, "types": []any{"lead"}}}
	res = r.campaignCall(ctx, "updateCampaign", id, patch, key, "rename the draft and narrow its audience to leads")
	if res.err != nil {
		return "", nil
	}
	got, err := dataOf(res, http.StatusOK)
	if err != nil {
		r.record(UpdateReadsBack, "updateCampaign", res, fmt.Errorf("a valid update of a draft %w", err))
		return "", nil
	}
	r.record(UpdateReadsBack, "updateCampaign", res,
		diffError("the updated campaign does not hold the patch, or lost fields it did not name", differences(merged(c, patch), got, "updated_at")))
	if err := f.restricted(got); err != nil {
		r.record(CampaignLifecycle, "", res, err)
		return "", nil
	}
	c = got
	if after, gres := r.get(ctx, "getCampaign", "id", id, key, "fetch the campaign just updated"); gres.err == nil {
		err := fmt.Errorf("the campaign just updated answered %d", gres.status)
		if after != nil {
			err = diffError("the campaign reads back differently from its update", differences(c, after))
		}
		r.record(UpdateReadsBack, "getCampaign", gres, err)
	}

	at := futureTime()
	res = r.campaignCall(ctx, "scheduleCampaign", id, map[string]any{"scheduled_at": at.Format(time.RFC3339)}, key, "schedule the draft a month ahead")
	if res.err != nil {
		return "", nil
	}
	if got, err = dataOf(res, http.StatusOK); err == nil {
		err = checkStatus(got, "scheduled", false, false)
		if t, ok := timeField(got, "scheduled_at"); err == nil && (!ok || !t.Equal(at)) {
			err = fmt.Errorf("scheduled_at reads %s, not the %s asked for", compact(got["scheduled_at"]), at.Format(time.RFC3339))
		}
	}
	r.record(CampaignLifecycle, "", res, err)
	if err != nil {
		return "", nil
	}

	want, left := f.audience(c["audience"])
	res = r.campaignCall(ctx, "sendCampaign", id, nil, key, fmt.Sprintf("send the scheduled campaign now, to the run's %d leads of its audience", len(want)))
	if res.err != nil {
		return "", nil
	}
	if got, err = dataOf(res, http.StatusAccepted); err == nil {
		err = checkStatus(got, "sending", true, false)
	}
	r.record(CampaignLifecycle, "", res, err)
	if err != nil {
		return "", nil
	}

	got, res, err = r.awaitSent(ctx, id)
	if err == nil {
		if rc, sc, fc := counts(got); rc != len(want) || sc+fc != rc {
			err = fmt.Errorf("the sent campaign's counts are %s; the run has %d leads in its audience, and every message must be sent or failed", compact(got["counts"]), len(want))
		}
	}
	if res.err == nil {
		r.record(CampaignLifecycle, "", res, err)
	}
	if err != nil {
		return "", nil
	}
	r.fixtureCampaign = id

	st, sres := r.campaignStats(ctx, id, "the sent campaign's statistics, before any open")
	if st != nil {
		err := statsError(st, len(want), map[string]int{"pending": 0, "opens": 0, "unique_opens": 0, "clicks": 0, "unique_clicks": 0, "unsubscribes": 0,
			"suppressed": len(left)})
		if _, sc, fc := counts(got); err == nil && (st["sent"] != sc || st["failed"] != fc) {
			err = fmt.Errorf("the statistics say %d sent and %d failed, the campaign's counts %d and %d", st["sent"], st["failed"], sc, fc)
		}
		r.record(CampaignLifecycle, "", sres, err)
	}

	msgs, mres, err := r.campaignMessages(ctx, id, "list the sent campaign's messages")
	if mres.err != nil {
		return "", nil
	}
	if err == nil {
		err = f.checkMessages(msgs, want, left, true)
	}
	r.record(CampaignLifecycle, "", mres, err)
	if err != nil {
		return "", nil
	}

	items, _, lres, err = r.list(ctx, "listCampaigns", url.Values{"status": {"sent"}, "limit": {"100"}}, key, "list the sent campaigns")
	if err == nil {
		if !slices.Contains(ids(items, "id"), id) {
			err = fmt.Errorf("the sent campaign %s is missing from the list of sent campaigns", id)
		}
		for _, it := range items {
			if it["status"] != "sent" && err == nil {
				err = fmt.Errorf("campaign %v, %v, is in the list of sent campaigns", it["id"], it["status"])
			}
		}
	}
	if lres.err == nil {
		r.record(CampaignLifecycle, "listCampaigns", lres, err)
	}
	return id, msgs
}

// awaitSent polls a sending campaign until it is sent, within
// campaignDeadline, paced by the rate-limit headers and a growing wait.
func (r *runner) awaitSent(ctx context.Context, id string) (map[string]any, *response, error) {
	deadline := time.Now().Add(campaignDeadline)
	wait := 25 * time.Millisecond
	for {
		if err := sleep(ctx, wait); err != nil {
			return nil, &response{err: err}, err
		}
		wait = min(2*wait, time.Second)
		got, res := r.get(ctx, "getCampaign", "id", id, r.cfg.APIKey, "poll the campaign until it is sent")
		if res.err != nil {
			return nil, res, res.err
		}
		if got == nil {
			return nil, res, fmt.Errorf("the sending campaign answered %d: %s", res.status, errorSummary(res.body))
		}
		switch got["status"] {
		case "sent":
			return got, res, checkStatus(got, "sent", true, true)
		case "sending":
			if time.Now().After(deadline) {
				return got, res, fmt.Errorf("the campaign is still sending %s after it was sent: %s", campaignDeadline, compact(got["counts"]))
			}
		default:
			return got, res, fmt.Errorf("after send answered 202, the campaign is %v, neither sending nor sent", got["status"])
		}
	}
}

// campaignStats fetches a campaign's figures as integers.
func (r *runner) campaignStats(ctx context.Context, id, scenario string) (map[string]int, *response) {
	res := r.campaignCall(ctx, "getCampaignStats", id, nil, r.cfg.APIKey, scenario)
	if res.err != nil || res.status != http.StatusOK {
		if res.err == nil {
			r.record(CampaignLifecycle, "", res, fmt.Errorf("the statistics of the run's campaign answered %d: %s", res.status, errorSummary(res.body)))
		}
		return nil, res
	}
	var raw map[string]float64
	if err := data(res, &raw); err != nil {
		r.record(CampaignLifecycle, "", res, err)
		return nil, res
	}
	st := map[string]int{}
	for k, v := range raw {
		st[k] = int(v)
	}
	return st, res
}

// statsError checks a campaign's figures: recipients, every message sent,
// failed or pending, the unique figures within the totals, and the values
// of want.
func statsError(st map[string]int, recipients int, want map[string]int) error {
	var errs []string
	if st["recipients"] != recipients {
		errs = append(errs, fmt.Sprintf("recipients is %d, not the %d leads of the run in the audience", st["recipients"], recipients))
	}
	if st["sent"]+st["failed"]+st["pending"] != st["recipients"] {
		errs = append(errs, fmt.Sprintf("sent %d + failed %d + pending %d is not recipients %d", st["sent"], st["failed"], st["pending"], st["recipients"]))
	}
	if st["unique_opens"] > st["opens"] || st["unique_clicks"] > st["clicks"] || st["unique_opens"] > st["recipients"] || st["unique_clicks"] > st["recipients"] {
		errs = append(errs, "a unique figure exceeds its total or the recipients")
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if st[k] != want[k] {
			errs = append(errs, fmt.Sprintf("%s is %d, want %d", k, st[k], want[k]))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("statistics %s: %s", compact(st), strings.Join(errs, "; "))
}

// campaignMessages lists a campaign's first 100 messages.
func (r *runner) campaignMessages(ctx context.Context, id, scenario string) ([]map[string]any, *response, error) {
	res := r.do(ctx, &call{op: "listCampaignMessages", params: map[string]string{"id": id}, query: url.Values{"limit": {"100"}}, key: r.cfg.APIKey, scenario: scenario})
	if res.err != nil {
		return nil, res, res.err
	}
	if res.status != http.StatusOK {
		return nil, res, fmt.Errorf("listing the messages answered %d: %s", res.status, errorSummary(res.body))
	}
	var msgs []map[string]any
	if err := data(res, &msgs); err != nil {
		return nil, res, err
	}
	// The listing has no bodies: each mailed message's is read on its own.
	for _, m := range msgs {
		if _, ok := m["html"]; ok {
			return nil, res, fmt.Errorf("the listing carries the body of message %v: it is only for getCampaignMessage", m["id"])
		}
		if m["status"] == "suppressed" {
			continue
		}
		mid, _ := m["id"].(string)
		one := r.do(ctx, &call{op: "getCampaignMessage", params: map[string]string{"id": id, "message_id": mid}, key: r.cfg.APIKey,
			scenario: "read one message of the run's campaign, with its body"})
		if one.err != nil {
			return nil, one, one.err
		}
		full, err := dataOf(one, http.StatusOK)
		if err != nil {
			return nil, one, fmt.Errorf("reading message %s %w", mid, err)
		}
		m["html"], m["text"] = full["html"], full["text"]
	}
	return msgs, res, nil
}

// checkMessages checks that a campaign has one message per lead of want,
// to that lead, rendered for it, oldest lead first, and, when final, sent
// or failed; and, for each lead of left, the record of it left out: a
// message of status suppressed, never sent, that says why.
func (f *campaignFixture) checkMessages(msgs, want, left []map[string]any, final bool) error {
	byID := map[string]map[string]any{}
	for _, l := range want {
		byID[l["id"].(string)] = l
	}
	leftOut := map[string]map[string]any{}
	for _, l := range left {
		leftOut[l["id"].(string)] = l
	}
	var errs []string
	seen := map[string]bool{}
	var last time.Time
	for i, m := range msgs {
		leadID, _ := m["lead_id"].(string)
		if seen[leadID] {
			errs = append(errs, fmt.Sprintf("lead %s has two messages", leadID))
		}
		seen[leadID] = true
		if l, ok := leftOut[leadID]; ok {
			if m["status"] != "suppressed" || m["sent_at"] != nil || m["error"] == "" || !strings.EqualFold(fmt.Sprint(m["to"]), fmt.Sprint(l["email"])) {
				errs = append(errs, fmt.Sprintf("lead %s <%v>, unsubscribed or suppressed, has message %s: want the record of it left out, status suppressed, never sent, with the reason in error",
					leadID, l["email"], compact(map[string]any{"status": m["status"], "sent_at": m["sent_at"], "error": m["error"]})))
			}
			continue
		}
		l, ok := byID[leadID]
		if !ok {
			errs = append(errs, fmt.Sprintf("message %d goes to lead %s <%v>, not one of the run's leads in the audience", i, leadID, m["to"]))
			continue
		}
		to, _ := m["to"].(string)
		email, _ := l["email"].(string)
		name, _ := l["name"].(string)
		if !strings.EqualFold(to, email) {
			errs = append(errs, fmt.Sprintf("the message to lead %s is addressed to %q, not its email %q", leadID, to, email))
		}
		if subject := strings.ReplaceAll(subjectTemplate, "{{name}}", name); m["subject"] != subject {
			errs = append(errs, fmt.Sprintf("the message to %s has subject %s, not %q", email, compact(m["subject"]), subject))
		}
		body, _ := m["html"].(string)
		if !strings.Contains(body, html.EscapeString(name)) {
			errs = append(errs, fmt.Sprintf("the message to %s does not hold the lead's name %q: merge fields not filled in", email, name))
		}
		for _, op := range []string{"trackOpen", "trackClick", "unsubscribe"} {
			found := tokenRE[op].FindAllStringSubmatch(body, -1)
			if len(found) == 0 {
				errs = append(errs, fmt.Sprintf("the html of the message to %s has no %s link (%s)", email, op, tokenRE[op]))
			}
			for _, t := range found {
				if t[1] != redacted {
					errs = append(errs, fmt.Sprintf("the html of the message to %s shows a live token of its %s link (%s…), not REDACTED: a token is the recipient's credential",
						email, op, truncate(t[1], 4)))
					break
				}
			}
		}
		if strings.Contains(body, `"`+f.offer+`"`) {
			errs = append(errs, fmt.Sprintf("the message to %s links to %s directly, not through a tracked link", email, f.offer))
		}
		switch status := m["status"]; {
		case status == "sent" || status == "failed":
		case status == "queued" && !final:
		default:
			errs = append(errs, fmt.Sprintf("the message to %s is %v once the campaign is sent", email, status))
		}
		if created, ok := timeField(l, "created_at"); ok {
			if created.Before(last) {
				errs = append(errs, "the messages are not ordered by recipient, oldest lead first")
			}
			last = created
		}
	}
	for _, l := range want {
		if !seen[l["id"].(string)] {
			errs = append(errs, fmt.Sprintf("lead %s <%v>, in the audience, has no message", l["id"], l["email"]))
		}
	}
	for _, l := range left {
		if !seen[l["id"].(string)] {
			errs = append(errs, fmt.Sprintf("lead %s <%v>, of the audience but unsubscribed or suppressed, has no record of being left out", l["id"], l["email"]))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d messages for %d leads in the audience and %d left out: %s", len(msgs), len(want), len(left), strings.Join(errs, "; "))
}

// campaignIsolation checks that a second account can neither see nor touch
// the campaign: every campaign operation answers 404.
func (r *runner) campaignIsolation(ctx context.Context, c map[string]any) {
	other := r.cfg.SecondAccountKey
	if other == "" {
		return
	}
	id := c["id"].(string)
	probes := []struct {
		op   string
		body any
		verb string
	}{
		{"getCampaign", nil, "read"}, {"getCampaignStats", nil, "read the statistics of"},
		{"listCampaignMessages", nil, "list the messages of"}, {"updateCampaign", map[string]any{"name": "Intruder " + r.tag}, "change"},
		{"scheduleCampaign", map[string]any{"scheduled_at": futureTime().Format(time.RFC3339)}, "schedule"},
		{"sendCampaign", nil, "send"}, {"cancelCampaign", nil, "cancel"}, {"deleteCampaign", nil, "delete"},
	}
	for _, p := range probes {
		res := r.campaignCall(ctx, p.op, id, p.body, other, fmt.Sprintf("%s the first account's campaign %s with the second account's key", p.verb, id))
		if res.err != nil {
			continue
		}
		var err error
		if res.status != http.StatusNotFound {
			err = fmt.Errorf("the second account could %s the first account's campaign: %d, not 404", p.verb, res.status)
			if p.op == "deleteCampaign" && res.status/100 == 2 {
				r.untrack("campaign", id)
			}
		}
		r.record(AccountIsolation, p.op, res, err)
	}
	items, _, res, err := r.list(ctx, "listCampaigns", url.Values{"limit": {"100"}}, other, "list the campaigns with the second account's key")
	if err == nil && slices.Contains(ids(items, "id"), id) {
		err = fmt.Errorf("the second account's list shows the first account's campaign %s", id)
	}
	if res.err == nil {
		r.record(AccountIsolation, "listCampaigns", res, err)
	}
}

// publicCall calls a public operation with a token.
func (r *runner) publicCall(ctx context.Context, op, token, scenario string) *response {
	return r.do(ctx, &call{op: op, params: map[string]string{"token": token}, scenario: scenario})
}

// trackingLinks follows the links of the sent campaign's messages: the
// pixel of the first message twice and of the last once, the first one's
// tracked link twice, the last one's unsubscribe link twice; then checks
// the statistics, the lead, and tokens that name nothing.
func (r *runner) trackingLinks(ctx context.Context, f *campaignFixture, id string, msgs []map[string]any) {
	if msgs = mailed(msgs); len(msgs) == 0 {
		return
	}
	if r.cfg.LiveLinks == nil {
		r.skip(TrackingLinks, "", "no Config.LiveLinks (axiom contract --mail-sink): the API shows the messages' tokens only as REDACTED")
		return
	}
	first, last := msgs[0], msgs[len(msgs)-1]
	live := map[string]LiveLinks{}
	for _, m := range []map[string]any{first, last} {
		mid, _ := m["id"].(string)
		to, _ := m["to"].(string)
		l, err := r.cfg.LiveLinks(ctx, SentMessage{CampaignID: id, ID: mid, To: to})
		if err != nil || l.Open == "" || l.Click == "" || l.ClickPosition == "" || l.Unsubscribe == "" {
			r.skip(TrackingLinks, "", fmt.Sprintf("Config.LiveLinks of message %s: %+v, %v", mid, l, err))
			return
		}
		live[mid] = l
	}
	token := func(m map[string]any, op string) string {
		l := live[m["id"].(string)]
		return map[string]string{"trackOpen": l.Open, "trackClick": l.Click, "unsubscribe": l.Unsubscribe}[op]
	}
	opens := []string{token(first, "trackOpen"), token(first, "trackOpen"), token(last, "trackOpen")}
	for _, t := range opens {
		res := r.publicCall(ctx, "trackOpen", t, "load the open-tracking pixel of a message of the run's campaign")
		if res.err != nil {
			return
		}
		var err error
		switch {
		case res.status != http.StatusOK:
			err = fmt.Errorf("the pixel of a sent message answered %d: %s", res.status, errorSummary(res.body))
		case res.header.Get("Cache-Control") != "no-store":
			err = fmt.Errorf("the pixel's Cache-Control is %q, not no-store: a cached pixel counts no further opens", res.header.Get("Cache-Control"))
		case !bytes.HasPrefix(res.body, []byte("GIF87a")) && !bytes.HasPrefix(res.body, []byte("GIF89a")):
			err = fmt.Errorf("the pixel is not a GIF: %q", truncate(string(res.body), 20))
		}
		r.record(TrackingLinks, "", res, err)
	}
	click := token(first, "trackClick")
	position := live[first["id"].(string)].ClickPosition
	for range 2 {
		res := r.do(ctx, &call{op: "trackClick", params: map[string]string{"token": click, "position": position},
			scenario: "follow the tracked link of a message of the run's campaign (the redirect is not followed)"})
		if res.err != nil {
			return
		}
		var err error
		if loc := res.header.Get("Location"); res.status != http.StatusFound || loc != f.offer {
			err = fmt.Errorf("the tracked link answered %d to %q, not 302 to the template's link %q", res.status, loc, f.offer)
		}
		r.record(TrackingLinks, "", res, err)
	}
	leadID, _ := last["lead_id"].(string)
	unsub := token(last, "unsubscribe")
	// The link's page unsubscribes nobody: link scanners fetch every URL.
	if res := r.publicCall(ctx, "unsubscribePage", unsub, "open the unsubscribe link of a message (a GET, as a link scanner makes)"); res.err == nil {
		var err error
		switch ct := res.header.Get("Content-Type"); {
		case res.status != http.StatusOK || !strings.HasPrefix(ct, "text/html"):
			err = fmt.Errorf("the unsubscribe link answered %d %q, not 200 text/html", res.status, ct)
		case !strings.Contains(string(res.body), "<form") || !strings.Contains(string(res.body), "List-Unsubscribe"):
			err = fmt.Errorf("the unsubscribe page has no form that POSTs List-Unsubscribe=One-Click: %s", truncate(string(res.body), 300))
		}
		r.record(TrackingLinks, "", res, err)
	}
	if lead, res := r.get(ctx, "getLead", "id", leadID, r.cfg.APIKey, "fetch the lead whose unsubscribe link was only opened"); res.err == nil && lead != nil {
		var err error
		if lead["status"] == "unsubscribed" {
			err = errors.New("a GET of the unsubscribe link unsubscribed the lead: a link scanner unsubscribes every recipient it visits")
		}
		r.record(TrackingLinks, "getLead", res, err)
	}
	unsubscribed := false
	for i := range 2 {
		res := r.do(ctx, &call{op: "unsubscribe", params: map[string]string{"token": unsub}, raw: []byte(oneClick), ctype: "application/x-www-form-urlencoded",
			scenario: []string{"one-click unsubscribe (RFC 8058): POST List-Unsubscribe=One-Click to the link", "the same one-click unsubscribe again"}[i]})
		if res.err != nil {
			return
		}
		var err error
		if ct := res.header.Get("Content-Type"); res.status != http.StatusOK || !strings.HasPrefix(ct, "text/html") {
			err = fmt.Errorf("the one-click unsubscribe answered %d %q, not 200 text/html", res.status, ct)
		}
		r.record(TrackingLinks, "", res, err)
		unsubscribed = unsubscribed || err == nil
	}
	email, _ := last["to"].(string)
	if unsubscribed {
		// From now on the spec leaves this lead out of every campaign.
		for _, l := range f.leads {
			if l["id"] == leadID {
				l["status"] = "unsubscribed"
			}
		}
		if r.has("getSuppression") {
			r.track("suppression", email, r.cfg.APIKey)
			f.suppressed[strings.ToLower(email)] = true
			res := r.do(ctx, &call{op: "getSuppression", params: map[string]string{"email": email}, key: r.cfg.APIKey,
				scenario: "look up the address that unsubscribed in the suppression list"})
			if res.err == nil {
				var sup map[string]any
				err := data(res, &sup)
				if res.status != http.StatusOK {
					err = fmt.Errorf("the address that unsubscribed is not on the suppression list: %d %s", res.status, errorSummary(res.body))
				} else if err == nil && (sup["reason"] != "unsubscribed" || sup["campaign_id"] != id) {
					err = fmt.Errorf("the entry of the address that unsubscribed is %s, not reason unsubscribed from campaign %s", compact(sup), id)
				}
				r.record(TrackingLinks, "getSuppression", res, err)
			}
		}
	}
	if lead, res := r.get(ctx, "getLead", "id", leadID, r.cfg.APIKey, "fetch the lead who unsubscribed"); res.err == nil {
		err := fmt.Errorf("the lead answered %d", res.status)
		if lead != nil {
			err = nil
			if lead["status"] != "unsubscribed" {
				err = fmt.Errorf("after the one-click unsubscribe the lead's status is %v, not unsubscribed", lead["status"])
			}
		}
		r.record(TrackingLinks, "getLead", res, err)
	}
	uniqueOpens := 2
	if first["id"] == last["id"] {
		uniqueOpens = 1
	}
	if st, res := r.campaignStats(ctx, id, "the statistics after 3 opens, 2 clicks and an unsubscribe"); st != nil {
		r.record(TrackingLinks, "", res, statsError(st, len(msgs), map[string]int{
			"opens": 3, "unique_opens": uniqueOpens, "clicks": 2, "unique_clicks": 1, "unsubscribes": 1,
		}))
	}

	// A real message's token with a position it has no link at, or one it
	// would not write so, names nothing, as an unknown token does.
	for _, p := range []string{"100000", "0" + position, "+" + position, position + "x", "99999999999999999999999"} {
		res := r.do(ctx, &call{op: "trackClick", params: map[string]string{"token": click, "position": p},
			scenario: "follow a tracked link of a real message at a position it has no link at (" + p + ")"})
		if res.err != nil {
			return
		}
		var err error
		if code := errorCode(res); res.status != http.StatusNotFound || code != "not_found" {
			err = fmt.Errorf("trackClick at position %q answered %s, not 404 not_found", p, answer(res.status, code))
		}
		r.record(TrackingLinks, "", res, err)
	}

	unknown := "unknown-" + r.tag + "-token"
	alter := "A"
	if strings.HasSuffix(unsub, alter) {
		alter = "B"
	}
	altered := unsub[:len(unsub)-1] + alter
	for _, op := range []string{"trackOpen", "trackClick", "trackLegacyClick", "unsubscribePage", "unsubscribe"} {
		for _, t := range []struct {
			token, what, code string
			status            int
		}{{unknown, "a well-formed token that names nothing", "not_found", http.StatusNotFound}, {"tooshort", "a malformed token", "invalid_parameter", http.StatusBadRequest},
			{altered, "a real token with its last character altered", "not_found", http.StatusNotFound}} {
			c := &call{op: op, params: map[string]string{"token": t.token}, scenario: "call " + op + " with " + t.what}
			if op == "trackClick" {
				c.params["position"] = "0"
			}
			if op == "unsubscribe" {
				c.raw, c.ctype = []byte(oneClick), "application/x-www-form-urlencoded"
			}
			res := r.do(ctx, c)
			if res.err != nil {
				return
			}
			var err error
			if code := errorCode(res); res.status != t.status || code != t.code {
				err = fmt.Errorf("%s with %s answered %s, not %d %s", op, t.what, answer(res.status, code), t.status, t.code)
			}
			r.record(TrackingLinks, "", res, err)
		}
	}
}

// refusedWhenSent checks that a sent campaign can no longer be changed,
// sent, scheduled nor cancelled.
func (r *runner) refusedWhenSent(ctx context.Context, id string) {
	key := r.cfg.APIKey
	for _, p := range []struct {
		op   string
		body any
		what string
	}{
		{"updateCampaign", map[string]any{"name": "Too late " + r.tag}, "an update of a sent campaign"},
		{"sendCampaign", nil, "sending a sent campaign again"},
		{"scheduleCampaign", map[string]any{"scheduled_at": futureTime().Format(time.RFC3339)}, "scheduling a sent campaign"},
		{"cancelCampaign", nil, "cancelling a sent campaign"},
	} {
		r.refused(CampaignStateRules, r.campaignCall(ctx, p.op, id, p.body, key, p.what), "invalid_state", p.what)
	}
}

// laterCampaign sends a second campaign, to the run's inactive leads, after
// the inactive one unsubscribed, deleting and cancelling it while it sends,
// and checks that it has no message: the active leads are not in its
// audience, and the unsubscribed lead is left out.
func (r *runner) laterCampaign(ctx context.Context, f *campaignFixture) {
	key := r.cfg.APIKey
	body := map[string]any{"name": "Later " + r.tag, "template": f.template, "audience": map[string]any{"tags": []any{f.tag}, "statuses": []any{"inactive"}}}
	res := r.do(ctx, &call{op: "createCampaign", body: body, key: key, scenario: "create a campaign to the run's inactive leads after one unsubscribed"})
	if res.err != nil {
		return
	}
	c, err := dataOf(res, http.StatusCreated)
	if err != nil {
		r.record(CampaignLifecycle, "", res, fmt.Errorf("a valid campaign %w", err))
		r.trackCreated(res, "campaign", key)
		return
	}
	id, _ := c["id"].(string)
	r.track("campaign", id, key)
	if err := f.restricted(c); err != nil || id == "" {
		r.record(CampaignLifecycle, "", res, err)
		return
	}
	want, left := f.audience(c["audience"])
	// Send, delete and cancel back to back, so that the campaign is likely still sending.
	if err := r.pace(ctx, key, reserve+3); err != nil {
		return
	}
	res = r.campaignCall(ctx, "sendCampaign", id, nil, key, "send a campaign")
	if res.err != nil {
		return
	}
	if _, err := dataOf(res, http.StatusAccepted); err != nil {
		r.record(CampaignLifecycle, "", res, fmt.Errorf("sending a draft %w", err))
		return
	}
	res = r.campaignCall(ctx, "deleteCampaign", id, nil, key, "delete the campaign at once, while it is sending")
	if res.err != nil {
		return
	}
	if res.status/100 == 2 {
		// Already sent: deleting it is allowed, and nothing is left to check.
		r.untrack("campaign", id)
		r.log.Debug("the campaign was sent before it could be deleted while sending", slog.String("campaign", id))
		return
	}
	r.refused(CampaignStateRules, res, "invalid_state", "deleting a sending campaign")
	res = r.campaignCall(ctx, "cancelCampaign", id, nil, key, "cancel the campaign while it is sending")
	if res.err != nil {
		return
	}
	if res.status == http.StatusUnprocessableEntity && errorCode(res) == "invalid_state" {
		r.log.Debug("the campaign was sent before it could be cancelled", slog.String("campaign", id))
	} else {
		got, err := dataOf(res, http.StatusOK)
		if err == nil {
			err = checkStatus(got, "cancelled", true, true)
		} else {
			err = fmt.Errorf("cancelling a sending campaign %w", err)
		}
		r.record(CampaignStateRules, "", res, err)
	}
	msgs, mres, err := r.campaignMessages(ctx, id, "list the messages of the campaign sent after a lead unsubscribed")
	if mres.err != nil {
		return
	}
	if err == nil {
		err = f.checkMessages(msgs, want, left, false)
	}
	r.record(TrackingLinks, "listCampaignMessages", mres, err)
}

// campaignStateRules checks what a scheduled, then cancelled campaign
// refuses, and the templates a campaign may name; it returns the cancelled
// campaign.
func (r *runner) campaignStateRules(ctx context.Context, f *campaignFixture) string {
	key := r.cfg.APIKey
	audience := map[string]any{"tags": []any{f.tag}}
	missing := "missing-" + r.tag + "-0badc0de"
	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	for _, p := range []struct {
		body       map[string]any
		code, what string
	}{
		{map[string]any{"name": "Past " + r.tag, "template": f.template, "audience": audience, "scheduled_at": past}, "invalid_state", "a campaign scheduled in the past"},
		{map[string]any{"name": "Missing " + r.tag, "template": missing, "audience": audience}, "template_not_found", "a campaign naming a template the account does not have"},
	} {
		res := r.do(ctx, &call{op: "createCampaign", body: p.body, key: key, scenario: "create " + p.what})
		r.trackCreated(res, "campaign", key)
		r.refused(CampaignStateRules, res, p.code, "creating "+p.what)
	}

	at := futureTime()
	body := map[string]any{"name": "Scheduled " + r.tag, "template": f.template, "audience": audience, "scheduled_at": at.Format(time.RFC3339)}
	res := r.do(ctx, &call{op: "createCampaign", body: body, key: key, scenario: "create a campaign scheduled a month ahead"})
	if res.err != nil {
		return ""
	}
	c, err := dataOf(res, http.StatusCreated)
	if err == nil {
		r.trackCreated(res, "campaign", key)
		err = checkStatus(c, "scheduled", false, false)
		if t, ok := timeField(c, "scheduled_at"); err == nil && (!ok || !t.Equal(at)) {
			err = fmt.Errorf("scheduled_at reads %s, not the %s asked for", compact(c["scheduled_at"]), at.Format(time.RFC3339))
		}
	}
	r.record(CampaignStateRules, "", res, err)
	if err != nil {
		return ""
	}
	id, _ := c["id"].(string)
	if err := f.restricted(c); err != nil || id == "" {
		r.record(CampaignLifecycle, "", res, err)
		return ""
	}
	r.refused(CampaignStateRules, r.campaignCall(ctx, "scheduleCampaign", id, map[string]any{"scheduled_at": past}, key, "move the schedule into the past"),
		"invalid_state", "scheduling in the past")
	r.refused(CampaignStateRules, r.campaignCall(ctx, "updateCampaign", id, map[string]any{"template": missing}, key, "name a template the account does not have"),
		"template_not_found", "an update naming a template the account does not have")

	// A template deleted after the campaign named it cannot be sent.
	if other := r.createTemplate(ctx, map[string]any{"name": "Contract deleted " + r.tag, "subject": "Deleted", "content": "<p>Deleted</p>"},
		"create a template to delete"); other != "" {
		res := r.campaignCall(ctx, "updateCampaign", id, map[string]any{"template": other}, key, "switch the scheduled campaign to another template")
		if got, err := dataOf(res, http.StatusOK); res.err == nil {
			if err == nil && got["template"] != other {
				err = fmt.Errorf("the campaign names template %v after switching to %s", got["template"], other)
			}
			r.record(UpdateReadsBack, "updateCampaign", res, err)
		}
		del := r.do(ctx, &call{op: "deleteTemplate", params: map[string]string{"slug": other}, key: key, scenario: "delete the template the campaign names"})
		if del.err == nil && del.status/100 == 2 {
			r.untrack("template", other)
			r.refused(CampaignStateRules, r.campaignCall(ctx, "sendCampaign", id, nil, key, "send a campaign whose template was deleted"),
				"template_not_found", "sending a campaign whose template was deleted")
		}
	}

	res = r.campaignCall(ctx, "cancelCampaign", id, nil, key, "cancel the scheduled campaign")
	if res.err != nil {
		return ""
	}
	got, err := dataOf(res, http.StatusOK)
	if err != nil {
		r.record(CampaignStateRules, "", res, fmt.Errorf("cancelling a scheduled campaign %w", err))
		return ""
	}
	r.record(CampaignStateRules, "", res, checkStatus(got, "cancelled", false, true))
	for _, p := range []struct {
		op   string
		body any
		what string
	}{
		{"cancelCampaign", nil, "cancelling a cancelled campaign"},
		{"updateCampaign", map[string]any{"name": "Too late " + r.tag}, "an update of a cancelled campaign"},
		{"sendCampaign", nil, "sending a cancelled campaign"},
		{"scheduleCampaign", map[string]any{"scheduled_at": futureTime().Format(time.RFC3339)}, "scheduling a cancelled campaign"},
	} {
		r.refused(CampaignStateRules, r.campaignCall(ctx, p.op, id, p.body, key, p.what), "invalid_state", p.what)
	}
	return id
}
