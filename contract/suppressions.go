package contract

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// suppressionOps are the operations of the suppression list.
var suppressionOps = []string{"addSuppression", "getSuppression", "listSuppressions", "deleteSuppression"}

// suppressionCall calls an operation of the suppression list on email.
func (r *runner) suppressionCall(ctx context.Context, op, email string, body any, key, scenario string) *response {
	c := &call{op: op, body: body, key: key, scenario: scenario}
	if op == "getSuppression" || op == "deleteSuppression" {
		c.params = map[string]string{"email": email}
	}
	return r.do(ctx, c)
}

// suppressions checks the suppression list: an address added is listed,
// looked up in any case and kept with its first reason; another account
// neither sees nor touches it; a campaign leaves it out and counts it;
// removed, it is gone.
func (r *runner) suppressions(ctx context.Context) {
	if !r.need(SuppressionList, suppressionOps...) {
		return
	}
	key := r.cfg.APIKey
	local, domain, _ := strings.Cut(r.gen.email(), "@")
	email := strings.ToUpper(local[:1]) + local[1:] + "@" + domain
	lower := strings.ToLower(email)
	body := map[string]any{"email": email, "reason": "complained", "detail": "Feedback loop report " + r.tag}
	res := r.suppressionCall(ctx, "addSuppression", "", body, key, "suppress an address, as a provider's complaint webhook does")
	if res.err != nil {
		return
	}
	first, err := dataOf(res, http.StatusCreated)
	if err == nil {
		r.track("suppression", email, key)
		var diffs []string
		for k, v := range body {
			if first[k] != v {
				diffs = append(diffs, fmt.Sprintf("%s is %s, not %s", k, compact(first[k]), compact(v)))
			}
		}
		if first["campaign_id"] != nil {
			diffs = append(diffs, fmt.Sprintf("campaign_id is %s, not null for an entry the account added", compact(first["campaign_id"])))
		}
		if at, ok := timeField(first, "created_at"); !ok || at.After(time.Now().Add(time.Hour)) {
			diffs = append(diffs, fmt.Sprintf("created_at is %s", compact(first["created_at"])))
		}
		err = diffError("the entry differs from what was sent", diffs)
	} else {
		err = fmt.Errorf("suppressing a new address %w", err)
	}
	r.record(SuppressionList, "", res, err)
	if err != nil {
		return
	}

	// The same address again, in lower case, for another reason: the entry stays.
	res = r.suppressionCall(ctx, "addSuppression", "", map[string]any{"email": lower, "reason": "bounced"}, key,
		"suppress the same address again, in lower case and for another reason")
	if res.err == nil {
		again, err := dataOf(res, http.StatusOK)
		if err == nil {
			err = diffError("an address suppressed again must keep its entry", differences(first, again))
		} else {
			err = fmt.Errorf("suppressing an address already suppressed %w", err)
		}
		r.record(SuppressionList, "", res, err)
	}
	for _, e := range []string{lower, strings.ToUpper(email)} {
		res := r.suppressionCall(ctx, "getSuppression", e, nil, key, "look up the suppressed address as "+e)
		if res.err != nil {
			continue
		}
		got, err := dataOf(res, http.StatusOK)
		if err == nil {
			err = diffError("the entry reads back differently", differences(first, got))
		}
		r.record(SuppressionList, "getSuppression", res, err)
	}
	if res := r.suppressionCall(ctx, "getSuppression", r.gen.email(), nil, key, "look up an address never suppressed"); res.err == nil {
		var err error
		if code := errorCode(res); res.status != http.StatusNotFound || code != "not_found" {
			err = fmt.Errorf("an address never suppressed answered %s, not 404 not_found", answer(res.status, code))
		}
		r.record(SuppressionList, "getSuppression", res, err)
	}
	inList := func(reason, k, scenario string) (bool, *response) {
		q := url.Values{"limit": {"100"}, "reason": {reason}}
		items, _, res, err := r.list(ctx, "listSuppressions", q, k, scenario)
		if err != nil {
			if res.err == nil {
				r.record(SuppressionList, "listSuppressions", res, err)
			}
			return false, res
		}
		for _, it := range items {
			if e, _ := it["email"].(string); strings.EqualFold(e, email) {
				return true, res
			}
		}
		return false, res
	}
	if found, res := inList("complained", key, "list the complaints, newest first"); res.err == nil {
		var err error
		if !found {
			err = fmt.Errorf("the address suppressed for a complaint is missing from the first page of complaints")
		}
		r.record(SuppressionList, "listSuppressions", res, err)
	}
	if found, res := inList("bounced", key, "list the bounces"); res.err == nil && found {
		r.record(SuppressionList, "listSuppressions", res, fmt.Errorf("the list of bounces shows an address suppressed for a complaint"))
	}
	r.suppressionIsolation(ctx, email, inList)
	r.suppressedCampaign(ctx)

	res = r.suppressionCall(ctx, "deleteSuppression", email, nil, key, "remove the address from the suppression list")
	if res.err != nil {
		return
	}
	err = nil
	if res.status != http.StatusNoContent {
		err = fmt.Errorf("removing a suppressed address answered %d, not 204: %s", res.status, errorSummary(res.body))
	} else {
		r.untrackOf("suppression", email, key)
	}
	r.record(SuppressionList, "deleteSuppression", res, err)
	for _, op := range []string{"getSuppression", "deleteSuppression"} {
		res := r.suppressionCall(ctx, op, lower, nil, key, op+" of the address removed")
		if res.err != nil {
			continue
		}
		var err error
		if code := errorCode(res); res.status != http.StatusNotFound || code != "not_found" {
			err = fmt.Errorf("%s of an address removed answered %s, not 404 not_found", op, answer(res.status, code))
		}
		r.record(SuppressionList, op, res, err)
	}
}

// suppressionIsolation checks that the second account neither sees nor
// removes the first's entry, and keeps its own of the same address.
func (r *runner) suppressionIsolation(ctx context.Context, email string, inList func(reason, key, scenario string) (bool, *response)) {
	other := r.cfg.SecondAccountKey
	if other == "" {
		return
	}
	for _, op := range []string{"getSuppression", "deleteSuppression"} {
		res := r.suppressionCall(ctx, op, email, nil, other, op+" of the first account's suppressed address with the second account's key")
		if res.err != nil {
			continue
		}
		var err error
		if res.status != http.StatusNotFound {
			err = fmt.Errorf("the second account's %s of the first account's entry answered %d, not 404", op, res.status)
		}
		r.record(AccountIsolation, op, res, err)
	}
	if found, res := inList("complained", other, "list the complaints with the second account's key"); res.err == nil {
		var err error
		if found {
			err = fmt.Errorf("the second account's suppression list shows the first account's entry %s", email)
		}
		r.record(AccountIsolation, "listSuppressions", res, err)
	}
	// Its own entry of the same address is new to it, and its own to remove.
	res := r.suppressionCall(ctx, "addSuppression", "", map[string]any{"email": email, "reason": "manual"}, other,
		"suppress the same address in the second account")
	if res.err != nil {
		return
	}
	got, err := dataOf(res, http.StatusCreated)
	if err == nil {
		r.track("suppression", email, other)
		if got["reason"] != "manual" {
			err = fmt.Errorf("the second account's entry has reason %v, not its own manual: the lists are shared", got["reason"])
		}
	} else {
		err = fmt.Errorf("the second account suppressing an address the first suppressed %w: the lists are shared", err)
	}
	r.record(AccountIsolation, "addSuppression", res, err)
	if err == nil {
		if res := r.suppressionCall(ctx, "deleteSuppression", email, nil, other, "remove the second account's entry"); res.err == nil && res.status == http.StatusNoContent {
			r.untrackOf("suppression", email, other)
		}
	}
}

// suppressedCampaign suppresses the run's active client, sends a campaign
// to the run's clients, and checks that it leaves the client out, records
// and counts it; then removes the entry.
func (r *runner) suppressedCampaign(ctx context.Context) {
	f := r.fixture
	if f == nil || !r.has("sendCampaign") {
		return
	}
	var client map[string]any
	for _, l := range f.leads {
		if l["type"] == "client" && l["status"] == "active" {
			client = l
		}
	}
	if client == nil {
		return
	}
	key := r.cfg.APIKey
	email, _ := client["email"].(string)
	res := r.suppressionCall(ctx, "addSuppression", "", map[string]any{"email": email, "reason": "manual"}, key, "suppress the run's active client")
	if res.err != nil {
		return
	}
	if _, err := dataOf(res, http.StatusCreated); err != nil {
		r.record(SuppressionList, "", res, fmt.Errorf("suppressing a lead's address %w", err))
		return
	}
	r.track("suppression", email, key)
	f.suppressed[strings.ToLower(email)] = true
	defer func() {
		if res := r.suppressionCall(ctx, "deleteSuppression", email, nil, key, "remove the client's address from the suppression list"); res.err == nil && res.status == http.StatusNoContent {
			r.untrackOf("suppression", email, key)
			delete(f.suppressed, strings.ToLower(email))
		}
	}()

	body := map[string]any{"name": "Suppressed " + r.tag, "template": f.template, "audience": map[string]any{"tags": []any{f.tag}, "types": []any{"client"}}}
	res = r.do(ctx, &call{op: "createCampaign", body: body, key: key, scenario: "create a campaign to the run's clients, whose only active one is suppressed"})
	if res.err != nil {
		return
	}
	c, err := dataOf(res, http.StatusCreated)
	if err != nil {
		r.trackCreated(res, "campaign", key)
		r.record(SuppressionList, "", res, fmt.Errorf("a valid campaign %w", err))
		return
	}
	id, _ := c["id"].(string)
	r.track("campaign", id, key)
	if err := f.restricted(c); err != nil || id == "" {
		r.record(SuppressionList, "", res, err)
		return
	}
	want, left := f.audience(c["audience"])
	res = r.campaignCall(ctx, "sendCampaign", id, nil, key, "send the campaign to the run's clients")
	if res.err != nil {
		return
	}
	if _, err := dataOf(res, http.StatusAccepted); err != nil {
		r.record(SuppressionList, "", res, fmt.Errorf("sending a draft %w", err))
		return
	}
	if _, res, err := r.awaitSent(ctx, id); err != nil {
		if res.err == nil {
			r.record(SuppressionList, "", res, err)
		}
		return
	}
	if msgs, mres, err := r.campaignMessages(ctx, id, "list the messages of the campaign to the suppressed client"); mres.err == nil {
		if err == nil {
			err = f.checkMessages(msgs, want, left, true)
		}
		r.record(SuppressionList, "listCampaignMessages", mres, err)
	}
	if st, sres := r.campaignStats(ctx, id, "the statistics of the campaign to the suppressed client"); st != nil {
		r.record(SuppressionList, "getCampaignStats", sres, statsError(st, len(want), map[string]int{"suppressed": len(left)}))
	}
}
