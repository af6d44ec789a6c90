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

	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

const benchLead = `{"name":"Maria García","email":"maria.garcia@example-realty.com","phone":"+11235550199",` +
	`"company":"Acme Real Estate Holdings","type":"prospect","status":"active","source":"Website",` +
	`"tags":["buyer","residential","zone-3"],"notes":["Called on Monday; interested in three-bedroom houses near the river."],` +
	`"custom_fields":{"preferred_location":"Downtown","budget":"$500k-$750k","move_in":"Q3"}}`

// benchFake answers a page of 20 realistic leads and creates without recording.
func benchFake() *fake {
	leads := sampleLeads(20)
	more := true
	page := genserver.ListLeads200JSONResponse{
		Body:    gen.LeadList{Data: leads, Length: len(leads), HasMore: &more},
		Headers: genserver.ListLeads200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 59, XRateLimitReset: 1750000000, XRequestID: &reqID},
	}
	return &fake{
		list: func() (genserver.ListLeadsResponseObject, error) { return page, nil },
		create: func(c gen.LeadCreate) (genserver.CreateLeadResponseObject, error) {
			return genserver.CreateLead201JSONResponse{
				Body:    gen.LeadEnvelope{Data: leadFrom(c)},
				Headers: genserver.CreateLead201ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 58, XRateLimitReset: 1750000000},
			}, nil
		},
	}
}

// requestOnly validates requests but passes every response through: it
// stands for request validation alone, whatever the mode.
func requestOnly(v *Validator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, params, err := v.Find(c)
			if err != nil {
				return err
			}
			if op == nil {
				return next(c)
			}
			body, err := io.ReadAll(c.Request().Body)
			if err != nil {
				return err
			}
			c.Request().Body = io.NopCloser(bytes.NewReader(body))
			if err := v.ValidateRequest(c, op, params, body); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// benchServer is the API on Echo with the given validation in front.
func benchServer(b *testing.B, setup string) *echo.Echo {
	b.Helper()
	e := echo.New()
	e.HTTPErrorHandler = renderError
	e.Use(withTestHeaders)
	switch setup {
	case "bare":
	case "request":
		v, err := New(spec(b), Options{Responses: ResponseOff})
		if err != nil {
			b.Fatal(err)
		}
		e.Use(requestOnly(v))
	case "request+response":
		v, err := New(spec(b), Options{Responses: ResponseEnforce})
		if err != nil {
			b.Fatal(err)
		}
		e.Use(validating(v, slog.New(slog.DiscardHandler)))
	default:
		b.Fatalf("unknown setup %q", setup)
	}
	genserver.RegisterHandlersWithBaseURL(e, genserver.NewStrictHandler(benchFake(), nil), "/v1")
	return e
}

// BenchmarkServe measures the whole stack on Echo (handler: the generated
// strict server encoding the fake's answer), bare and with validation.
func BenchmarkServe(b *testing.B) {
	for _, op := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"ListLeads20", "GET", "/v1/leads?limit=20&sort=name", "", 200},
		{"CreateLead", "POST", "/v1/leads/add", benchLead, 201},
	} {
		for _, setup := range []string{"bare", "request", "request+response"} {
			b.Run(op.name+"/"+setup, func(b *testing.B) {
				e := benchServer(b, setup)
				body := strings.NewReader(op.body)
				req := httptest.NewRequest(op.method, op.path, body)
				if op.body != "" {
					req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				}
				b.ReportAllocs()
				for b.Loop() {
					body.Reset(op.body)
					req.Body = io.NopCloser(body)
					req.ContentLength = int64(len(op.body))
					rec := httptest.NewRecorder()
					e.ServeHTTP(rec, req)
					if rec.Code != op.want {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// BenchmarkValidateRequest measures request validation alone.
func BenchmarkValidateRequest(b *testing.B) {
	v, err := New(spec(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	for _, tt := range []struct {
		name, method, path, route, body string
	}{
		{"ListLeads", "GET", "/v1/leads?limit=20&sort=name", "/v1/leads", ""},
		{"CreateLead", "POST", "/v1/leads/add", "/v1/leads/add", benchLead},
	} {
		b.Run(tt.name, func(b *testing.B) {
			body := strings.NewReader(tt.body)
			req := httptest.NewRequest(tt.method, tt.path, body)
			if tt.body != "" {
				req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			}
			rec := httptest.NewRecorder()
			c := e.NewContext(req, rec)
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(tt.body)
				req.Body = io.NopCloser(body)
				c.Reset(req, rec)
				c.SetPath(tt.route)
				op, params, _ := v.Find(c)
				if err := v.ValidateRequest(c, op, params, []byte(tt.body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckResponse measures the validation of a 20-lead page against
// json.Marshal of the same page, the least a handler spends on it.
func BenchmarkCheckResponse(b *testing.B) {
	v, err := New(spec(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	leads := sampleLeads(20)
	page := gen.LeadList{Data: leads, Length: len(leads)}
	body, err := json.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	op := v.byRoute[routeKey{http.MethodGet, "/v1/leads"}]
	h := http.Header{}
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Remaining", "59")
	h.Set("X-RateLimit-Reset", "1750000000")
	b.Run("validate", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := v.CheckResponse(op, http.MethodGet, 200, h, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(page); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRouter compares finding the operation from Echo's route with
// kin-openapi's legacy router (a tree). gorillamux, which tries routes one by
// one, is not a dependency of this module.
func BenchmarkRouter(b *testing.B) {
	v, err := New(spec(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	router, err := legacy.NewRouter(v.doc)
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	for _, tt := range []struct{ method, path, route string }{
		{"GET", "/v1/leads?limit=20", "/v1/leads"},
		{"PATCH", "/v1/templates/from-api-1612d101", "/v1/templates/:slug"},
	} {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		b.Run("echo-route/"+tt.method, func(b *testing.B) {
			c := e.NewContext(req, httptest.NewRecorder())
			c.SetPath(tt.route)
			if i := strings.LastIndexByte(tt.route, ':'); i >= 0 {
				c.SetParamNames(tt.route[i+1:])
				c.SetParamValues(tt.path[strings.LastIndexByte(tt.path, '/')+1:])
			}
			b.ReportAllocs()
			for b.Loop() {
				if op, _, _ := v.Find(c); op == nil {
					b.Fatal("not found")
				}
			}
		})
		b.Run("legacy/"+tt.method, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := router.FindRoute(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
