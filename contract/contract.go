// Package contract checks that a running server honours the Axiom API's
// contract, openapi.yaml: every operation, with valid and invalid inputs,
// every response validated against the spec with kin-openapi, and the API's
// semantics the spec states in prose (authentication, isolation between
// accounts, duplicates, pagination, sorting, rate limits, the campaigns'
// lifecycle, states and tracking links) checked by named checks. Inputs beyond fixed scenarios are drawn from the spec's schemas
// with a seed the report prints, so that any failure can be replayed.
//
// From a Go test:
//
//	func TestContract(t *testing.T) {
//		contract.Run(t, contract.Config{BaseURL: "http://127.0.0.1:8080/v1", APIKey: os.Getenv("AXIOM_API_KEY")})
//	}
//
// The suite tags what it creates with an email domain of its own per run,
// deletes it afterwards where the API allows, and never changes or deletes
// anything it did not create. Its campaigns go only to leads it created:
// their audience is a tag of the run's, which it checks before sending.
package contract

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
)

// The named checks, in the order reports list them.
const (
	// NotAServerError: no response has a 5xx status.
	NotAServerError = "not_a_server_error"
	// StatusCodeConformance: the status is documented for the operation.
	StatusCodeConformance = "status_code_conformance"
	// ContentTypeConformance: the Content-Type is documented for the status.
	ContentTypeConformance = "content_type_conformance"
	// ResponseHeadersConformance: the documented headers are present (the
	// rate-limit headers among them) and match their schemas.
	ResponseHeadersConformance = "response_headers_conformance"
	// ResponseSchemaConformance: the body matches the documented schema.
	ResponseSchemaConformance = "response_schema_conformance"
	// ErrorEnvelope: every error, documented or not, is the Error envelope,
	// with the code the spec gives its status.
	ErrorEnvelope = "error_envelope"
	// NegativeDataRejection: input the schemas forbid is answered with a 4xx.
	NegativeDataRejection = "negative_data_rejection"
	// PositiveDataAcceptance: input the schemas allow is accepted (2xx), and
	// the resource returned holds what was sent.
	PositiveDataAcceptance = "positive_data_acceptance"
	// AuthenticationRequired: a missing or wrong key is answered 401, with
	// the rate-limit headers of the client address's bucket, by every
	// operation that needs a key; a key in X-Axiom-API-Key is accepted like
	// X-API-Key.
	AuthenticationRequired = "authentication_required"
	// AccountIsolation: one account cannot read, change or delete another's
	// resources (404), nor see them in lists, nor collide on their emails.
	AccountIsolation = "account_isolation"
	// CreatedResourceAvailable: a created resource can be fetched as created
	// and appears in its list.
	CreatedResourceAvailable = "created_resource_available"
	// UpdateReadsBack: an updated resource reads back updated, unsent fields
	// unchanged.
	UpdateReadsBack = "update_reads_back"
	// DeletedResourceGone: a deleted resource is 404 afterwards, and gone
	// from its list.
	DeletedResourceGone = "deleted_resource_gone"
	// DuplicateEmailRejected: a second lead with an email the account has,
	// in any case, is 422 duplicate_entry, on create and on update.
	DuplicateEmailRejected = "duplicate_email_rejected"
	// IdempotentReplay: a POST retried with its Idempotency-Key is answered
	// the first response again; the key with another body is 422.
	IdempotentReplay = "idempotent_replay"
	// Pagination: pages do not overlap, limit is honoured, length and
	// has_more are consistent, and every item turns up on some page.
	Pagination = "pagination"
	// SortOrder: sort and order really order, ties broken as documented.
	SortOrder = "sort_order"
	// CampaignLifecycle: a campaign to the run's tagged leads goes from
	// draft through scheduled and sending to sent, with one message per
	// lead of its audience and statistics that add up.
	CampaignLifecycle = "campaign_lifecycle"
	// CampaignStateRules: what a campaign's status does not allow, and a
	// template the account lacks, are answered 422 with the spec's code.
	CampaignStateRules = "campaign_state_rules"
	// TrackingLinks: the pixel, tracked links and unsubscribe links of the
	// messages count opens, clicks and unsubscribes, redirect only to the
	// template's URL, and refuse tokens that name nothing.
	TrackingLinks = "tracking_links"
	// SuppressionList: an address added to the suppression list reads
	// back, in any case, keeps its first reason, is listed by reason, is
	// left out of a campaign (recorded and counted), and is gone once
	// removed; the address a one-click unsubscribe unsubscribed is on it.
	SuppressionList = "suppression_list"
	// AnalyticsAgree: the lead, campaign and property aggregates agree with
	// what the lists and each campaign's stats return.
	AnalyticsAgree = "analytics_agree"
	// RateLimitHeaders: the rate-limit headers are present on every
	// authenticated response, consistent with the plan's figures and with
	// each other across consecutive calls.
	RateLimitHeaders = "rate_limit_headers"
	// RateLimitEnforced: past the burst, 429 with Retry-After; a call after
	// that wait succeeds. Runs only with SpendQuota.
	RateLimitEnforced = "rate_limit_enforced"
	// HeadSupported: HEAD answers every GET operation that takes a key with
	// GET's status and headers and no body.
	HeadSupported = "head_supported"
)

// Checks lists every named check, in report order.
var Checks = []string{
	NotAServerError, StatusCodeConformance, ContentTypeConformance, ResponseHeadersConformance,
	ResponseSchemaConformance, ErrorEnvelope, NegativeDataRejection, PositiveDataAcceptance,
	AuthenticationRequired, AccountIsolation, CreatedResourceAvailable, UpdateReadsBack,
	DeletedResourceGone, DuplicateEmailRejected, IdempotentReplay, Pagination, SortOrder,
	CampaignLifecycle, CampaignStateRules, TrackingLinks, SuppressionList, AnalyticsAgree, RateLimitHeaders, RateLimitEnforced, HeadSupported,
}

// Config says which server to check and how.
type Config struct {
	// BaseURL is the API's base URL, ending in /v1.
	BaseURL string
	// APIKey is a read-write key of the account the suite works in.
	APIKey string
	// SecondAccountKey, a key of another account, enables the isolation
	// checks.
	SecondAccountKey string
	// DocumentedOnly restricts the run to operations marked
	// x-axiom-documented: true (for the live service).
	DocumentedOnly bool
	// SpendQuota lets the suite exhaust the account's burst to check the
	// 429; the account is then throttled for a while.
	SpendQuota bool
	// Seed makes generated inputs reproducible; 0 draws one, which the
	// report prints.
	Seed uint64
	// Examples is how many generated valid and invalid inputs each
	// operation gets (3 by default).
	Examples int
	// HTTPClient sends the requests (a client with a 30 s timeout by default).
	HTTPClient *http.Client
	// ExcludeTags leaves out the operations of these tags (as "Campaigns"
	// for a server that does not serve them yet).
	ExcludeTags []string
	// Spec is the contract (this module's openapi.yaml by default).
	Spec *openapi3.T
	// Logger receives progress at debug level and waits at info level.
	Logger *slog.Logger
	// Progress, when set, receives one line per step of the run as it
	// ends (its requests and failures) and one line whenever the run waits
	// for a rate limit to refill: for a person watching, not for parsing.
	Progress io.Writer
	// LiveLinks, when set, gives the live tokens of a campaign message's
	// links, which the API shows only as REDACTED: read where the
	// recipients' copies are (a MailSink's LiveLinks, or the server's
	// database). Without it the TrackingLinks checks that follow the links
	// are skipped.
	LiveLinks func(ctx context.Context, m SentMessage) (LiveLinks, error)
}

// SentMessage names a message of a campaign the suite sent, as the API
// lists it.
type SentMessage struct {
	CampaignID, ID string
	To             string // the recipient's address
}

// LiveLinks are the tokens of one message's open pixel, first tracked link
// and unsubscribe link, as its recipient got them. A tracked link is a
// token and a position (trackClick's path, /t/c/{token}/{position}).
type LiveLinks struct {
	Open, Click, Unsubscribe string
	ClickPosition            string
}

// Check runs the suite against the server and reports every check's
// outcome. Its error is for runs that could not be made at all: a bad
// Config, an unreachable server, a refused key.
func Check(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.BaseURL == "" || cfg.APIKey == "" {
		return nil, errors.New("contract: BaseURL and APIKey are required")
	}
	if cfg.APIKey == cfg.SecondAccountKey {
		return nil, errors.New("contract: SecondAccountKey must be a key of another account")
	}
	if cfg.Seed == 0 {
		cfg.Seed = mrand.Uint64()>>1 + 1
	}
	if cfg.Examples <= 0 {
		cfg.Examples = 3
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	// A redirect is a response to check (trackClick's 302), not to follow.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	doc := cfg.Spec
	if doc == nil {
		var err error
		if doc, err = openapi3.NewLoader().LoadFromData(axiom.OpenAPI); err != nil {
			return nil, fmt.Errorf("contract: load the spec: %w", err)
		}
	}
	ops, err := loadOperations(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	errRef := doc.Components.Schemas["Error"]
	if errRef == nil || errRef.Value == nil {
		return nil, errors.New("contract: the spec has no Error schema")
	}
	tag := runTag()
	r := &runner{
		cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/"), client: client, log: cfg.Logger,
		ops: ops, errSchema: errRef.Value, codes: errorCodes(), schemas: doc.Components.Schemas,
		gen: newGenerator(cfg.Seed, tag+".axiom-contract.test"), tag: tag,
		wrongKey: "axm_contract_wrong_key_" + tag, started: time.Now(),
		results: map[resultKey]*Result{}, buckets: map[string]*bucket{}, limits: map[string]int{},
		progress: cfg.Progress,
	}
	if r.progress == nil {
		r.progress = io.Discard
	}
	for id := range ops {
		r.opOrder = append(r.opOrder, id)
	}
	slices.SortFunc(r.opOrder, func(a, b string) int {
		oa, ob := ops[a], ops[b]
		if c := strings.Compare(oa.path, ob.path); c != 0 {
			return c
		}
		return slices.Index(methodOrder, oa.method) - slices.Index(methodOrder, ob.method)
	})
	rep := &Report{
		BaseURL: r.base, Seed: cfg.Seed, Tag: tag, DocumentedOnly: cfg.DocumentedOnly,
		SpendQuota: cfg.SpendQuota, Started: time.Now(),
	}
	cfg.Logger.Info("contract run", slog.String("base_url", r.base), slog.Uint64("seed", cfg.Seed), slog.String("tag", tag))
	if err := r.run(ctx); err != nil {
		return nil, err
	}
	rep.Duration = time.Since(rep.Started)
	rep.Requests, rep.Throttled = r.requests, r.throttled
	rep.Results = r.ordered()
	for _, o := range r.created {
		rep.LeftBehind = append(rep.LeftBehind, o.kind+" "+o.id)
	}
	return rep, nil
}

var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// runTag names a run in the data it creates; unlike the seed it is never
// reused, so that a replayed run cannot meet an earlier run's leftovers.
func runTag() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	b[0] = 'c'
	return string(b)
}

// ErrSetup is the error of a run that could not start: the server cannot
// be reached, or refuses a key, or a key may not write. It says nothing of
// the server's conformance.
var ErrSetup = errors.New("contract: cannot check this server")

// Run runs the suite from a Go test: one subtest per check and operation,
// failing with each failure's message and curl reproduction. It returns the
// report for further assertions.
func Run(t *testing.T, cfg Config) *Report {
	t.Helper()
	rep, err := Check(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("contract run against %s: seed %d (set Config.Seed to replay), run tag %s, %d requests in %s",
		rep.BaseURL, rep.Seed, rep.Tag, rep.Requests, rep.Duration.Round(time.Millisecond))
	for _, res := range rep.Results {
		t.Run(res.Check+"/"+cmp(res.Operation, "API"), func(t *testing.T) {
			switch res.Outcome {
			case Skip:
				t.Skip(res.SkipReason)
			case Fail:
				for _, f := range res.Failures {
					t.Errorf("%s\nwhile: %s\nreproduce: %s", f.Message, f.Scenario, f.Curl)
				}
				if more := res.FailureCount - len(res.Failures); more > 0 {
					t.Errorf("and %d more failures (seed %d)", more, rep.Seed)
				}
			}
		})
	}
	return rep
}
