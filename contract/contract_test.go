package contract_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/contract"
	"github.com/axiomkit/axiom/internal/faults"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/servertest"
)

// reference is the reference server with a second account, optionally
// behind a proxy that injects faults.
type reference struct {
	url, key, second string
	srv              *servertest.Server
}

// Its bucket of requests without a valid key is large: the suite's pacing
// of the default one costs seconds a run, and TestReferenceServerConforms
// alone pays them.
func newReference(t *testing.T, opts ...servertest.Option) reference {
	t.Helper()
	opts = append([]servertest.Option{servertest.WithUnauthenticatedLimit(100_000, 100_000)}, opts...)
	srv := servertest.New(t, opts...)
	return reference{url: srv.URL, key: srv.Key, second: srv.NewAccountKey(t, axiom.PlanEnterprise), srv: srv}
}

// withFaults puts a proxy that injects fs in front of ref, behind a guard
// that fails the test if the suite sends a campaign that could reach a
// lead it did not create.
func (ref reference) withFaults(t *testing.T, fs ...faults.Fault) reference {
	t.Helper()
	u, err := url.Parse(ref.url)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(faults.Chain(proxy, append([]faults.Fault{sendGuard(t)}, fs...)...))
	t.Cleanup(front.Close)
	ref.url = front.URL + "/v1"
	return ref
}

// sendGuard fails the test when a campaign send is accepted whose
// audience, as the server answered, is not one run's tag alone.
func sendGuard(t *testing.T) faults.Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !faults.SendCampaign.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code/100 == 2 {
				var env struct {
					Data struct {
						Audience struct{ Tags []string }
					}
				}
				err := json.Unmarshal(rec.Body.Bytes(), &env)
				if tags := env.Data.Audience.Tags; err != nil || len(tags) != 1 || !strings.HasPrefix(tags[0], "axiom-contract-") {
					t.Errorf("the suite sent a campaign whose audience is not the run's tag alone: %s", rec.Body.String())
				}
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	}
}

func (ref reference) config() contract.Config {
	return contract.Config{BaseURL: ref.url, APIKey: ref.key, SecondAccountKey: ref.second, LiveLinks: ref.liveLinks}
}

// trackedLink is a tracked link of a message: its token and position.
var trackedLink = regexp.MustCompile(`/t/c/([0-9A-Za-z_-]+)/([0-9]+)`)

// liveLinks reads a message's live tokens behind the API, where the
// recipient's copy is.
func (ref reference) liveLinks(ctx context.Context, sent contract.SentMessage) (contract.LiveLinks, error) {
	m, err := ref.srv.Store.GetMessage(ctx, ref.srv.AccountID, sent.CampaignID, sent.ID)
	if err != nil {
		return contract.LiveLinks{}, err
	}
	// The first tracked link of the body as the worker renders it.
	if m, err = ref.srv.Campaigns.Body(ctx, m); err != nil {
		return contract.LiveLinks{}, err
	}
	l := contract.LiveLinks{Open: m.OpenToken, Unsubscribe: m.UnsubscribeToken}
	if sub := trackedLink.FindStringSubmatch(m.HTML); sub != nil {
		l.Click, l.ClickPosition = sub[1], sub[2]
	}
	return l, nil
}

// TestReferenceServerConforms is the suite as anyone runs it from go test,
// against a bucket of requests without a valid key of the default's burst
// refilling a hundred times faster: the suite paces itself on it as on the
// default, in a fraction of a second instead of some 16 s. The default
// itself is TestReferenceServerConformsDefaultBucket's (AXIOM_SLOW_TESTS=1).
func TestReferenceServerConforms(t *testing.T) {
	anon := server.DefaultUnauthenticated
	conforms(t, anon.Rate*100, anon.Burst)
}

// TestReferenceServerConformsDefaultBucket is the suite against the
// server's default bucket of requests without a valid key, which it waits
// on for some 16 s.
func TestReferenceServerConformsDefaultBucket(t *testing.T) {
	if os.Getenv("AXIOM_SLOW_TESTS") == "" {
		t.Skip("waits some 16 s for the default unauthenticated bucket; AXIOM_SLOW_TESTS=1 runs it")
	}
	anon := server.DefaultUnauthenticated
	conforms(t, anon.Rate, anon.Burst)
}

// conforms runs the suite on an Enterprise key, with an unauthenticated
// bucket of rate per minute and burst, and wants every check to pass.
func conforms(t *testing.T, rate, burst int) {
	t.Helper()
	clean := newReference(t, servertest.WithPlan(axiom.PlanEnterprise), servertest.WithUnauthenticatedLimit(rate, burst))
	ref := clean.withFaults(t)
	rep := contract.Run(t, ref.config())
	if len(rep.LeftBehind) > 0 {
		t.Errorf("the run left %v behind", rep.LeftBehind)
	}
	for _, c := range contract.Checks {
		if c == contract.RateLimitEnforced {
			continue
		}
		for _, res := range rep.Check(c) {
			if res.Outcome != contract.Pass {
				t.Errorf("check %s on %q: %s, want pass", c, res.Operation, res.Outcome)
			}
		}
	}
}

// TestSpendQuota exhausts an Enterprise burst (500 requests, quick
// in-process); the Starter plan's pacing is TestServeBinary's.
func TestSpendQuota(t *testing.T) {
	ref := newReference(t, servertest.WithPlan(axiom.PlanEnterprise)).withFaults(t)
	cfg := ref.config()
	cfg.SpendQuota = true
	rep, err := contract.Check(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Throttled != 0 {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("the reference server failed, or the suite met a 429 it did not ask for:\n%s", b.String())
	}
	enforced := rep.Check(contract.RateLimitEnforced)
	if len(enforced) != 1 || enforced[0].Outcome != contract.Pass || enforced[0].Runs != 2 {
		t.Errorf("rate_limit_enforced = %+v, want one pass of 2 runs (the 429, the call after Retry-After)", enforced)
	}
}

// smallBucket gives every key a bucket of 10 that refills 100 times a
// second: the Starter plan's shape, a hundred times faster.
type smallBucket struct{ ratelimit.Limiter }

func (b smallBucket) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	if strings.HasPrefix(key, "link") {
		return b.Limiter.Allow(ctx, key, l) // the public links' buckets are not the plan's
	}
	return b.Limiter.Allow(ctx, key, ratelimit.Limit{Rate: 6000, Burst: 10})
}

// TestPacesItself runs the suite on a bucket far smaller than it needs: it
// must wait for the refill each time rather than meet a 429.
func TestPacesItself(t *testing.T) {
	ref := newReference(t, servertest.WithLimiter(smallBucket{ratelimit.NewMemory()})).withFaults(t)
	rep, err := contract.Check(t.Context(), ref.config())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Throttled != 0 || rep.Requests < 10*10 {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("want a passing run of 100 requests or more, throttled 0 times:\n%s", b.String())
	}
}

func TestDocumentedOnly(t *testing.T) {
	ref := newReference(t, servertest.WithPlan(axiom.PlanEnterprise))
	cfg := ref.config()
	cfg.DocumentedOnly = true
	rep, err := contract.Check(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("failed checks: %v", rep.FailedChecks())
	}
	for _, res := range rep.Results {
		if res.Operation == "getLead" || res.Operation == "deleteLead" {
			t.Errorf("%s ran on %s, which is not documented", res.Check, res.Operation)
		}
	}
	if len(rep.LeftBehind) == 0 {
		t.Error("the documented operations cannot delete, yet nothing was reported left behind")
	}
}

// TestFaultsAreCaught runs the suite against servers broken on purpose,
// one fault each, and checks that the right check reports it.
func TestFaultsAreCaught(t *testing.T) {
	created := faults.CreateLead
	tests := []struct {
		name   string
		faults func(ref reference) []faults.Fault
		opts   []servertest.Option
		spend  bool
		want   []string
	}{
		{
			name:   "wrong status code",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.WrongStatus(created, 201, 200)} },
			want:   []string{contract.StatusCodeConformance},
		},
		{
			name: "missing rate-limit header",
			faults: func(reference) []faults.Fault {
				return []faults.Fault{faults.DropHeader(faults.ListLeads, "X-RateLimit-Remaining")}
			},
			want: []string{contract.ResponseHeadersConformance, contract.RateLimitHeaders},
		},
		{
			name:   "extra body field",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.AddField(faults.GetLead, "score", 42)} },
			want:   []string{contract.ResponseSchemaConformance},
		},
		{
			name:   "missing body field",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.RemoveField(created, "company")} },
			want:   []string{contract.ResponseSchemaConformance},
		},
		{
			name:   "500 on bad input",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.ServerErrorOnBadInput()} },
			want:   []string{contract.NotAServerError, contract.NegativeDataRejection},
		},
		{
			name:   "plain-text error",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.PlainTextErrors()} },
			want:   []string{contract.ContentTypeConformance, contract.ErrorEnvelope},
		},
		{
			name: "another account reads the lead",
			faults: func(ref reference) []faults.Fault {
				return []faults.Fault{faults.ActAs(faults.GetLead, ref.second, ref.key)}
			},
			want: []string{contract.AccountIsolation},
		},
		{
			name:   "duplicate accepted",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.AcceptDuplicates()} },
			want:   []string{contract.DuplicateEmailRejected},
		},
		{
			name:   "missing key accepted",
			faults: func(ref reference) []faults.Fault { return []faults.Fault{faults.IgnoreMissingKey(ref.key)} },
			want:   []string{contract.AuthenticationRequired},
		},
		{
			name:   "401 without rate-limit headers",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.UnratedRefusals()} },
			want:   []string{contract.AuthenticationRequired, contract.ResponseHeadersConformance},
		},
		{
			name:   "HEAD not answered",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.NoHead()} },
			want:   []string{contract.HeadSupported},
		},
		{
			name:   "page ignored",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.IgnorePage()} },
			want:   []string{contract.Pagination},
		},
		{
			name:   "order flipped",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.FlipOrder()} },
			want:   []string{contract.SortOrder},
		},
		{
			name:   "delete does not delete",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.FakeDelete()} },
			want:   []string{contract.DeletedResourceGone},
		},
		{
			name:   "send that starts nothing",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.SendWithoutSending()} },
			want:   []string{contract.CampaignLifecycle},
		},
		{
			name:   "audience dropped",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.DropAudience()} },
			want:   []string{contract.CampaignLifecycle},
		},
		{
			name:   "sent campaign editable",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.UpdateAnyState()} },
			want:   []string{contract.CampaignStateRules},
		},
		{
			name: "open redirect",
			faults: func(reference) []faults.Fault {
				return []faults.Fault{faults.RedirectTo("https://phishing.example/login")}
			},
			want: []string{contract.TrackingLinks},
		},
		{
			name:   "stats miss opens",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.StatsWithoutOpens()} },
			want:   []string{contract.TrackingLinks},
		},
		{
			name:   "one-click unsubscribe ignored",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.IgnoreOneClick()} },
			want:   []string{contract.TrackingLinks},
		},
		{
			name:   "GET unsubscribes",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.UnsubscribeOnGet()} },
			want:   []string{contract.TrackingLinks},
		},
		{
			name:   "suppression forgotten",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.ForgetSuppressions()} },
			want:   []string{contract.SuppressionList},
		},
		{
			name: "another account reads the suppression list",
			faults: func(ref reference) []faults.Fault {
				return []faults.Fault{faults.ActAs(faults.GetSuppression, ref.second, ref.key)}
			},
			want: []string{contract.AccountIsolation},
		},
		{
			name: "another account reads the campaign",
			faults: func(ref reference) []faults.Fault {
				return []faults.Fault{faults.ActAs(faults.GetCampaign, ref.second, ref.key)}
			},
			want: []string{contract.AccountIsolation},
		},
		{
			name:   "price without every decimal of its currency",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.TrimPrice()} },
			want:   []string{contract.PositiveDataAcceptance},
		},
		{
			name:   "price as a float",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.FloatPrice()} },
			want:   []string{contract.ResponseSchemaConformance},
		},
		{
			name: "another account reads the listing",
			faults: func(ref reference) []faults.Fault {
				return []faults.Fault{faults.ActAs(faults.GetProperty, ref.second, ref.key)}
			},
			want: []string{contract.AccountIsolation},
		},
		{
			name:   "lead series off by one",
			faults: func(reference) []faults.Fault { return []faults.Fault{faults.MiscountLeads()} },
			want:   []string{contract.AnalyticsAgree},
		},
		{
			name:   "no rate limit",
			faults: func(reference) []faults.Fault { return nil },
			opts:   []servertest.Option{servertest.WithoutRateLimit(), servertest.WithPlan(axiom.PlanStarter)},
			spend:  true,
			want:   []string{contract.RateLimitHeaders, contract.RateLimitEnforced},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case has a server of its own
			opts := append([]servertest.Option{servertest.WithPlan(axiom.PlanEnterprise)}, tt.opts...)
			clean := newReference(t, opts...)
			ref := clean.withFaults(t, tt.faults(clean)...)
			cfg := ref.config()
			cfg.SpendQuota = tt.spend
			rep, err := contract.Check(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("the suite passed a faulty server")
			}
			failed := rep.FailedChecks()
			for _, w := range tt.want {
				if !slices.Contains(failed, w) {
					t.Errorf("check %s did not fail; the failed checks are %v", w, failed)
				}
			}
			for _, res := range rep.Results {
				for _, f := range res.Failures {
					if strings.Contains(f.Curl, ref.key) || strings.Contains(f.Curl, ref.second) {
						t.Errorf("%s: the reproduction shows a key: %s", res.Check, f.Curl)
					}
					if f.Message == "" || f.Scenario == "" {
						t.Errorf("%s: failure without message or scenario: %+v", res.Check, f)
					}
				}
			}
			t.Logf("failed checks: %v", failed)
		})
	}
}

// serverIDs are what the server assigns: lead ids and slugs' random suffixes.
var serverIDs = regexp.MustCompile(`(cnt|cmp)_[0-9A-Za-z]+|-[0-9a-f]{8}\b`)

// TestSeedReplays checks that a seed regenerates the same inputs: the
// reproductions of two runs with one seed differ only by the run's tag.
func TestSeedReplays(t *testing.T) {
	run := func() *contract.Report {
		ref := newReference(t, servertest.WithPlan(axiom.PlanEnterprise)).withFaults(t, faults.ServerErrorOnBadInput())
		cfg := ref.config()
		cfg.Seed = 42
		rep, err := contract.Check(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b := run(), run()
	curls := func(rep *contract.Report) []string {
		var out []string
		for _, res := range rep.Check(contract.NegativeDataRejection) {
			for _, f := range res.Failures {
				u := f.Curl[strings.Index(f.Curl, "/v1/"):] // the host differs
				u = serverIDs.ReplaceAllString(strings.ReplaceAll(u, rep.Tag, "TAG"), "ID")
				out = append(out, u)
			}
		}
		return out
	}
	ca, cb := curls(a), curls(b)
	if len(ca) == 0 || !slices.Equal(ca, cb) {
		t.Errorf("seed 42 gave different failures: %d and %d", len(ca), len(cb))
		for i := range min(len(ca), len(cb)) {
			if ca[i] != cb[i] {
				t.Errorf("first difference:\n%.300s\n%.300s", ca[i], cb[i])
				break
			}
		}
	}
}

// TestCheckRefusesBadSetups: a run that cannot be made is an error, not a
// report of a hundred failures.
func TestCheckRefusesBadSetups(t *testing.T) {
	ref := newReference(t, servertest.WithPlan(axiom.PlanEnterprise))
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tests := []struct {
		name string
		cfg  contract.Config
		want string
	}{
		{"no key", contract.Config{BaseURL: ref.url}, "required"},
		{"the same key twice", contract.Config{BaseURL: ref.url, APIKey: ref.key, SecondAccountKey: ref.key}, "another account"},
		{"a refused key", contract.Config{BaseURL: ref.url, APIKey: "axm_not_a_key"}, "refused APIKey"},
		{"a refused second key", contract.Config{BaseURL: ref.url, APIKey: ref.key, SecondAccountKey: "axm_not_a_key"}, "refused SecondAccountKey"},
		{"no server", contract.Config{BaseURL: down.URL + "/v1", APIKey: ref.key}, "not reachable"},
		{"a read-only key", contract.Config{BaseURL: ref.url, APIKey: ref.srv.NewReadOnlyKey(t)}, "APIKey may not write"},
		{"a read-only second key", contract.Config{BaseURL: ref.url, APIKey: ref.key, SecondAccountKey: ref.srv.NewReadOnlyKey(t)}, "SecondAccountKey may not write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := contract.Check(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, %v; want an error about %q", rep, err, tt.want)
			}
			if strings.HasPrefix(tt.name, "a ") && !errors.Is(err, contract.ErrSetup) {
				t.Errorf("Check = %v; want it to be a contract.ErrSetup", err)
			}
		})
	}
}
