// Package faults breaks a server on purpose, one promise of the API's
// contract at a time, to prove that the contract suite notices: each Fault
// wraps a conforming server's handler and rewrites some of its answers.
package faults

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Fault wraps a handler to break one promise of the contract.
type Fault func(http.Handler) http.Handler

// recorder keeps a response so that a fault can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }
func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(p)
}
func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

// serve runs next into a recorder, lets edit change the response, and sends it.
func serve(next http.Handler, w http.ResponseWriter, r *http.Request, edit func(rec *recorder)) {
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	edit(rec)
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(rec.body.Len()))
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// Route matches requests by method and path.
type Route struct {
	method string
	path   *regexp.Regexp
}

// Match reports whether r is one of the route's requests.
func (rt Route) Match(r *http.Request) bool {
	return (rt.method == "" || r.Method == rt.method) && rt.path.MatchString(r.URL.Path)
}

// NewRoute matches method ("" for any) and a regular expression on the path.
func NewRoute(method, pathRE string) Route { return Route{method, regexp.MustCompile(pathRE)} }

// Routes the faults use.
var (
	CreateLead = NewRoute(http.MethodPost, `/leads/add$`)
	GetLead    = NewRoute(http.MethodGet, `/leads/cnt_[0-9A-Za-z]+$`)
	DeleteLead = NewRoute(http.MethodDelete, `/leads/cnt_[0-9A-Za-z]+$`)
	ListLeads  = NewRoute(http.MethodGet, `/leads$`)
	AnyRoute   = NewRoute("", `.`)

	CreateCampaign  = NewRoute(http.MethodPost, `/campaigns/add$`)
	GetCampaign     = NewRoute(http.MethodGet, `/campaigns/cmp_[0-9A-Za-z]+$`)
	UpdateCampaign  = NewRoute(http.MethodPatch, `/campaigns/cmp_[0-9A-Za-z]+$`)
	SendCampaign    = NewRoute(http.MethodPost, `/campaigns/cmp_[0-9A-Za-z]+/send$`)
	CampaignStats   = NewRoute(http.MethodGet, `/campaigns/cmp_[0-9A-Za-z]+/stats$`)
	TrackClick      = NewRoute(http.MethodGet, `/t/c/[^/]+(/[^/]+)?$`) // a message's token and a position, or a link's token of before
	UnsubscribePage = NewRoute(http.MethodGet, `/u/[^/]+$`)
	Unsubscribe     = NewRoute(http.MethodPost, `/u/[^/]+$`)

	AddSuppression = NewRoute(http.MethodPost, `/suppressions/add$`)
	GetSuppression = NewRoute(http.MethodGet, `/suppressions/[^/]+$`)

	AnyProperty   = NewRoute("", `/properties(/add|/prp_[0-9A-Za-z]+)$`)
	GetProperty   = NewRoute(http.MethodGet, `/properties/prp_[0-9A-Za-z]+$`)
	LeadAnalytics = NewRoute(http.MethodGet, `/analytics/leads$`)
)

// WrongStatus answers from instead of from's documented status: a 201
// becomes a 200, say.
func WrongStatus(rt Route, from, to int) Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !rt.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			serve(next, w, r, func(rec *recorder) {
				if rec.status == from {
					rec.status = to
				}
			})
		})
	}
}

// DropHeader removes a response header.
func DropHeader(rt Route, name string) Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !rt.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			serve(next, w, r, func(rec *recorder) { rec.header.Del(name) })
		})
	}
}

// editData applies f to the "data" object of a successful JSON answer.
func editData(rt Route, f func(data map[string]any)) Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !rt.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			serve(next, w, r, func(rec *recorder) { rec.editData(f) })
		})
	}
}

// editData applies f to the "data" object of a successful JSON answer.
func (rec *recorder) editData(f func(data map[string]any)) {
	var env map[string]any
	if rec.status/100 != 2 || json.Unmarshal(rec.body.Bytes(), &env) != nil {
		return
	}
	if d, ok := env["data"].(map[string]any); ok {
		f(d)
		b, _ := json.Marshal(env)
		rec.body.Reset()
		rec.body.Write(b)
	}
}

// asGet is r turned into a GET of path, without a body: a fault that
// answers from the resource as it is, costing one request like r.
func asGet(r *http.Request, path string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Method, r2.URL.Path, r2.URL.RawPath = http.MethodGet, path, ""
	r2.Body, r2.ContentLength = http.NoBody, 0
	r2.Header.Del("Content-Type")
	return r2
}

// AddField adds a field the schema does not have to the answer's data.
func AddField(rt Route, field string, value any) Fault {
	return editData(rt, func(d map[string]any) { d[field] = value })
}

// WrongType gives a field of the answer's data a value of another type
// than its schema's: a number for a string, say.
func WrongType(rt Route, field string, value any) Fault {
	return editData(rt, func(d map[string]any) { d[field] = value })
}

// RemoveField removes a required field from the answer's data.
func RemoveField(rt Route, field string) Fault {
	return editData(rt, func(d map[string]any) { delete(d, field) })
}

func envelope(code, message string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": message, "documentation_url": "https://api.axiom-console.com/docs/errors#" + code,
	}})
	return b
}

// ServerErrorOnBadInput answers 500 where the server refused bad input
// with 400: the server crashes on input it should have validated.
func ServerErrorOnBadInput() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serve(next, w, r, func(rec *recorder) {
				if rec.status == http.StatusBadRequest {
					rec.status = http.StatusInternalServerError
					rec.body.Reset()
					rec.body.Write(envelope("internal_error", "An internal error occurred"))
				}
			})
		})
	}
}

// PlainTextErrors answers every error as text/plain instead of the envelope.
func PlainTextErrors() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serve(next, w, r, func(rec *recorder) {
				if rec.status >= 400 {
					rec.header.Set("Content-Type", "text/plain; charset=utf-8")
					rec.body.Reset()
					rec.body.WriteString(http.StatusText(rec.status) + "\n")
				}
			})
		})
	}
}

// keyHeaders are the headers an API key may travel in.
var keyHeaders = []string{"X-API-Key", "X-Axiom-API-Key"}

// ActAs serves the requests of rt that carry the key intruder as if they
// carried owner: with GetLead, another account reads the owner's lead.
func ActAs(rt Route, intruder, owner string) Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rt.Match(r) {
				for _, h := range keyHeaders {
					if r.Header.Get(h) == intruder {
						r.Header.Set(h, owner)
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// IgnoreMissingKey serves requests that carry no key as if they carried key.
func IgnoreMissingKey(key string) Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get(keyHeaders[0]) == "" && r.Header.Get(keyHeaders[1]) == "" {
				r.Header.Set(keyHeaders[0], key)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// AcceptDuplicates answers a create refused as a duplicate with a 201 and
// a lead made up from the request, as a server without the check would.
func AcceptDuplicates() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !CreateLead.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			var body bytes.Buffer
			body.ReadFrom(r.Body)
			r.Body.Close()
			r.Body = readCloser{bytes.NewReader(body.Bytes())}
			serve(next, w, r, func(rec *recorder) {
				if rec.status != http.StatusUnprocessableEntity || !bytes.Contains(rec.body.Bytes(), []byte("duplicate_entry")) {
					return
				}
				var in map[string]any
				json.Unmarshal(body.Bytes(), &in)
				now := time.Now().UTC().Format(time.RFC3339)
				lead := map[string]any{
					"id": "cnt_fabricated" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10), "name": in["name"], "email": in["email"],
					"phone": "", "company": "", "type": "lead", "status": "active", "source": "",
					"tags": []any{}, "notes": []any{}, "custom_fields": map[string]any{}, "created_at": now, "updated_at": now,
				}
				b, _ := json.Marshal(map[string]any{"data": lead})
				rec.status = http.StatusCreated
				rec.body.Reset()
				rec.body.Write(b)
			})
		})
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// IgnorePage drops the page parameter of list requests: every page is the first.
func IgnorePage() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				q := r.URL.Query()
				q.Del("page")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	}
}

// FlipOrder swaps asc and desc in list requests.
func FlipOrder() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			switch q.Get("order") {
			case "asc":
				q.Set("order", "desc")
			case "desc":
				q.Set("order", "asc")
			}
			r.URL.RawQuery = q.Encode()
			next.ServeHTTP(w, r)
		})
	}
}

// FakeDelete answers 204 to deletes of leads without deleting anything.
func FakeDelete() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !DeleteLead.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			r2 := r.Clone(r.Context())
			r2.Method = http.MethodGet // costs one request of the quota, like the delete
			serve(next, w, r2, func(rec *recorder) {
				if rec.status == http.StatusOK {
					rec.status = http.StatusNoContent
					rec.header.Del("Content-Type")
					rec.body.Reset()
				}
			})
		})
	}
}

// SendWithoutSending answers a send with 202 and the campaign as sending,
// but starts nothing: the campaign stays as it was.
func SendWithoutSending() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !SendCampaign.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			serve(next, w, asGet(r, strings.TrimSuffix(r.URL.Path, "/send")), func(rec *recorder) {
				if rec.status != http.StatusOK {
					return
				}
				rec.editData(func(d map[string]any) {
					d["status"], d["started_at"] = "sending", time.Now().UTC().Format(time.RFC3339)
				})
				rec.status = http.StatusAccepted
			})
		})
	}
}

// UpdateAnyState answers an update refused for the campaign's status with
// 200 and the campaign: a sent campaign looks editable.
func UpdateAnyState() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !UpdateCampaign.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			serve(next, w, r, func(rec *recorder) {
				if rec.status != http.StatusUnprocessableEntity || !bytes.Contains(rec.body.Bytes(), []byte("invalid_state")) {
					return
				}
				got := &recorder{header: http.Header{}}
				next.ServeHTTP(got, asGet(r, r.URL.Path))
				if got.status == http.StatusOK {
					rec.status, rec.header = got.status, got.header
					rec.body.Reset()
					rec.body.Write(got.body.Bytes())
				}
			})
		})
	}
}

// DropAudience removes the audience from campaign creates and updates: a
// campaign meant for some leads goes to every lead of the account.
func DropAudience() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if CreateCampaign.Match(r) || UpdateCampaign.Match(r) {
				var in bytes.Buffer
				in.ReadFrom(r.Body)
				r.Body.Close()
				b := in.Bytes()
				var body map[string]any
				if json.Unmarshal(b, &body) == nil {
					delete(body, "audience")
					b, _ = json.Marshal(body)
				}
				r.Body, r.ContentLength = readCloser{bytes.NewReader(b)}, int64(len(b))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// StatsWithoutOpens answers a campaign's statistics with no opens.
func StatsWithoutOpens() Fault {
	return editData(CampaignStats, func(d map[string]any) { d["opens"], d["unique_opens"] = 0, 0 })
}

// RedirectTo sends every tracked link to target instead of the link's URL:
// an open redirect.
func RedirectTo(target string) Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !TrackClick.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			serve(next, w, r, func(rec *recorder) {
				if rec.status == http.StatusFound {
					rec.header.Set("Location", target)
				}
			})
		})
	}
}

// IgnoreOneClick answers the one-click unsubscribe (a POST to the
// unsubscribe link) with its page, without unsubscribing anyone: a mailbox
// provider's unsubscribe button does nothing.
func IgnoreOneClick() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !Unsubscribe.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><title>Unsubscribed</title><p>You are unsubscribed.</p>"))
		})
	}
}

// UnratedRefusals sends the 401s of requests without a valid key without
// their rate-limit headers, as a server that throttles no address would.
func UnratedRefusals() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serve(next, w, r, func(rec *recorder) {
				if rec.status == http.StatusUnauthorized {
					for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
						rec.header.Del(h)
					}
				}
			})
		})
	}
}

// UnsubscribeOnGet unsubscribes at a GET of the unsubscribe link, as a
// server without a confirmation page would: a link scanner fetching the
// message's URLs unsubscribes the recipient.
func UnsubscribeOnGet() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if UnsubscribePage.Match(r) {
				post := r.Clone(r.Context())
				post.Method = http.MethodPost
				post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				body := "List-Unsubscribe=One-Click"
				post.Body, post.ContentLength = readCloser{bytes.NewReader([]byte(body))}, int64(len(body))
				next.ServeHTTP(&recorder{header: http.Header{}}, post)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ForgetSuppressions answers an address suppressed with 201 and the entry
// it asked for, but stores nothing: the address is mailed again.
func ForgetSuppressions() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !AddSuppression.Match(r) {
				next.ServeHTTP(w, r)
				return
			}
			var in map[string]any
			json.NewDecoder(r.Body).Decode(&in)
			entry := map[string]any{"email": in["email"], "reason": in["reason"], "detail": in["detail"], "campaign_id": nil,
				"created_at": time.Now().UTC().Format(time.RFC3339)}
			if entry["detail"] == nil {
				entry["detail"] = ""
			}
			b, _ := json.Marshal(map[string]any{"data": entry})
			// Answered as the server answers a list read, rate-limit headers included.
			serve(next, w, asGet(r, strings.TrimSuffix(r.URL.Path, "/add")), func(rec *recorder) {
				rec.status = http.StatusCreated
				rec.header.Set("Content-Type", "application/json")
				rec.body.Reset()
				rec.body.Write(b)
			})
		})
	}
}

// NoHead answers HEAD 405, as a server that routes GET alone would.
func NoHead() Fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Allow", "GET")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
		})
	}
}

// Chain applies faults in order, the first outermost.
func Chain(h http.Handler, fs ...Fault) http.Handler {
	for i := len(fs) - 1; i >= 0; i-- {
		h = fs[i](h)
	}
	return h
}

// TrimPrice writes a listing's price without its trailing zeros
// ("450000.50" as "450000.5"): still a decimal the schema allows, but no
// longer every decimal of the currency, as the spec promises.
func TrimPrice() Fault {
	return editData(AnyProperty, func(d map[string]any) {
		if p, ok := d["price"].(map[string]any); ok {
			if a, ok := p["amount"].(string); ok && strings.Contains(a, ".") {
				p["amount"] = strings.TrimSuffix(strings.TrimRight(a, "0"), ".")
			}
		}
	})
}

// FloatPrice writes a listing's price amount as a JSON number.
func FloatPrice() Fault {
	return editData(AnyProperty, func(d map[string]any) {
		if p, ok := d["price"].(map[string]any); ok {
			if a, ok := p["amount"].(string); ok {
				p["amount"], _ = strconv.ParseFloat(a, 64)
			}
		}
	})
}

// MiscountLeads counts one lead more in the first interval of every lead
// series, and in its total: a series that no longer agrees with the list.
func MiscountLeads() Fault {
	return editData(LeadAnalytics, func(d map[string]any) {
		if s, ok := d["series"].([]any); ok && len(s) > 0 {
			if pt, ok := s[0].(map[string]any); ok {
				n, _ := pt["count"].(float64)
				pt["count"] = n + 1
				t, _ := d["total"].(float64)
				d["total"] = t + 1
			}
		}
	})
}
