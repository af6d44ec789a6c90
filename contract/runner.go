package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxBody bounds how much of a response the suite reads.
const maxBody = 8 << 20

// reserve is how many requests the suite keeps in an account's bucket, by
// waiting for the refill, so that its own traffic never meets a 429.
const reserve = 3

// call is one request the suite makes.
type call struct {
	op       string            // operationId
	params   map[string]string // path parameters
	query    url.Values
	body     any    // sent as JSON when not nil
	raw      []byte // sent as is when not nil, instead of body
	ctype    string // Content-Type; application/json by default for a body
	header   http.Header
	key      string // "" sends no key
	method   string // the operation's own when ""; HEAD for a GET's
	scenario string
}

// response is what came back, with what reproduces the request.
type response struct {
	call   *call
	op     *operation
	status int
	header http.Header
	body   []byte
	at     time.Time
	curl   string
	err    error // the request could not be made or answered
}

// bucket is what the suite knows of an account's rate limit.
type bucket struct {
	limit, remaining int
	at               time.Time
}

type resultKey struct{ check, op string }

// owned is a resource the suite created, and the key of its account.
type owned struct {
	kind, id, key string
}

// runner is one contract run.
type runner struct {
	cfg       Config
	base      string
	client    *http.Client
	log       *slog.Logger
	ops       map[string]*operation
	opOrder   []string
	errSchema *openapi3.Schema
	codes     map[int][]string // error codes by status, from the spec
	schemas   openapi3.Schemas
	gen       *generator
	tag       string
	wrongKey  string

	progress io.Writer // Config.Progress, or io.Discard
	// waited is the time the current step spent waiting for rate limits;
	// said is when a progress line was last written.
	waited time.Duration
	said   time.Time

	results   map[resultKey]*Result
	requests  int
	throttled int // 429s met while not spending the quota
	buckets   map[string]*bucket
	limits    map[string]int // the X-RateLimit-Limit first seen, by key
	spending  bool           // the quota is being spent on purpose
	created   []owned

	// fixtures for the list checks and as targets of invalid updates
	fixtureLeads     []map[string]any
	fixtureTemplates []string
	// fixtureCampaign is a sent campaign of the run, whose audience is the
	// run's tag: an invalid request accepted by mistake sends to no one else.
	fixtureCampaign string
	// fixture is the run's campaign fixture, once made.
	fixture *campaignFixture
	// started is when the run began: analytics from then on count only
	// what the run made, in an account of its own.
	started time.Time
}

// has reports whether the run covers an operation.
func (r *runner) has(op string) bool {
	o, ok := r.ops[op]
	return ok && (o.documented || !r.cfg.DocumentedOnly) && r.excludedBy(o) == ""
}

// excludedBy is the tag of o that Config.ExcludeTags names, or "".
func (r *runner) excludedBy(o *operation) string {
	for _, t := range o.tags {
		if slices.Contains(r.cfg.ExcludeTags, t) {
			return t
		}
	}
	return ""
}

// need reports whether the run covers every operation a check needs,
// and records the check as skipped when it does not.
func (r *runner) need(check string, ops ...string) bool {
	for _, op := range ops {
		if !r.has(op) {
			reason := op + " is not in the spec"
			if o, ok := r.ops[op]; ok {
				reason = op + " is not documented (--documented-only)"
				if t := r.excludedBy(o); t != "" {
					reason = op + "'s tag " + t + " is excluded"
				}
			}
			r.skip(check, "", reason)
			return false
		}
	}
	return true
}

func (r *runner) result(check, op string) *Result {
	k := resultKey{check, op}
	res := r.results[k]
	if res == nil {
		res = &Result{Check: check, Operation: op, Outcome: Skip}
		r.results[k] = res
	}
	return res
}

// record adds one evaluation of a check: a pass when err is nil.
func (r *runner) record(check, op string, res *response, err error) {
	if op == "" && res != nil && res.op != nil {
		op = res.op.id
	}
	rs := r.result(check, op)
	rs.Runs++
	rs.SkipReason = ""
	if err == nil {
		if rs.Outcome == Skip {
			rs.Outcome = Pass
		}
		return
	}
	rs.Outcome = Fail
	rs.FailureCount++
	r.log.Debug("check failed", slog.String("check", check), slog.String("operation", op), slog.Any("error", err))
	if len(rs.Failures) >= maxFailures {
		return
	}
	f := Failure{Message: err.Error()}
	if res != nil {
		f.Scenario, f.Status, f.Curl = res.call.scenario, res.status, res.curl
	}
	rs.Failures = append(rs.Failures, f)
}

// fail records a failure not tied to one response.
func (r *runner) fail(check, op, scenario string, err error) {
	r.record(check, op, &response{call: &call{scenario: scenario}}, err)
}

// skip marks a check as not run, unless it already ran.
func (r *runner) skip(check, op, reason string) {
	rs := r.result(check, op)
	if rs.Runs == 0 && rs.SkipReason == "" {
		rs.SkipReason = reason
	}
}

// results orders the results by check, then by the spec's operation order.
func (r *runner) ordered() []Result {
	for _, c := range Checks {
		found := false
		for k := range r.results {
			found = found || k.check == c
		}
		if !found {
			r.skip(c, "", "not exercised")
		}
	}
	opIndex := map[string]int{"": -1}
	for i, id := range r.opOrder {
		opIndex[id] = i
	}
	out := make([]Result, 0, len(r.results))
	for _, res := range r.results {
		out = append(out, *res)
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := slices.Index(Checks, out[i].Check), slices.Index(Checks, out[j].Check)
		if ci != cj {
			return ci < cj
		}
		return opIndex[out[i].Operation] < opIndex[out[j].Operation]
	})
	return out
}

// do sends a call, validates the response against the spec (the checks
// every response undergoes), and returns it. While the suite is not spending
// the quota on purpose, it paces itself by the rate-limit headers and
// retries after a 429.
func (r *runner) do(ctx context.Context, c *call) *response {
	for attempt := 0; ; attempt++ {
		res := r.send(ctx, c)
		if res.err != nil {
			r.record(NotAServerError, c.op, res, fmt.Errorf("no response: %w", res.err))
			return res
		}
		r.conform(ctx, res)
		if res.status != http.StatusTooManyRequests || r.spending || attempt >= 5 || ctx.Err() != nil {
			return res
		}
		r.throttled++
		wait, err := strconv.Atoi(res.header.Get("Retry-After"))
		if err != nil || wait < 1 {
			wait = 1
		}
		r.log.Info("rate limited; waiting", slog.Int("seconds", wait))
		fmt.Fprintf(r.progress, "        answered 429: waiting %ds (Retry-After) before retrying\n", min(wait, 120))
		if sleep(ctx, time.Duration(min(wait, 120))*time.Second) != nil {
			return res
		}
	}
}

// noteWait counts a wait of the current step and, when the run has been
// quiet for a while, says so: a paced run must not look like a hang, and
// its many short waits must not fill the screen.
func (r *runner) noteWait(key string, limit int, wait time.Duration) {
	r.waited += wait
	if time.Since(r.said) < 5*time.Second && wait < 5*time.Second {
		return
	}
	whose := "the API key's"
	if key == anonymous {
		whose = "this address's unauthenticated"
	}
	fmt.Fprintf(r.progress, "        waiting for %s rate limit (%d/min) to refill: %s waited in this step\n",
		whose, limit, r.waited.Round(100*time.Millisecond))
	r.said = time.Now()
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// anonymous names, among the buckets the suite paces itself by, that of
// its client address's requests without a valid key.
const anonymous = "\x00anonymous"

// bucketOf is the bucket a call spends: its key's, or for a call without a
// valid key, the client address's.
func (r *runner) bucketOf(c *call) string {
	if c.key == "" || c.key == r.wrongKey {
		return anonymous
	}
	return c.key
}

// pace waits until the key's bucket should hold at least n requests.
func (r *runner) pace(ctx context.Context, key string, n int) error {
	b := r.buckets[key]
	if b == nil || b.limit <= 0 || b.remaining >= n {
		return nil
	}
	interval := time.Minute / time.Duration(b.limit)
	wait := time.Duration(n-b.remaining)*interval - time.Since(b.at) + 50*time.Millisecond
	if wait > 0 {
		r.log.Debug("pacing to stay within the rate limit", slog.Duration("wait", wait))
	}
	if wait > 0 {
		r.noteWait(key, b.limit, wait)
	}
	return sleep(ctx, wait)
}

func (r *runner) send(ctx context.Context, c *call) *response {
	o := r.ops[c.op]
	res := &response{call: c, op: o}
	if o == nil {
		res.err = fmt.Errorf("unknown operation %s", c.op)
		return res
	}
	path := o.path
	for k, v := range c.params {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	u := r.base + path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	body := c.raw
	if body == nil && c.body != nil {
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			res.err = err
			return res
		}
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(cmp(c.method, o.method)), u, bytes.NewReader(body))
	if err != nil {
		res.err = err
		return res
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", cmp(c.ctype, "application/json"))
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.key != "" {
		req.Header["X-API-Key"] = []string{c.key} // spelled as the spec does, in reproductions too
	}
	res.curl = r.curl(req, body)
	if !r.spending && !o.public {
		if err := r.pace(ctx, r.bucketOf(c), reserve); err != nil {
			res.err = err
			return res
		}
	}
	r.requests++
	r.log.Debug("request", slog.String("operation", c.op), slog.String("method", req.Method), slog.String("url", u))
	resp, err := r.client.Do(req)
	if err != nil {
		res.err = err
		return res
	}
	defer resp.Body.Close()
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		res.err = fmt.Errorf("read body: %w", err)
		return res
	}
	res.status, res.header, res.at = resp.StatusCode, resp.Header, time.Now()
	if rh, err := parseRateHeaders(res.header); err == nil && !o.public {
		r.buckets[r.bucketOf(c)] = &bucket{limit: rh.limit, remaining: rh.remaining, at: res.at}
	}
	return res
}

// curl renders a request as a curl command, with the API keys masked.
func (r *runner) curl(req *http.Request, body []byte) string {
	var b strings.Builder
	b.WriteString("curl -i")
	if req.Method != http.MethodGet || body != nil {
		b.WriteString(" -X " + req.Method)
	}
	b.WriteString(" " + shellQuote(req.URL.String()))
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range req.Header[k] {
			if v == r.cfg.APIKey || v == r.cfg.SecondAccountKey {
				v = maskKey(v)
			}
			b.WriteString(" -H " + shellQuote(k+": "+v))
		}
	}
	if body != nil {
		const limit = 4096
		if len(body) > limit {
			fmt.Fprintf(&b, " --data-raw %s  # body cut: %d of %d bytes shown; --seed %d regenerates it",
				shellQuote(string(body[:limit])), limit, len(body), r.cfg.Seed)
		} else {
			b.WriteString(" --data-raw " + shellQuote(string(body)))
		}
	}
	return b.String()
}

// maskKey hides a key's secret, keeping its recognisable prefix.
func maskKey(k string) string {
	if strings.HasPrefix(k, "axm_") {
		return "axm_****"
	}
	return "****"
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// conform runs the checks every response undergoes.
func (r *runner) conform(ctx context.Context, res *response) {
	o := res.op
	notServerError := error(nil)
	if res.status >= 500 {
		notServerError = fmt.Errorf("the server answered %d: %s", res.status, errorSummary(res.body))
	}
	r.record(NotAServerError, o.id, res, notServerError)

	req, _ := http.NewRequestWithContext(ctx, strings.ToUpper(cmp(res.call.method, o.method)), r.base+o.path, nil)
	c := validateResponse(ctx, o, req, res.status, res.header, res.body)
	r.record(StatusCodeConformance, o.id, res, c.status)
	if c.status == nil {
		r.record(ResponseHeadersConformance, o.id, res, c.headers)
		r.record(ContentTypeConformance, o.id, res, c.contentType)
		if c.bodyChecked {
			r.record(ResponseSchemaConformance, o.id, res, c.body)
		}
	}
	if res.status >= 400 && res.call.method != http.MethodHead {
		_, err := checkEnvelope(r.errSchema, r.codes, res.status, res.header, res.body)
		r.record(ErrorEnvelope, o.id, res, err)
	}
	if res.call.key != "" && res.call.key != r.wrongKey && res.status != http.StatusUnauthorized {
		r.record(RateLimitHeaders, o.id, res, r.checkRateHeaders(res))
	}
}

// errorSummary is an error body's code and message, or its first bytes.
func errorSummary(body []byte) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	return strconv.Quote(truncate(string(body), 120))
}

// checkRateHeaders checks one response's rate-limit headers against the
// spec's definitions: present, integers, Remaining below the plan's burst,
// Reset when the bucket would be full again, Limit constant for a key.
func (r *runner) checkRateHeaders(res *response) error {
	rh, err := parseRateHeaders(res.header)
	if err != nil {
		return err
	}
	if rh.limit < 1 {
		return fmt.Errorf("X-RateLimit-Limit is %d, not a rate of at least 1 per minute", rh.limit)
	}
	if first, ok := r.limits[res.call.key]; !ok {
		r.limits[res.call.key] = rh.limit
	} else if first != rh.limit {
		return fmt.Errorf("X-RateLimit-Limit changed from %d to %d for the same key", first, rh.limit)
	}
	date, derr := http.ParseTime(res.header.Get("Date"))
	burst, known := burstByRate[rh.limit]
	if known && rh.remaining > burst-1 {
		return fmt.Errorf("X-RateLimit-Remaining is %d, above the plan's burst %d minus one", rh.remaining, burst)
	}
	if derr != nil {
		return nil // no server clock to compare Reset with
	}
	d := rh.reset - date.Unix()
	if !known {
		if d < -1 {
			return fmt.Errorf("X-RateLimit-Reset %d is before the response's Date %d", rh.reset, date.Unix())
		}
		return nil
	}
	// The bucket is full again when the requests it lacks have refilled.
	perRequest := 60.0 / float64(rh.limit)
	lo := int64(float64(burst-rh.remaining-1)*perRequest) - 1
	hi := int64(float64(burst-rh.remaining)*perRequest+0.999) + 2
	if d < lo || d > hi {
		return fmt.Errorf("X-RateLimit-Reset is %d s after the response's Date, but with %d of %d requests left at %d/min the bucket is full again in %d to %d s",
			d, rh.remaining, burst, rh.limit, lo+1, hi-1)
	}
	return nil
}

// data decodes a response's {"data": …} into v.
func data(res *response, v any) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(res.body, &env); err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	if len(env.Data) == 0 {
		return errors.New("the body has no data")
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// errorCode is an error response's code, or "".
func errorCode(res *response) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(res.body, &e)
	return e.Error.Code
}

func (r *runner) track(kind, id, key string) {
	if id == "" {
		return
	}
	if !slices.Contains(r.created, owned{kind, id, key}) {
		r.created = append(r.created, owned{kind, id, key})
	}
}

func (r *runner) untrack(kind, id string) {
	r.created = slices.DeleteFunc(r.created, func(o owned) bool { return o.kind == kind && o.id == id })
}

// untrackOf forgets what the account of key has under id: two accounts
// may suppress one address.
func (r *runner) untrackOf(kind, id, key string) {
	r.created = slices.DeleteFunc(r.created, func(o owned) bool { return o == owned{kind, id, key} })
}
