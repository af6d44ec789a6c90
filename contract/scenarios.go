package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// run is the suite: scenarios in an order that keeps the account's
// burst for last, when SpendQuota asks to spend it.
func (r *runner) run(ctx context.Context) error {
	if err := r.preflight(ctx); err != nil {
		return err
	}
	steps := []struct {
		name string
		run  func(context.Context)
	}{
		{"rate-limit headers", r.rateLimitConsistency}, {"authentication", r.authentication},
		{"HEAD", r.headSupport}, {"lead lifecycle", r.leadLifecycle}, {"lead fixtures", r.leadFixtures},
		{"lead pages", r.leadPages}, {"template lifecycle", r.templateLifecycle},
		{"template fixtures", r.templateFixtures}, {"template pages", r.templatePages},
		{"campaigns", r.campaigns}, {"suppressions", r.suppressions}, {"properties", r.properties},
		{"analytics", r.analytics}, {"generated queries", r.generatedQueries},
		{"invalid inputs", r.negative}, {"cleanup", r.cleanup}, {"spending the quota", r.spendQuota},
	}
	for i, step := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		requests, failures, start := r.requests, r.failures(), time.Now()
		r.waited, r.said = 0, start
		step.run(ctx)
		verdict := "ok"
		if n := r.failures() - failures; n > 0 {
			verdict = fmt.Sprintf("%d FAILED", n)
		}
		waited := ""
		if r.waited > 0 {
			waited = fmt.Sprintf(" (%s of it waiting for rate limits)", r.waited.Round(100*time.Millisecond))
		}
		fmt.Fprintf(r.progress, "[%2d/%d] %-20s %-9s %4d requests  %s%s\n", i+1, len(steps), step.name, verdict,
			r.requests-requests, time.Since(start).Round(10*time.Millisecond), waited)
		r.said = time.Now()
	}
	return ctx.Err()
}

// failures counts the failures recorded so far.
func (r *runner) failures() int {
	n := 0
	for _, res := range r.results {
		n += res.FailureCount
	}
	return n
}

// preflight makes sure the server answers and accepts the keys, so that a
// wrong URL or key is reported as such rather than as a hundred failures.
func (r *runner) preflight(ctx context.Context) error {
	if !r.has("listLeads") {
		return errors.New("contract: the spec has no listLeads operation to start from")
	}
	for _, k := range []struct{ name, key string }{{"APIKey", r.cfg.APIKey}, {"SecondAccountKey", r.cfg.SecondAccountKey}} {
		if k.key == "" {
			continue
		}
		res := r.do(ctx, &call{op: "listLeads", query: url.Values{"limit": {"1"}}, key: k.key, scenario: "check that the server answers and accepts the key"})
		switch {
		case res.err != nil:
			return fmt.Errorf("%w: %s is not reachable: %w", ErrSetup, r.base, res.err)
		case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
			return fmt.Errorf("%w: the server refused %s (%d %s)", ErrSetup, k.name, res.status, errorSummary(res.body))
		}
		// The suite writes with both keys. A create with an empty body is
		// refused as invalid by a key that may write, and as forbidden by a
		// read-only key; nothing is created either way.
		res = r.send(ctx, &call{op: "createLead", raw: []byte("{}"), key: k.key, scenario: "check that the key may write"})
		if res.err == nil && res.status == http.StatusForbidden {
			return fmt.Errorf("%w: %s may not write (403 %s): the suite needs a read-write key", ErrSetup, k.name, errorSummary(res.body))
		}
	}
	return nil
}

// rateLimitConsistency checks the rate-limit headers over consecutive calls:
// Limit constant, Remaining falling by one per call give or take the refill.
func (r *runner) rateLimitConsistency(ctx context.Context) {
	const n = 4
	if err := r.pace(ctx, r.cfg.APIKey, n+reserve); err != nil {
		return
	}
	var got []rateHeaders
	var at []time.Time
	var last *response
	for range n {
		res := r.do(ctx, &call{op: "listLeads", query: url.Values{"limit": {"1"}}, key: r.cfg.APIKey, scenario: "consecutive calls, comparing their rate-limit headers"})
		if res.err != nil || res.status == http.StatusTooManyRequests {
			return
		}
		rh, err := parseRateHeaders(res.header)
		if err != nil {
			return // reported by the per-response check
		}
		got, at, last = append(got, rh), append(at, res.at), res
	}
	interval := time.Minute / time.Duration(max(got[0].limit, 1))
	var err error
	for i := 1; i < n; i++ {
		refill := int(at[i].Sub(at[i-1])/interval) + 1
		if got[i].limit != got[0].limit {
			err = fmt.Errorf("X-RateLimit-Limit went from %d to %d between consecutive calls", got[0].limit, got[i].limit)
			break
		}
		if got[i].remaining > got[i-1].remaining-1+refill {
			err = fmt.Errorf("X-RateLimit-Remaining rose from %d to %d between consecutive calls %s apart, more than the refill of %d",
				got[i-1].remaining, got[i].remaining, at[i].Sub(at[i-1]).Round(time.Millisecond), refill-1)
			break
		}
	}
	if err == nil {
		refill := int(at[n-1].Sub(at[0])/interval) + 1
		if fell := got[0].remaining - got[n-1].remaining; fell < n-1-refill {
			err = fmt.Errorf("X-RateLimit-Remaining went from %d to %d over %d consecutive calls in %s: it must fall by one per call, less the refill (at most %d); is rate limiting off?",
				got[0].remaining, got[n-1].remaining, n, at[n-1].Sub(at[0]).Round(time.Millisecond), refill)
		}
	}
	r.record(RateLimitHeaders, "", last, err)
}

// fakeParams are path parameters of valid form that name nothing.
func (r *runner) fakeParams(o *operation) map[string]string {
	params := map[string]string{}
	for _, p := range o.parameters("path") {
		v := "x"
		if p.Schema != nil && p.Schema.Value != nil {
			if s, err := r.gen.valid(p.Schema.Value); err == nil {
				v = fmt.Sprint(s)
			}
		}
		params[p.Name] = v
	}
	return params
}

func (r *runner) validBody(o *operation) any {
	s := o.requestSchema()
	if s == nil {
		return nil
	}
	v, err := r.gen.valid(s)
	if err != nil {
		r.fail(PositiveDataAcceptance, o.id, "draw a valid body from the spec", err)
		return nil
	}
	return v
}

// authentication checks that every operation refuses a missing or wrong
// key, and that both documented key headers authenticate.
func (r *runner) authentication(ctx context.Context) {
	for _, id := range r.opOrder {
		if !r.has(id) || r.ops[id].public {
			continue
		}
		o := r.ops[id]
		for _, c := range []struct{ key, what string }{{"", "no API key"}, {r.wrongKey, "a wrong API key"}} {
			res := r.do(ctx, &call{op: id, params: r.fakeParams(o), body: r.validBody(o), key: c.key, scenario: "call with " + c.what})
			if res.err != nil {
				continue
			}
			var err error
			switch {
			case res.status != http.StatusUnauthorized:
				err = fmt.Errorf("a call with %s answered %d, not 401", c.what, res.status)
			case res.header.Get("X-RateLimit-Limit") == "" || res.header.Get("X-RateLimit-Remaining") == "":
				err = errors.New("the 401 lacks the rate-limit headers of the client address's bucket, which the spec requires")
			}
			r.record(AuthenticationRequired, id, res, err)
		}
	}
	res := r.do(ctx, &call{op: "listLeads", query: url.Values{"limit": {"1"}},
		header: http.Header{"X-Axiom-API-Key": {r.cfg.APIKey}}, scenario: "authenticate with the X-Axiom-API-Key header"})
	if res.err == nil {
		var err error
		if res.status/100 != 2 {
			err = fmt.Errorf("a valid key in X-Axiom-API-Key answered %d: %s", res.status, errorSummary(res.body))
		}
		r.record(AuthenticationRequired, "", res, err)
	}
}

// headSupport checks that HEAD answers every GET operation that takes a
// key as GET does (status and headers) without a body, on a resource that
// exists where the suite has one and on one that does not.
func (r *runner) headSupport(ctx context.Context) {
	for _, id := range r.opOrder {
		o := r.ops[id]
		if !r.has(id) || o.public || !strings.EqualFold(o.method, http.MethodGet) {
			continue
		}
		params := r.fakeParams(o)
		get := r.do(ctx, &call{op: id, params: params, key: r.cfg.APIKey, scenario: "GET, to compare with HEAD"})
		head := r.do(ctx, &call{op: id, params: params, key: r.cfg.APIKey, method: http.MethodHead, scenario: "HEAD"})
		if get.err != nil || head.err != nil {
			continue
		}
		var err error
		switch {
		case head.status != get.status:
			err = fmt.Errorf("HEAD answered %d where GET answered %d", head.status, get.status)
		case len(head.body) != 0:
			err = fmt.Errorf("HEAD answered a body of %d bytes", len(head.body))
		default:
			for _, h := range []string{"Content-Type", "X-RateLimit-Limit"} {
				if head.header.Get(h) != get.header.Get(h) {
					err = fmt.Errorf("HEAD's %s is %q where GET's is %q", h, head.header.Get(h), get.header.Get(h))
					break
				}
			}
		}
		r.record(HeadSupported, id, head, err)
	}
}

// leadDefaults are the values the spec gives a new lead's absent fields.
var leadDefaults = map[string]any{
	"phone": "", "company": "", "source": "", "type": "lead", "status": "active",
	"tags": []any{}, "notes": []any{}, "custom_fields": map[string]any{},
}

// differences lists the fields of want that got does not hold (emails
// compared case-insensitively), skipping the named ones.
func differences(want, got map[string]any, skip ...string) []string {
	var diffs []string
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(skip, k) {
			continue
		}
		w, g := want[k], got[k]
		if ws, ok := w.(string); ok && k == "email" {
			if gs, ok := g.(string); ok && strings.EqualFold(ws, gs) {
				continue
			}
		}
		if !reflect.DeepEqual(w, g) {
			diffs = append(diffs, fmt.Sprintf("%s: want %s, got %s", k, compact(w), compact(g)))
		}
	}
	return diffs
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return truncate(string(b), 100)
}

func diffError(what string, diffs []string) error {
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(diffs, "; "))
}

// merged is a resource with a patch applied, as the spec's PATCH defines.
func merged(old, patch map[string]any) map[string]any {
	m := clone(old)
	for k, v := range patch {
		m[k] = v
	}
	return m
}

// createLead creates a lead and checks that it holds what was sent.
func (r *runner) createLead(ctx context.Context, body map[string]any, key, scenario string) map[string]any {
	res := r.do(ctx, &call{op: "createLead", body: body, key: key, scenario: scenario})
	if res.err != nil {
		return nil
	}
	if res.status/100 != 2 {
		r.record(PositiveDataAcceptance, "", res, fmt.Errorf("a valid lead was refused with %d: %s", res.status, errorSummary(res.body)))
		return nil
	}
	var lead map[string]any
	if err := data(res, &lead); err != nil {
		r.record(PositiveDataAcceptance, "", res, err)
		return nil
	}
	id, _ := lead["id"].(string)
	r.track("lead", id, key)
	want := merged(leadDefaults, body)
	r.record(PositiveDataAcceptance, "", res, diffError("the created lead differs from what was sent", differences(want, lead)))
	if id == "" {
		return nil
	}
	return lead
}

func (r *runner) validLead() map[string]any {
	v, _ := r.validBody(r.ops["createLead"]).(map[string]any)
	return v
}

// leadList lists leads; nil on failure, which the caller's check reports.
func (r *runner) list(ctx context.Context, op string, q url.Values, key, scenario string) ([]map[string]any, *bool, *response, error) {
	res := r.do(ctx, &call{op: op, query: q, key: key, scenario: scenario})
	if res.err != nil {
		return nil, nil, res, res.err
	}
	if res.status != http.StatusOK {
		return nil, nil, res, fmt.Errorf("listing answered %d: %s", res.status, errorSummary(res.body))
	}
	var page struct {
		Data    []map[string]any `json:"data"`
		Length  *int             `json:"length"`
		HasMore *bool            `json:"has_more"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		return nil, nil, res, fmt.Errorf("the list is not JSON: %w", err)
	}
	if page.Length != nil && *page.Length != len(page.Data) {
		return page.Data, page.HasMore, res, fmt.Errorf("length is %d but data holds %d items", *page.Length, len(page.Data))
	}
	return page.Data, page.HasMore, res, nil
}

func ids(items []map[string]any, field string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it[field].(string)
	}
	return out
}

// runLeads lists the run's leads (those of its email domain) by search.
func (r *runner) runLeads(ctx context.Context, key, scenario string) ([]string, *response, error) {
	items, _, res, err := r.list(ctx, "listLeads", url.Values{"search": {r.tag}, "limit": {"100"}}, key, scenario)
	return ids(items, "id"), res, err
}

func (r *runner) get(ctx context.Context, op, param, id, key, scenario string) (map[string]any, *response) {
	res := r.do(ctx, &call{op: op, params: map[string]string{param: id}, key: key, scenario: scenario})
	if res.err != nil || res.status != http.StatusOK {
		return nil, res
	}
	var v map[string]any
	if data(res, &v) != nil {
		return nil, res
	}
	return v, res
}

// leadLifecycle follows one lead from creation to deletion, checking each
// step, duplicates, isolation and idempotent retries on the way.
func (r *runner) leadLifecycle(ctx context.Context) {
	if !r.need(CreatedResourceAvailable, "createLead") {
		for _, c := range []string{UpdateReadsBack, DeletedResourceGone, DuplicateEmailRejected, IdempotentReplay, AccountIsolation} {
			r.skip(c, "", "createLead is not covered")
		}
		return
	}
	key := r.cfg.APIKey
	lead := r.createLead(ctx, r.validLead(), key, "create a lead")
	if lead == nil {
		return
	}
	id := lead["id"].(string)
	email, _ := lead["email"].(string)

	if r.has("getLead") {
		got, res := r.get(ctx, "getLead", "id", id, key, "fetch the lead just created")
		if res.err == nil {
			err := fmt.Errorf("the lead just created answered %d", res.status)
			if got != nil {
				err = diffError("the lead reads back differently from its creation", differences(lead, got))
			}
			r.record(CreatedResourceAvailable, "getLead", res, err)
		}
	}
	if r.has("listLeads") {
		found, res, err := r.runLeads(ctx, key, "search the run's leads for the lead just created")
		if err == nil && !slices.Contains(found, id) {
			err = fmt.Errorf("lead %s is missing from a search for the run's tag %q (found %v)", id, r.tag, found)
		}
		if res.err == nil {
			r.record(CreatedResourceAvailable, "listLeads", res, err)
		}
	}

	// Duplicates, exactly and with the case changed.
	for _, dup := range []string{email, strings.ToUpper(email)} {
		res := r.do(ctx, &call{op: "createLead", body: map[string]any{"name": "Duplicate " + r.tag, "email": dup}, key: key,
			scenario: fmt.Sprintf("create a second lead with email %q when %q exists", dup, email)})
		if res.err != nil {
			continue
		}
		var err error
		if code := errorCode(res); res.status != http.StatusUnprocessableEntity || code != "duplicate_entry" {
			err = fmt.Errorf("a duplicate email answered %s, not 422 duplicate_entry", answer(res.status, code))
			r.trackCreated(res, "lead", key)
		}
		r.record(DuplicateEmailRejected, "createLead", res, err)
	}

	r.leadIsolation(ctx, lead)

	if r.need(UpdateReadsBack, "updateLead") {
		r.updateLead(ctx, lead, "update the lead", true)
	}
	r.idempotency(ctx)

	if !r.need(DeletedResourceGone, "deleteLead") {
		return
	}
	r.deleteAndCheck(ctx, "lead", "deleteLead", "getLead", "id", id, key)
	if r.has("listLeads") {
		found, res, err := r.runLeads(ctx, key, "search the run's leads after deleting one")
		if err == nil && slices.Contains(found, id) {
			err = fmt.Errorf("deleted lead %s still appears in the list", id)
		}
		if res.err == nil {
			r.record(DeletedResourceGone, "listLeads", res, err)
		}
	}
}

// answer is a status and its error code, if any.
func answer(status int, code string) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", status, code))
}

// trackCreated remembers a resource a request created by mistake, so that
// cleanup deletes it.
func (r *runner) trackCreated(res *response, kind, key string) {
	if res.status/100 != 2 {
		return
	}
	var v map[string]any
	if data(res, &v) != nil {
		return
	}
	id, _ := v["id"].(string)
	switch kind {
	case "template":
		id, _ = v["template"].(string)
	case "suppression":
		id, _ = v["email"].(string)
	}
	r.track(kind, id, key)
}

// updateLead patches a lead with a generated patch and checks that the
// answer and a later read hold it; returns the lead as updated.
func (r *runner) updateLead(ctx context.Context, lead map[string]any, scenario string, readBack bool) map[string]any {
	id := lead["id"].(string)
	patch, _ := r.validBody(r.ops["updateLead"]).(map[string]any)
	if patch == nil {
		return lead
	}
	res := r.do(ctx, &call{op: "updateLead", params: map[string]string{"id": id}, body: patch, key: r.cfg.APIKey, scenario: scenario})
	if res.err != nil {
		return lead
	}
	if res.status/100 != 2 {
		r.record(PositiveDataAcceptance, "", res, fmt.Errorf("a valid patch was refused with %d: %s", res.status, errorSummary(res.body)))
		return lead
	}
	r.record(PositiveDataAcceptance, "", res, nil)
	var got map[string]any
	if err := data(res, &got); err != nil {
		r.record(UpdateReadsBack, "updateLead", res, err)
		return lead
	}
	r.record(UpdateReadsBack, "updateLead", res,
		diffError("the updated lead does not hold the patch, or lost fields it did not name", differences(merged(lead, patch), got, "updated_at")))
	if readBack && r.has("getLead") {
		after, gres := r.get(ctx, "getLead", "id", id, r.cfg.APIKey, "fetch the lead just updated")
		if gres.err == nil {
			err := fmt.Errorf("the lead just updated answered %d", gres.status)
			if after != nil {
				err = diffError("the lead reads back differently from its update", differences(got, after))
			}
			r.record(UpdateReadsBack, "getLead", gres, err)
		}
	}
	return got
}

// leadIsolation checks that a second account can neither see nor touch
// the lead, and that emails are unique per account only.
func (r *runner) leadIsolation(ctx context.Context, lead map[string]any) {
	other := r.cfg.SecondAccountKey
	if other == "" {
		r.skip(AccountIsolation, "", "no key of a second account (--second-key)")
		return
	}
	id := lead["id"].(string)
	probes := []struct {
		op   string
		body any
		verb string
	}{
		{"getLead", nil, "read"}, {"updateLead", map[string]any{"company": "Intruder " + r.tag}, "change"}, {"deleteLead", nil, "delete"},
	}
	for _, p := range probes {
		if !r.has(p.op) {
			continue
		}
		res := r.do(ctx, &call{op: p.op, params: map[string]string{"id": id}, body: p.body, key: other,
			scenario: fmt.Sprintf("%s the first account's lead %s with the second account's key", p.verb, id)})
		if res.err != nil {
			continue
		}
		var err error
		if res.status != http.StatusNotFound {
			err = fmt.Errorf("the second account could %s the first account's lead: %d, not 404", p.verb, res.status)
			if p.op == "deleteLead" && res.status/100 == 2 {
				r.untrack("lead", id)
			}
		}
		r.record(AccountIsolation, p.op, res, err)
	}
	if r.has("listLeads") {
		found, res, err := r.runLeads(ctx, other, "search the first account's leads with the second account's key")
		if err == nil && slices.Contains(found, id) {
			err = fmt.Errorf("the second account's list shows the first account's lead %s", id)
		}
		if res.err == nil {
			r.record(AccountIsolation, "listLeads", res, err)
		}
	}
	if r.has("getLead") {
		got, res := r.get(ctx, "getLead", "id", id, r.cfg.APIKey, "fetch the lead after the second account's attempts")
		if res.err == nil {
			err := fmt.Errorf("after the second account's attempts the lead answers %d", res.status)
			if got != nil {
				err = diffError("the second account's attempts changed the lead", differences(lead, got))
			}
			r.record(AccountIsolation, "getLead", res, err)
		}
	}
	email, _ := lead["email"].(string)
	res := r.do(ctx, &call{op: "createLead", body: map[string]any{"name": "Other account " + r.tag, "email": email}, key: other,
		scenario: fmt.Sprintf("create a lead with email %q, which the first account has, in the second account", email)})
	if res.err == nil {
		var err error
		if res.status/100 != 2 {
			err = fmt.Errorf("the second account could not add a lead whose email only the first account has: %d %s", res.status, errorSummary(res.body))
		}
		r.trackCreated(res, "lead", other)
		r.record(AccountIsolation, "createLead", res, err)
	}
}

// idempotency checks that a create retried with its Idempotency-Key is
// answered the first response, and that the key cannot be reused.
func (r *runner) idempotency(ctx context.Context) {
	key := r.cfg.APIKey
	ik := "contract-" + r.tag + "-" + strconv.FormatUint(r.cfg.Seed%100000, 10)
	body := r.validLead()
	h := http.Header{"Idempotency-Key": {ik}}
	first := r.do(ctx, &call{op: "createLead", body: body, header: h, key: key, scenario: "create a lead with an Idempotency-Key"})
	if first.err != nil || first.status/100 != 2 {
		if first.err == nil {
			r.record(IdempotentReplay, "createLead", first, fmt.Errorf("a valid create with an Idempotency-Key answered %d", first.status))
		}
		return
	}
	r.trackCreated(first, "lead", key)
	again := r.do(ctx, &call{op: "createLead", body: body, header: h, key: key, scenario: "retry the create with the same Idempotency-Key and body"})
	if again.err != nil {
		return
	}
	r.trackCreated(again, "lead", key)
	var a, b any
	_ = json.Unmarshal(first.body, &a)
	_ = json.Unmarshal(again.body, &b)
	var err error
	if again.status != first.status || !reflect.DeepEqual(a, b) {
		err = fmt.Errorf("the retry answered %d %s, not the first response %d %s", again.status, truncate(string(again.body), 200), first.status, truncate(string(first.body), 200))
	}
	r.record(IdempotentReplay, "createLead", again, err)
	other := r.validLead()
	reuse := r.do(ctx, &call{op: "createLead", body: other, header: h, key: key, scenario: "reuse the Idempotency-Key with another body"})
	if reuse.err != nil {
		return
	}
	err = nil
	if code := errorCode(reuse); reuse.status != http.StatusUnprocessableEntity || code != "idempotency_key_reused" {
		err = fmt.Errorf("the reused key answered %s, not 422 idempotency_key_reused", answer(reuse.status, code))
		r.trackCreated(reuse, "lead", key)
	}
	r.record(IdempotentReplay, "createLead", reuse, err)
}

// deleteAndCheck deletes a resource and checks that it is gone.
func (r *runner) deleteAndCheck(ctx context.Context, kind, delOp, getOp, param, id, key string) {
	p := map[string]string{param: id}
	res := r.do(ctx, &call{op: delOp, params: p, key: key, scenario: "delete the " + kind})
	if res.err != nil {
		return
	}
	if res.status/100 != 2 {
		r.record(DeletedResourceGone, delOp, res, fmt.Errorf("deleting the %s answered %d: %s", kind, res.status, errorSummary(res.body)))
		return
	}
	r.untrack(kind, id)
	r.record(DeletedResourceGone, delOp, res, nil)
	for _, c := range []struct{ op, what string }{{getOp, "fetch"}, {delOp, "delete again"}} {
		if !r.has(c.op) {
			continue
		}
		res := r.do(ctx, &call{op: c.op, params: p, key: key, scenario: c.what + " the deleted " + kind})
		if res.err != nil {
			continue
		}
		var err error
		if res.status != http.StatusNotFound {
			err = fmt.Errorf("%s the deleted %s %s answered %d, not 404", c.what, kind, id, res.status)
		}
		r.record(DeletedResourceGone, c.op, res, err)
	}
}

// leadFixtures are the run's leads for the list checks: generated ones,
// two whose names differ only in case (a tie for the sort), updated with
// generated patches, and a duplicate email tried on update.
func (r *runner) leadFixtures(ctx context.Context) {
	if !r.has("createLead") {
		return
	}
	n := r.cfg.Examples
	var leads []map[string]any
	for i := 0; i < n+2 || len(leads) < 5; i++ {
		if i >= n+10 {
			break
		}
		body := r.validLead()
		if body == nil {
			return
		}
		scenario := "create a lead from generated valid data"
		if i == n || i == n+1 {
			body["name"] = []string{"Tie " + r.tag, "tie " + r.tag}[i-n]
			scenario = "create a lead whose name ties with another's but for case"
		}
		if l := r.createLead(ctx, body, r.cfg.APIKey, scenario); l != nil {
			leads = append(leads, l)
		}
	}
	if r.has("updateLead") {
		for i := 0; i < n && i < len(leads); i++ {
			leads[i] = r.updateLead(ctx, leads[i], "update a lead with a generated valid patch", i == 0)
		}
		if len(leads) >= 2 {
			dup := strings.ToUpper(leads[1]["email"].(string))
			res := r.do(ctx, &call{op: "updateLead", params: map[string]string{"id": leads[0]["id"].(string)}, body: map[string]any{"email": dup},
				key: r.cfg.APIKey, scenario: fmt.Sprintf("change a lead's email to %q, another lead's in another case", dup)})
			if res.err == nil {
				var err error
				if code := errorCode(res); res.status != http.StatusUnprocessableEntity || code != "duplicate_entry" {
					err = fmt.Errorf("a duplicate email on update answered %s, not 422 duplicate_entry", answer(res.status, code))
				}
				r.record(DuplicateEmailRejected, "updateLead", res, err)
			}
		}
	}
	r.fixtureLeads = leads
}

// pages walks a list page by page and checks that pages do not overlap,
// limit is honoured and has_more is consistent; it returns the ids seen.
func (r *runner) pages(ctx context.Context, op, idField string, q url.Values, maxPages int) map[string]int {
	const limit = 2
	seen := map[string]int{}
	for page := 1; page <= maxPages; page++ {
		qp := url.Values{"limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}}
		for k, v := range q {
			qp[k] = v
		}
		items, hasMore, res, err := r.list(ctx, op, qp, r.cfg.APIKey, fmt.Sprintf("walk the list %d at a time: page %d", limit, page))
		if res.err != nil {
			return seen
		}
		if err == nil && len(items) > limit {
			err = fmt.Errorf("page %d holds %d items with limit=%d", page, len(items), limit)
		}
		more := len(items) == limit
		if hasMore != nil {
			more = *hasMore
		}
		if err == nil && more && len(items) < limit {
			err = fmt.Errorf("page %d holds %d items with limit=%d, yet has_more is true", page, len(items), limit)
		}
		for _, id := range ids(items, idField) {
			if p, dup := seen[id]; dup && err == nil {
				err = fmt.Errorf("%s %s is on page %d and again on page %d", idField, id, p, page)
			}
			seen[id] = page
		}
		r.record(Pagination, op, res, err)
		if !more || err != nil {
			break
		}
	}
	return seen
}

func (r *runner) leadPages(ctx context.Context) {
	if !r.need(Pagination, "listLeads") || len(r.fixtureLeads) == 0 {
		return
	}
	q := url.Values{"search": {r.tag}}
	seen := r.pages(ctx, "listLeads", "id", q, len(r.fixtureLeads)+3)
	var missing []string
	for _, l := range r.fixtureLeads {
		if _, ok := seen[l["id"].(string)]; !ok {
			missing = append(missing, l["id"].(string))
		}
	}
	if len(missing) > 0 {
		r.fail(Pagination, "listLeads", "walk the run's leads page by page", fmt.Errorf("leads %v were on no page", missing))
	}
	r.sortOrders(ctx, "listLeads", "id", q, []string{"name", "email", "created_at", "updated_at"})
}

// sortOrders lists with each sort field, alternating the order, and with
// no sort at all, and checks the order of each page.
func (r *runner) sortOrders(ctx context.Context, op, tie string, q url.Values, fields []string) {
	type sortCase struct{ field, order string }
	cases := []sortCase{{"", ""}}
	for i, f := range fields {
		cases = append(cases, sortCase{f, []string{"asc", "desc"}[i%2]})
	}
	for _, c := range cases {
		qp := url.Values{"limit": {"100"}}
		for k, v := range q {
			qp[k] = v
		}
		if c.field != "" {
			qp.Set("sort", c.field)
			qp.Set("order", c.order)
		}
		items, _, res, err := r.list(ctx, op, qp, r.cfg.APIKey, fmt.Sprintf("list sorted by %s %s", cmp(c.field, "default (created_at)"), cmp(c.order, "(default desc)")))
		if res.err != nil {
			continue
		}
		if err == nil {
			err = checkOrder(items, cmp(c.field, "created_at"), c.order != "asc", tie)
		}
		r.record(SortOrder, op, res, err)
	}
}

// checkOrder checks that items are sorted by field, in descending order if
// desc, ties broken by the tie field in the same order, as the spec says:
// names and emails compare with ASCII letters folded to lower case.
func checkOrder(items []map[string]any, field string, desc bool, tie string) error {
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		c, err := compareField(field, a[field], b[field])
		if err != nil {
			return err
		}
		if c == 0 {
			c = strings.Compare(fmt.Sprint(a[tie]), fmt.Sprint(b[tie]))
		}
		if desc {
			c = -c
		}
		if c > 0 {
			dir := "asc"
			if desc {
				dir = "desc"
			}
			return fmt.Errorf("sorted by %s %s, item %d (%s %s, %s %v) comes before item %d (%s %s, %s %v)",
				field, dir, i-1, tie, a[tie], field, compact(a[field]), i, tie, b[tie], field, compact(b[field]))
		}
	}
	return nil
}

func compareField(field string, a, b any) (int, error) {
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		return 0, fmt.Errorf("%s is not a string in every item", field)
	}
	if strings.HasSuffix(field, "_at") {
		ta, err1 := time.Parse(time.RFC3339Nano, as)
		tb, err2 := time.Parse(time.RFC3339Nano, bs)
		if err := errors.Join(err1, err2); err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return ta.Compare(tb), nil
	}
	return strings.Compare(foldASCII(as), foldASCII(bs)), nil
}

// foldASCII lower-cases ASCII letters only, as the spec's sort does.
func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// slugBase is what the spec derives a template's slug from its name, for
// names in ASCII (lower-casing beyond ASCII differs between languages).
func slugBase(name string) (string, bool) {
	var b strings.Builder
	dash := false
	for _, c := range name {
		if c >= 0x80 {
			return "", false
		}
		c = rune(foldASCII(string(c))[0])
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		} else {
			dash = true
		}
	}
	base := strings.TrimRight(b.String()[:min(b.Len(), 64)], "-")
	if base == "" {
		base = "template"
	}
	return base, true
}

// createTemplate creates a template and checks its answer and its slug.
func (r *runner) createTemplate(ctx context.Context, body map[string]any, scenario string) string {
	res := r.do(ctx, &call{op: "createTemplate", body: body, key: r.cfg.APIKey, scenario: scenario})
	if res.err != nil {
		return ""
	}
	if res.status/100 != 2 {
		r.record(PositiveDataAcceptance, "", res, fmt.Errorf("a valid template was refused with %d: %s", res.status, errorSummary(res.body)))
		return ""
	}
	var created map[string]any
	if err := data(res, &created); err != nil {
		r.record(PositiveDataAcceptance, "", res, err)
		return ""
	}
	slug, _ := created["template"].(string)
	r.track("template", slug, r.cfg.APIKey)
	var err error
	if base, ok := slugBase(fmt.Sprint(body["name"])); ok && (!strings.HasPrefix(slug, base+"-") || len(slug) != len(base)+9) {
		err = fmt.Errorf("slug %q is not the name %q slugified (%q), '-' and 8 hex digits", slug, body["name"], base)
	}
	r.record(PositiveDataAcceptance, "", res, err)
	return slug
}

func (r *runner) templateLifecycle(ctx context.Context) {
	if !r.has("createTemplate") {
		return
	}
	body, _ := r.validBody(r.ops["createTemplate"]).(map[string]any)
	if body == nil {
		return
	}
	slug := r.createTemplate(ctx, body, "create a template")
	if slug == "" {
		return
	}
	key := r.cfg.APIKey
	tpl := body
	if r.has("getTemplate") {
		got, res := r.get(ctx, "getTemplate", "slug", slug, key, "fetch the template just created")
		if res.err == nil {
			err := fmt.Errorf("the template just created answered %d", res.status)
			if got != nil {
				err = diffError("the template reads back differently from what was sent", differences(merged(body, map[string]any{"slug": slug}), got))
				tpl = got
			}
			r.record(CreatedResourceAvailable, "getTemplate", res, err)
		}
	}
	if r.has("listTemplates") {
		items, _, res, err := r.list(ctx, "listTemplates", url.Values{"limit": {"100"}}, key, "list the newest templates")
		if err == nil && !slices.Contains(ids(items, "slug"), slug) {
			err = fmt.Errorf("template %s, the newest, is missing from the first page", slug)
		}
		if res.err == nil {
			r.record(CreatedResourceAvailable, "listTemplates", res, err)
		}
	}
	if other := r.cfg.SecondAccountKey; other != "" {
		for _, p := range []struct {
			op   string
			body any
			verb string
		}{{"getTemplate", nil, "read"}, {"updateTemplate", map[string]any{"subject": "Intruder " + r.tag}, "change"}, {"deleteTemplate", nil, "delete"}} {
			if !r.has(p.op) {
				continue
			}
			res := r.do(ctx, &call{op: p.op, params: map[string]string{"slug": slug}, body: p.body, key: other,
				scenario: fmt.Sprintf("%s the first account's template %s with the second account's key", p.verb, slug)})
			if res.err != nil {
				continue
			}
			var err error
			if res.status != http.StatusNotFound {
				err = fmt.Errorf("the second account could %s the first account's template: %d, not 404", p.verb, res.status)
				if p.op == "deleteTemplate" && res.status/100 == 2 {
					r.untrack("template", slug)
				}
			}
			r.record(AccountIsolation, p.op, res, err)
		}
	}
	if r.has("updateTemplate") && r.has("getTemplate") {
		r.updateTemplate(ctx, slug, tpl, "update the template", true)
	}
	if r.has("deleteTemplate") {
		r.deleteAndCheck(ctx, "template", "deleteTemplate", "getTemplate", "slug", slug, key)
	}
}

func (r *runner) updateTemplate(ctx context.Context, slug string, old map[string]any, scenario string, readBack bool) {
	patch, _ := r.validBody(r.ops["updateTemplate"]).(map[string]any)
	if patch == nil {
		return
	}
	res := r.do(ctx, &call{op: "updateTemplate", params: map[string]string{"slug": slug}, body: patch, key: r.cfg.APIKey, scenario: scenario})
	if res.err != nil {
		return
	}
	if res.status/100 != 2 {
		r.record(PositiveDataAcceptance, "", res, fmt.Errorf("a valid patch was refused with %d: %s", res.status, errorSummary(res.body)))
		return
	}
	r.record(PositiveDataAcceptance, "", res, nil)
	var got map[string]any
	if err := data(res, &got); err != nil {
		r.record(UpdateReadsBack, "updateTemplate", res, err)
		return
	}
	want := merged(old, patch)
	want["slug"] = slug
	r.record(UpdateReadsBack, "updateTemplate", res,
		diffError("the updated template does not hold the patch, kept its slug or the fields it did not name", differences(want, got, "updated_at")))
	if readBack {
		after, gres := r.get(ctx, "getTemplate", "slug", slug, r.cfg.APIKey, "fetch the template just updated")
		if gres.err == nil {
			err := fmt.Errorf("the template just updated answered %d", gres.status)
			if after != nil {
				err = diffError("the template reads back differently from its update", differences(got, after))
			}
			r.record(UpdateReadsBack, "getTemplate", gres, err)
		}
	}
}

func (r *runner) templateFixtures(ctx context.Context) {
	if !r.has("createTemplate") {
		return
	}
	for i := 0; i < r.cfg.Examples; i++ {
		body, _ := r.validBody(r.ops["createTemplate"]).(map[string]any)
		if body == nil {
			return
		}
		slug := r.createTemplate(ctx, body, "create a template from generated valid data")
		if slug == "" {
			continue
		}
		r.fixtureTemplates = append(r.fixtureTemplates, slug)
		if r.has("updateTemplate") && r.has("getTemplate") {
			if old, res := r.get(ctx, "getTemplate", "slug", slug, r.cfg.APIKey, "fetch a template before updating it"); res.err == nil && old != nil {
				r.updateTemplate(ctx, slug, old, "update a template with a generated valid patch", false)
			}
		}
	}
}

// templatePages checks the first pages and the sort orders of the
// account's templates: the list has no search, so it may hold templates the
// run did not create, which are only read.
func (r *runner) templatePages(ctx context.Context) {
	if !r.has("listTemplates") {
		return
	}
	r.pages(ctx, "listTemplates", "slug", nil, 3)
	r.sortOrders(ctx, "listTemplates", "slug", nil, []string{"name", "updated_at", "created_at"})
}

// queryValue renders a generated parameter value as a query string value.
func queryValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// generatedQueries lists with generated valid query parameters.
func (r *runner) generatedQueries(ctx context.Context) {
	for _, id := range r.opOrder {
		o := r.ops[id]
		ps := o.parameters("query")
		if !r.has(id) || len(ps) == 0 || len(o.parameters("path")) > 0 || strings.ToUpper(o.method) != http.MethodGet {
			continue // a list needs no resource to exist
		}
		for range r.cfg.Examples {
			q := url.Values{}
			for _, p := range ps {
				if p.Schema == nil || p.Schema.Value == nil || (!p.Required && !r.gen.chance(0.6)) {
					continue
				}
				if v, ok := r.meaningful(p.Name); ok {
					q.Set(p.Name, v)
				} else if v, err := r.gen.valid(p.Schema.Value); err == nil {
					q.Set(p.Name, queryValue(v))
				}
			}
			if q.Has("from") != q.Has("to") || q.Has("to") { // a period that ends after it starts
				from := time.Now().Add(-time.Duration(r.gen.rnd.IntN(1000)) * time.Hour).UTC()
				q.Set("from", from.Format(time.RFC3339))
				q.Set("to", from.Add(time.Duration(1+r.gen.rnd.IntN(24*300))*time.Hour).Format(time.RFC3339))
			}
			res := r.do(ctx, &call{op: id, query: q, key: r.keyFor(o), scenario: "list with generated valid parameters"})
			if res.err != nil {
				continue
			}
			var err error
			if res.status/100 != 2 {
				err = fmt.Errorf("valid parameters %s were refused with %d: %s", q.Encode(), res.status, errorSummary(res.body))
			}
			r.record(PositiveDataAcceptance, id, res, err)
		}
	}
}

// meaningful draws a value for the query parameters whose schema allows
// more than the API accepts: a currency code must be an active ISO 4217
// code, a time zone an IANA name.
func (r *runner) meaningful(name string) (string, bool) {
	pick := func(vs ...string) string { return vs[r.gen.rnd.IntN(len(vs))] }
	switch name {
	case "currency":
		return pick("EUR", "USD", "JPY", "GBP", "BHD"), true
	case "tz":
		return pick("UTC", "Europe/Lisbon", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"), true
	}
	return "", false
}

// targetParams names resources the run owns, so that invalid input to an
// update is refused for being invalid, not for naming nothing.
func (r *runner) targetParams(o *operation) map[string]string {
	p := r.fakeParams(o)
	if _, ok := p["id"]; ok {
		switch {
		case slices.Contains(o.tags, "Campaigns"):
			if r.fixtureCampaign != "" {
				p["id"] = r.fixtureCampaign
			}
		case len(r.fixtureLeads) > 0:
			p["id"] = r.fixtureLeads[0]["id"].(string)
		}
	}
	if _, ok := p["slug"]; ok && len(r.fixtureTemplates) > 0 {
		p["slug"] = r.fixtureTemplates[0]
	}
	return p
}

// invalidValue returns a value the schema refuses, for a parameter.
func invalidValue(s *openapi3.Schema) (string, string, bool) {
	type cand struct{ v, desc string }
	var cands []cand
	switch schemaType(s) {
	case "integer", "number":
		cands = append(cands, cand{"abc", "is not a number"})
		if s.Min != nil {
			cands = append(cands, cand{queryValue(*s.Min - 1), "is below its minimum"})
		}
		if s.Max != nil {
			cands = append(cands, cand{queryValue(*s.Max + 1), "is above its maximum"})
		}
	default:
		if len(s.Enum) > 0 {
			cands = append(cands, cand{"not_a_listed_value", "is not one of its enum values"})
		}
		if s.MaxLength != nil {
			cands = append(cands, cand{strings.Repeat("a", int(*s.MaxLength)+1), "is longer than its maxLength"})
		}
		if s.Pattern != "" {
			cands = append(cands, cand{"not valid!", "does not match its pattern"}, cand{"has space", "does not match its pattern"})
		}
	}
	for _, c := range cands {
		var v any = c.v
		if n, err := strconv.ParseFloat(c.v, 64); err == nil && schemaType(s) != "string" {
			v = n
		}
		if validate(s, v) != nil {
			return c.v, c.desc, true
		}
	}
	return "", "", false
}

// negative sends every covered operation invalid input drawn from its
// schemas: bodies, query, path and header parameters.
func (r *runner) negative(ctx context.Context) {
	for _, id := range r.opOrder {
		if !r.has(id) {
			continue
		}
		o := r.ops[id]
		key := r.keyFor(o)
		kind := map[string]string{"createLead": "lead", "createTemplate": "template", "createCampaign": "campaign", "addSuppression": "suppression"}[id]
		send := func(c *call, desc string) {
			c.op, c.key, c.scenario = id, key, "send invalid input: "+desc
			if c.params == nil {
				c.params = r.targetParams(o)
			}
			res := r.do(ctx, c)
			if res.err != nil {
				return
			}
			var err error
			if res.status < 400 || res.status >= 500 {
				err = fmt.Errorf("invalid input (%s) answered %d, not a 4xx", desc, res.status)
				r.trackCreated(res, kind, key)
			}
			r.record(NegativeDataRejection, id, res, err)
		}
		if s := o.requestSchema(); s != nil {
			base, err := r.gen.valid(s)
			if err != nil {
				r.fail(NegativeDataRejection, id, "draw a valid body to break", err)
				continue
			}
			for _, m := range r.gen.invalid(s, base, r.cfg.Examples) {
				send(&call{body: m.value}, m.desc)
			}
			if o.method == http.MethodPost {
				send(&call{raw: []byte(`{"name": "unterminated`)}, "the body is not valid JSON")
				b, _ := json.Marshal(base)
				send(&call{raw: b, ctype: "text/plain"}, "the body is sent as text/plain")
			}
		}
		var queries []url.Values
		var descs []string
		for _, p := range o.parameters("query") {
			if p.Schema == nil || p.Schema.Value == nil {
				continue
			}
			if v, desc, ok := invalidValue(p.Schema.Value); ok {
				queries = append(queries, url.Values{p.Name: {v}})
				descs = append(descs, fmt.Sprintf("query parameter %s=%s %s", p.Name, truncate(v, 20), desc))
			}
		}
		for _, i := range r.gen.rnd.Perm(len(queries))[:min(len(queries), r.cfg.Examples)] {
			send(&call{query: queries[i]}, descs[i])
		}
		for _, p := range o.parameters("path") {
			if p.Schema == nil || p.Schema.Value == nil {
				continue
			}
			if v, desc, ok := invalidValue(p.Schema.Value); ok {
				params := r.targetParams(o)
				params[p.Name] = v
				body := r.validBody(o)
				if o.method == http.MethodPatch && strings.Contains(id, "Lead") {
					body = map[string]any{"company": "Never stored"}
				}
				send(&call{params: params, body: body}, fmt.Sprintf("path parameter %s=%q %s", p.Name, v, desc))
			}
		}
		for _, p := range o.parameters("header") {
			if p.Schema == nil || p.Schema.Value == nil {
				continue
			}
			if v, desc, ok := invalidValue(p.Schema.Value); ok {
				send(&call{header: http.Header{http.CanonicalHeaderKey(p.Name): {v}}, body: r.validBody(o)},
					fmt.Sprintf("header %s: %q %s", p.Name, v, desc))
			}
		}
	}
}

// keyFor is the key a call to o sends: none to a public operation.
func (r *runner) keyFor(o *operation) string {
	if o.public {
		return ""
	}
	return r.cfg.APIKey
}

// cleanup deletes what the run created, where the API allows: campaigns
// first, cancelling one still sending, then templates and leads.
func (r *runner) cleanup(ctx context.Context) {
	order := map[string]int{"campaign": 0, "suppression": 1, "property": 2, "template": 3, "lead": 4}
	created := slices.Clone(r.created)
	slices.SortStableFunc(created, func(a, b owned) int { return order[a.kind] - order[b.kind] })
	for _, o := range created {
		op, param := map[string]string{"campaign": "deleteCampaign", "property": "deleteProperty", "template": "deleteTemplate",
			"lead": "deleteLead", "suppression": "deleteSuppression"}[o.kind], "id"
		switch o.kind {
		case "template":
			param = "slug"
		case "suppression":
			param = "email"
		}
		if !r.has(op) {
			continue
		}
		del := &call{op: op, params: map[string]string{param: o.id}, key: o.key, scenario: "clean up what the run created"}
		res := r.do(ctx, del)
		if o.kind == "campaign" && res.err == nil && res.status == http.StatusUnprocessableEntity && r.has("cancelCampaign") {
			r.do(ctx, &call{op: "cancelCampaign", params: del.params, key: o.key, scenario: "cancel a sending campaign to clean it up"})
			res = r.do(ctx, del)
		}
		if res.err == nil && (res.status/100 == 2 || res.status == http.StatusNotFound) {
			r.untrackOf(o.kind, o.id, o.key)
		}
	}
}

// spendQuota exhausts the account's burst, checks the 429 and that a call
// after Retry-After seconds succeeds.
func (r *runner) spendQuota(ctx context.Context) {
	if !r.cfg.SpendQuota {
		r.skip(RateLimitEnforced, "", "spending the account's quota was not asked for (--spend-quota)")
		return
	}
	r.spending = true
	defer func() { r.spending = false }()
	bound := 1200
	if b := r.buckets[r.cfg.APIKey]; b != nil {
		bound = min(bound, b.remaining*2+50)
	}
	q := url.Values{"limit": {"1"}}
	var hit *response
	for i := 0; i < bound && hit == nil; i++ {
		res := r.do(ctx, &call{op: "listLeads", query: q, key: r.cfg.APIKey, scenario: "spend the burst until a 429"})
		if res.err != nil {
			return
		}
		if res.status == http.StatusTooManyRequests {
			hit = res
		}
	}
	if hit == nil {
		r.fail(RateLimitEnforced, "listLeads", "spend the burst until a 429", fmt.Errorf("no 429 after %d requests back to back", bound))
		return
	}
	retry, err := strconv.Atoi(hit.header.Get("Retry-After"))
	if err != nil || retry < 1 {
		r.record(RateLimitEnforced, "listLeads", hit, fmt.Errorf("the 429's Retry-After is %q, not a whole number of seconds of at least 1", hit.header.Get("Retry-After")))
		return
	}
	var errs []error
	if rh, err := parseRateHeaders(hit.header); err == nil {
		if rh.remaining != 0 {
			errs = append(errs, fmt.Errorf("the 429's X-RateLimit-Remaining is %d, not 0", rh.remaining))
		}
		if limit := max(rh.limit, 1); retry > 60/limit+2 {
			errs = append(errs, fmt.Errorf("Retry-After is %d s, longer than one refill interval at %d/min", retry, limit))
		}
	}
	if code := errorCode(hit); code != "rate_limit_exceeded" {
		errs = append(errs, fmt.Errorf("the 429's code is %q, not rate_limit_exceeded", code))
	}
	r.record(RateLimitEnforced, "listLeads", hit, errors.Join(errs...))
	if sleep(ctx, time.Until(hit.at.Add(time.Duration(retry)*time.Second))) != nil {
		return
	}
	after := r.do(ctx, &call{op: "listLeads", query: q, key: r.cfg.APIKey, scenario: fmt.Sprintf("call again %d s after the 429, as Retry-After said", retry)})
	if after.err != nil {
		return
	}
	err = nil
	if after.status/100 != 2 {
		err = fmt.Errorf("a call %d s after the 429 answered %d", retry, after.status)
	}
	r.record(RateLimitEnforced, "listLeads", after, err)
}
