package validation

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

type reply struct {
	status int
	header http.Header
	body   []byte
}

// envelope decodes the body as the error envelope, strictly.
func (r reply) envelope(t *testing.T) gen.Error {
	t.Helper()
	var env gen.Error
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("body %q is not an error envelope: %v", r.body, err)
	}
	d := env.Error
	if d.DocumentationURL != axiom.DocsBase+string(d.Code) || d.Message == "" {
		t.Errorf("envelope %+v: want a message and documentation_url %s%s", d, axiom.DocsBase, d.Code)
	}
	return env
}

type request struct {
	method, path string
	ct           string // Content-Type of body; "" sends none
	body         string
	header       map[string]string
}

func send(t *testing.T, base string, req request) reply {
	t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r, err := http.NewRequest(req.method, base+req.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if req.ct != "" {
		r.Header.Set(echo.HeaderContentType, req.ct)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func serve(t *testing.T, mode Mode, f *fake, after ...echo.MiddlewareFunc) (string, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	v, err := New(spec(t), Options{Responses: mode})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newEcho(t, v, slog.New(logs), f, after...))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

const validLead = `{"name":"Jane Doe","email":"jane.doe@example.com","phone":"+11235550199","type":"lead",` +
	`"source":"API","notes":["seller","commercial"],"custom_fields":{"property_type":"Office Space"}}`

func TestRequests(t *testing.T) {
	base, _ := serve(t, ResponseEnforce, &fake{})
	long := strings.Repeat("x", 201)
	const json = echo.MIMEApplicationJSON
	tests := []struct {
		name string
		req  request
		// want is the status; for errors, the envelope's code and message.
		want    int
		code    gen.ErrorCode
		message string
	}{
		{"list", request{method: "GET", path: "/v1/leads"}, 200, "", ""},
		{"list with every parameter", request{method: "GET", path: "/v1/leads?page=2&limit=20&sort=name&order=asc&search=smith"}, 200, "", ""},
		{"limit 100", request{method: "GET", path: "/v1/leads?limit=100"}, 200, "", ""},
		{"unknown query parameter ignored", request{method: "GET", path: "/v1/leads?verbose=1"}, 200, "", ""},
		{"limit 0", request{method: "GET", path: "/v1/leads?limit=0"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'limit' must be at least 1"},
		{"limit 101", request{method: "GET", path: "/v1/leads?limit=101"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'limit' must be at most 100"},
		{"limit not a number", request{method: "GET", path: "/v1/leads?limit=ten"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'limit' must be an integer from 1 to 100"},
		{"limit fractional", request{method: "GET", path: "/v1/leads?limit=1.5"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'limit' must be an integer from 1 to 100"},
		{"limit empty", request{method: "GET", path: "/v1/leads?limit="}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'limit' must not be empty"},
		{"page 0", request{method: "GET", path: "/v1/leads?page=0"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'page' must be at least 1"},
		{"page too large", request{method: "GET", path: "/v1/leads?page=1000001"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'page' must be at most 1000000"},
		{"page beyond int32", request{method: "GET", path: "/v1/leads?page=99999999999"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'page' must be an integer from 1 to 1000000"},
		{"sort bogus", request{method: "GET", path: "/v1/leads?sort=bogus"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'sort' must be one of: created_at, updated_at, name, email"},
		{"order up", request{method: "GET", path: "/v1/leads?order=up"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'order' must be one of: asc, desc"},
		{"search too long", request{method: "GET", path: "/v1/leads?search=" + long}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'search' must be at most 200 characters long"},
		{"limit twice", request{method: "GET", path: "/v1/leads?limit=1&limit=200"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'limit' must be given once"},
		{"template sort of leads", request{method: "GET", path: "/v1/templates?sort=email"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'sort' must be one of: created_at, updated_at, name"},

		{"get", request{method: "GET", path: "/v1/leads/cnt_12345"}, 200, "", ""},
		{"get escaped id", request{method: "GET", path: "/v1/leads/cnt%5F12345"}, 200, "", ""},
		{"get bad id", request{method: "GET", path: "/v1/leads/12345"}, 400, gen.ErrorCodeInvalidParameter, "The parameter 'id' is invalid: it must match the pattern ^cnt_[0-9A-Za-z]{1,32}$"},
		{"delete", request{method: "DELETE", path: "/v1/leads/cnt_12345"}, 204, "", ""},
		{"unknown path passes through", request{method: "GET", path: "/v1/nope?limit=0"}, 404, gen.ErrorCodeNotFound, "The path does not exist"},
		{"unknown method passes through", request{method: "PUT", path: "/v1/leads?limit=0"}, 405, gen.ErrorCodeMethodNotAllowed, "The method is not allowed"},

		{"create", request{method: "POST", path: "/v1/leads/add", ct: json, body: validLead}, 201, "", ""},
		{"create with charset", request{method: "POST", path: "/v1/leads/add", ct: "application/json; charset=utf-8", body: validLead}, 201, "", ""},
		{"create with idempotency key", request{method: "POST", path: "/v1/leads/add", ct: json, body: validLead, header: map[string]string{"Idempotency-Key": "5f0c6e0e-2b8e"}}, 201, "", ""},
		{"idempotency key with a space", request{method: "POST", path: "/v1/leads/add", ct: json, body: validLead, header: map[string]string{"Idempotency-Key": "a b"}}, 400, gen.ErrorCodeInvalidParameter, `The header 'Idempotency-Key' is invalid: it must match the pattern ^[\x21-\x7E]+$`},
		{"missing email", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'email' is required"},
		{"missing name", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"email":"a@b.co"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'name' is required"},
		{"server field", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","id":"cnt_1"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'id' is not allowed"},
		{"unknown field", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","zzz":1}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'zzz' is not allowed"},
		{"bad email", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"jane.example.com"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'email' is invalid: not an email address"},
		{"email with two @", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b@c.co"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'email' is invalid: not an email address"},
		{"name a number", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":5,"email":"a@b.co"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'name' must be a string"},
		{"name null", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":null,"email":"a@b.co"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'name' must not be null"},
		{"name blank", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"   ","email":"a@b.co"}`}, 400, gen.ErrorCodeInvalidParameter, `The body field 'name' is invalid: it must match the pattern \S`},
		{"name too long", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"` + long + `","email":"a@b.co"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'name' must be at most 200 characters long"},
		{"bad type", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","type":"boss"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'type' must be one of: lead, prospect, client, past_client, partner, vendor, other"},
		{"tags not an array", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","tags":"buyer"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'tags' must be an array"},
		{"empty tag", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","tags":["buyer",""]}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'tags[1]' must not be empty"},
		{"repeated tag", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","tags":["buyer","buyer"]}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'tags' must not hold the same item twice"},
		{"custom field not a string", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","custom_fields":{"budget":500}}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'custom_fields.budget' must be a string"},
		{"bad phone", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","phone":"555-1234"}`}, 400, gen.ErrorCodeInvalidParameter, `The body field 'phone' is invalid: it must match the pattern ^(\+[1-9][0-9]{6,14})?$`},
		{"body an array", request{method: "POST", path: "/v1/leads/add", ct: json, body: `[]`}, 400, gen.ErrorCodeInvalidParameter, "The request body must be an object"},
		{"malformed JSON", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane",`}, 400, gen.ErrorCodeInvalidParameter, "The request body is not valid JSON"},
		{"trailing data", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co"} {}`}, 400, gen.ErrorCodeInvalidParameter, "The request body is not valid JSON"},
		{"invalid UTF-8", request{method: "POST", path: "/v1/leads/add", ct: json, body: "{\"name\":\"Jan\xff\",\"email\":\"a@b.co\"}"}, 400, gen.ErrorCodeInvalidParameter, "The request body is not valid UTF-8"},
		{"empty body", request{method: "POST", path: "/v1/leads/add", ct: json}, 400, gen.ErrorCodeInvalidParameter, "The request body is required"},
		{"empty body without type", request{method: "POST", path: "/v1/leads/add"}, 400, gen.ErrorCodeInvalidParameter, "The request body is required"},
		{"text/plain", request{method: "POST", path: "/v1/leads/add", ct: "text/plain", body: validLead}, 415, gen.ErrorCodeUnsupportedMediaType, "The request body must be sent as application/json"},
		{"no content type", request{method: "POST", path: "/v1/leads/add", body: validLead}, 415, gen.ErrorCodeUnsupportedMediaType, "The request body must be sent as application/json"},
		{"form", request{method: "POST", path: "/v1/leads/add", ct: "application/x-www-form-urlencoded", body: "name=Jane&email=a@b.co"}, 415, gen.ErrorCodeUnsupportedMediaType, "The request body must be sent as application/json"},
		{"too large", request{method: "POST", path: "/v1/leads/add", ct: json, body: `{"name":"Jane","email":"a@b.co","notes":["` + strings.Repeat("n", 5000) + `"]}`}, 413, gen.ErrorCodePayloadTooLarge, "The request body is larger than 4096 bytes"},

		{"update", request{method: "PATCH", path: "/v1/leads/cnt_1", ct: json, body: `{"type":"client","tags":["buyer"]}`}, 200, "", ""},
		{"update nothing", request{method: "PATCH", path: "/v1/leads/cnt_1", ct: json, body: `{}`}, 400, gen.ErrorCodeInvalidParameter, "The request body must set at least 1 field"},
		{"update server field", request{method: "PATCH", path: "/v1/leads/cnt_1", ct: json, body: `{"created_at":"2025-01-01T00:00:00Z"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'created_at' is not allowed"},
		{"create template", request{method: "POST", path: "/v1/templates/add", ct: json, body: `{"name":"From API","subject":"Hi","content":"<p>x</p>"}`}, 201, "", ""},
		{"template without content", request{method: "POST", path: "/v1/templates/add", ct: json, body: `{"name":"From API","subject":"Hi"}`}, 400, gen.ErrorCodeInvalidParameter, "The body field 'content' is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, base, tt.req)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.want, r.body)
			}
			if r.header.Get(echo.HeaderXRequestID) != testRequestID || r.header.Get("X-RateLimit-Limit") != testLimit {
				t.Errorf("headers set before validation were lost: %v", r.header)
			}
			if tt.code == "" {
				return
			}
			env := r.envelope(t)
			if env.Error.Code != tt.code || env.Error.Message != tt.message {
				t.Errorf("got %s %q,\nwant %s %q", env.Error.Code, env.Error.Message, tt.code, tt.message)
			}
		})
	}
}

// A long unknown name is cut, not sent back whole.
func TestRequestMessagesStayShort(t *testing.T) {
	base, _ := serve(t, ResponseEnforce, &fake{})
	key := strings.Repeat("k", 2000)
	r := send(t, base, request{method: "POST", path: "/v1/leads/add", ct: echo.MIMEApplicationJSON,
		body: `{"name":"Jane","email":"a@b.co","` + key + `":"v"}`})
	if r.status != 400 {
		t.Fatalf("status %d, want 400", r.status)
	}
	msg := r.envelope(t).Error.Message
	if len(msg) > 200 || !strings.HasPrefix(msg, "The body field 'kkkk") || !strings.HasSuffix(msg, "…' is not allowed") {
		t.Errorf("message %q: want the name cut to %d bytes", msg, maxName)
	}
}

// The handler binds the very value that was validated: a member name that
// differs only in case cannot smuggle a longer name past maxLength.
func TestCaseVariantKeysCannotBypassValidation(t *testing.T) {
	f := &fake{}
	base, _ := serve(t, ResponseEnforce, f)
	long := strings.Repeat("N", 201)
	for _, body := range []string{
		`{"name":"ok","email":"a@b.co","Name":"` + long + `"}`,
		`{"Name":"` + long + `","name":"ok","email":"a@b.co"}`,
		`{"name":"ok","email":"a@b.co","NAME":"` + long + `"}`,
		`{"name":"ok","name":"` + long + `","email":"a@b.co"}`,
	} {
		r := send(t, base, request{method: "POST", path: "/v1/leads/add", ct: echo.MIMEApplicationJSON, body: body})
		if r.status != http.StatusBadRequest {
			t.Errorf("body %.40s…: status %d, want 400", body, r.status)
		}
	}
	for _, got := range f.bodies() {
		if len(got.Name) > 200 {
			t.Errorf("the handler received a name of %d characters", len(got.Name))
		}
	}

	// What the handler receives is exactly what was validated.
	r := send(t, base, request{method: "POST", path: "/v1/leads/add", ct: echo.MIMEApplicationJSON, body: validLead})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", r.status, r.body)
	}
	got := f.bodies()
	if len(got) != 1 {
		t.Fatalf("the handler ran %d times, want once", len(got))
	}
	if b := got[0]; b.Name != "Jane Doe" || b.Email != "jane.doe@example.com" || b.Type == nil || *b.Type != gen.LeadTypeLead ||
		b.CustomFields == nil || (*b.CustomFields)["property_type"] != "Office Space" || b.Notes == nil || len(*b.Notes) != 2 {
		t.Errorf("handler received %+v", b)
	}
}

// The body left for the handler carries the value validated, which the
// generated strict handler binds.
func TestValidatedValueReachesHandler(t *testing.T) {
	var got any
	keep := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if vb, ok := c.Request().Body.(interface{ ValidatedValue() any }); ok {
				got = vb.ValidatedValue()
			}
			return next(c)
		}
	}
	base, _ := serve(t, ResponseEnforce, &fake{}, keep)
	r := send(t, base, request{method: "POST", path: "/v1/leads/add", ct: echo.MIMEApplicationJSON, body: `{"name":"Jane","email":"a@b.co"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", r.status, r.body)
	}
	m, ok := got.(map[string]any)
	if !ok || len(m) != 2 || m["name"] != "Jane" || m["email"] != "a@b.co" {
		t.Errorf("validated value %#v, want the body's", got)
	}
}

func TestResponses(t *testing.T) {
	badEmail := func() (genserver.ListLeadsResponseObject, error) {
		leads := sampleLeads(3)
		leads[1].Email = "not-an-email"
		return genserver.ListLeads200JSONResponse{
			Body:    gen.LeadList{Data: leads, Length: 3},
			Headers: genserver.ListLeads200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 59, XRateLimitReset: 1750000000},
		}, nil
	}
	lead, err := json.Marshal(sampleLeads(1)[0])
	if err != nil {
		t.Fatal(err)
	}
	page := `{"data":[` + string(lead) + `],"length":1}`
	list := func(r raw) func() (genserver.ListLeadsResponseObject, error) {
		return func() (genserver.ListLeadsResponseObject, error) { return r, nil }
	}
	const ct = echo.MIMEApplicationJSON

	tests := []struct {
		name string
		fake *fake
		req  request
		// problem is what the log must say in enforce and log modes; "" for
		// a valid response.
		problem string
		status  int // the status the handler sends
	}{
		{name: "valid page", fake: &fake{}, req: request{method: "GET", path: "/v1/leads"}, status: 200},
		{name: "valid raw page", fake: &fake{list: list(raw{status: 200, ct: ct, body: page})}, req: request{method: "GET", path: "/v1/leads"}, status: 200},
		{name: "valid 204", fake: &fake{}, req: request{method: "DELETE", path: "/v1/leads/cnt_1"}, status: 204},
		{name: "documented error from the handler", req: request{method: "GET", path: "/v1/leads/cnt_1"}, status: 404,
			fake: &fake{get: func(string) (genserver.GetLeadResponseObject, error) {
				return nil, axiom.Errorf(axiom.CodeNotFound, "No lead with id 'cnt_1'")
			}}},
		{name: "bad email", fake: &fake{list: badEmail}, req: request{method: "GET", path: "/v1/leads"}, status: 200,
			problem: "the body field 'data[1].email' is invalid: not an email address"},
		{name: "extra field", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: ct, body: `{"data":[],"length":0,"total":7}`})},
			problem: "the body field 'total' is not allowed"},
		{name: "extra field in a lead", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: ct, body: `{"data":[` + string(lead[:len(lead)-1]) + `,"secret":"x"}],"length":1}`})},
			problem: "the body field 'data[0].secret' is not allowed"},
		{name: "missing field", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: ct, body: `{"data":[]}`})},
			problem: "the body field 'length' is required"},
		{name: "bad date-time", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: ct, body: strings.Replace(page, "2025-01-15T10:30:45Z", "2025-02-30T10:30:45Z", 1)})},
			problem: "the body field 'data[0].created_at' is invalid: not an RFC 3339 date-time"},
		{name: "bad uri", req: request{method: "GET", path: "/v1/leads/cnt_1"}, status: 404,
			fake: &fake{get: func(string) (genserver.GetLeadResponseObject, error) {
				return raw{status: 404, ct: ct, body: `{"error":{"code":"not_found","message":"No lead","documentation_url":"docs#not_found"}}`}, nil
			}},
			problem: "the body field 'error.documentation_url' is invalid: not an absolute URI"},
		{name: "missing rate-limit header", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: ct, body: page, del: []string{"X-RateLimit-Limit"}})},
			problem: "the header X-Ratelimit-Limit is missing"},
		{name: "rate-limit header zero", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake: &fake{list: func() (genserver.ListLeadsResponseObject, error) {
				return genserver.ListLeads200JSONResponse{Body: gen.LeadList{Data: []gen.Lead{}}}, nil
			}},
			problem: "the header X-Ratelimit-Limit must be at least 1"},
		{name: "undocumented status", req: request{method: "GET", path: "/v1/leads"}, status: 418,
			fake:    &fake{list: list(raw{status: 418, ct: ct, body: `{}`})},
			problem: "the status is not documented"},
		{name: "undocumented error from the handler", req: request{method: "GET", path: "/v1/leads"}, status: 404,
			fake: &fake{list: func() (genserver.ListLeadsResponseObject, error) {
				return nil, axiom.Errorf(axiom.CodeNotFound, "No such page")
			}},
			problem: "the status is not documented"},
		{name: "wrong content type", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: "text/plain", body: page})},
			problem: `Content-Type "text/plain" is not documented`},
		{name: "not JSON", req: request{method: "GET", path: "/v1/leads"}, status: 200,
			fake:    &fake{list: list(raw{status: 200, ct: ct, body: `{"data":`})},
			problem: "the body is not valid JSON"},
		{name: "204 with a body", req: request{method: "DELETE", path: "/v1/leads/cnt_1"}, status: 204,
			fake: &fake{delete: func() (genserver.DeleteLeadResponseObject, error) {
				return raw{status: 204, body: `{}`}, nil
			}},
			problem: "it has a body, but none is documented"},
	}
	for _, tt := range tests {
		for _, mode := range []Mode{ResponseEnforce, ResponseLog, ResponseOff} {
			t.Run(tt.name+"/"+mode.String(), func(t *testing.T) {
				base, logs := serve(t, mode, tt.fake)
				r := send(t, base, tt.req)

				if r.header.Get(echo.HeaderXRequestID) != testRequestID {
					t.Errorf("X-Request-Id set before the handler was lost: %v", r.header)
				}
				var violations []string
				for _, rec := range logs.all() {
					if strings.Contains(rec, "does not conform") {
						violations = append(violations, rec)
					}
				}
				if tt.problem == "" || mode == ResponseOff {
					if r.status != tt.status {
						t.Errorf("status %d, want %d as the handler sent it: %s", r.status, tt.status, r.body)
					}
					if len(violations) != 0 {
						t.Errorf("logged %q, want nothing", violations)
					}
					return
				}
				wantLevel := map[Mode]string{ResponseEnforce: "ERROR", ResponseLog: "WARN"}[mode]
				if len(violations) != 1 || !strings.HasPrefix(violations[0], wantLevel) || !strings.Contains(violations[0], tt.problem) {
					t.Errorf("logged %q, want one %s record saying %q", violations, wantLevel, tt.problem)
				}
				if mode == ResponseLog {
					if r.status != tt.status {
						t.Errorf("status %d, want %d as the handler sent it", r.status, tt.status)
					}
					return
				}
				if r.status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500: %s", r.status, r.body)
				}
				if ct := r.header.Get(echo.HeaderContentType); ct != echo.MIMEApplicationJSON {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				if env := r.envelope(t); env.Error.Code != gen.ErrorCodeInternalError {
					t.Errorf("code %s, want internal_error", env.Error.Code)
				}
				if strings.Contains(string(r.body), "not-an-email") {
					t.Errorf("the 500 leaks the invalid response: %s", r.body)
				}
			})
		}
	}
}

// A panic in the handler reaches the recover middleware with nothing sent,
// so that it can answer.
func TestPanicInHandler(t *testing.T) {
	for _, mode := range []Mode{ResponseEnforce, ResponseLog, ResponseOff} {
		t.Run(mode.String(), func(t *testing.T) {
			base, _ := serve(t, mode, &fake{get: func(string) (genserver.GetLeadResponseObject, error) { panic("boom") }})
			r := send(t, base, request{method: "GET", path: "/v1/leads/cnt_1"})
			if r.status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", r.status)
			}
			if env := r.envelope(t); env.Error.Code != gen.ErrorCodeInternalError {
				t.Errorf("code %s, want internal_error", env.Error.Code)
			}
		})
	}
}

// The server mounts the validator per route; an Echo route of another
// shape falls back to routing the URL.
func TestRoutingFallback(t *testing.T) {
	v, err := New(spec(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = renderError
	called := 0
	e.Any("/v1/*", func(c echo.Context) error {
		called++
		return c.JSON(http.StatusOK, map[string]any{"data": []any{}, "length": 0})
	}, withTestHeaders, validating(v, slog.New(&logRecorder{})))
	srv := httptest.NewServer(e)
	defer srv.Close()

	if r := send(t, srv.URL, request{method: "GET", path: "/v1/leads?limit=0"}); r.status != 400 ||
		r.envelope(t).Error.Message != "The parameter 'limit' must be at least 1" {
		t.Errorf("GET /v1/leads?limit=0: status %d %s, want 400", r.status, r.body)
	}
	if r := send(t, srv.URL, request{method: "GET", path: "/v1/leads/nope"}); r.status != 400 {
		t.Errorf("GET /v1/leads/nope: status %d, want 400 for the id", r.status)
	}
	if r := send(t, srv.URL, request{method: "GET", path: "/v1/leads?limit=5"}); r.status != 200 {
		t.Errorf("GET /v1/leads?limit=5: status %d %s, want 200", r.status, r.body)
	}
	if r := send(t, srv.URL, request{method: "GET", path: "/v1/other"}); r.status != 200 {
		t.Errorf("GET /v1/other (not in the spec): status %d, want it passed through", r.status)
	}
	if called != 2 {
		t.Errorf("handler called %d times, want 2", called)
	}
}

func TestParseMode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Mode
		ok   bool
	}{
		{"enforce", ResponseEnforce, true},
		{"log", ResponseLog, true},
		{"off", ResponseOff, true},
		{"Enforce", 0, false},
		{"", 0, false},
	} {
		got, err := ParseMode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(spec(t), Options{Responses: Mode(7)}); err == nil {
		t.Error("New with an unknown mode succeeded")
	}
}

// No input, however odd, makes the server fail.
func TestBadInputIsNeverA5xx(t *testing.T) {
	base, logs := serve(t, ResponseEnforce, &fake{})
	deep := strings.Repeat("[", 1500) + strings.Repeat("]", 1500)
	bodies := []string{
		deep, `{"name":` + deep + `}`, `{"name":"a","email":"a@b.co","custom_fields":` + deep + `}`,
		`{"name":1e400,"email":"a@b.co"}`, `{"name":"a","email":"a@b.co","tags":[1e400]}`, `{"name":"\ud800","email":"a@b.co"}`,
		`{"name":"a\u0000b","email":"a@b.co"}`, `{"":""}`, `{"name":{"$ref":"#/x"},"email":"a@b.co"}`, `null`, `0`, `"x"`, `true`,
		"ï»¿{}", `{"name":"a","email":"a@b.co","custom_fields":{"":"x"}}`, strings.Repeat(`{"a":`, 100),
	}
	for _, body := range bodies {
		for _, path := range []string{"/v1/leads/add", "/v1/leads/cnt_1", "/v1/templates/add"} {
			method := "POST"
			if !strings.HasSuffix(path, "/add") {
				method = "PATCH"
			}
			r := send(t, base, request{method: method, path: path, ct: echo.MIMEApplicationJSON, body: body})
			if r.status >= 500 || r.status < 400 && r.status != 200 && r.status != 201 {
				t.Errorf("%s %s %.40q: status %d %s", method, path, body, r.status, r.body)
			}
		}
	}
	for _, q := range []string{
		"limit=%zz", "limit=1&limit=200", "limit=99999999999999999999", "limit=-1", "limit=1e2", "limit=0x10",
		"page=" + strings.Repeat("9", 400), "sort=", "order=", "search=%00", "search=" + strings.Repeat("%F0%9F%98%80", 201),
		"limit[]=1", "limit=%20", strings.Repeat("a=1&", 500),
	} {
		if r := send(t, base, request{method: "GET", path: "/v1/leads?" + q}); r.status >= 500 {
			t.Errorf("GET /v1/leads?%.40s: status %d %s", q, r.status, r.body)
		}
	}
	for _, rec := range logs.all() {
		if strings.Contains(rec, "does not conform") {
			t.Errorf("an answer to bad input broke the spec: %s", rec)
		}
	}
}
