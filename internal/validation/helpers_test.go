package validation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

// loadSpec loads the embedded spec once for all tests and benchmarks.
var loadSpec = sync.OnceValues(genserver.GetSwagger)

func spec(tb testing.TB) *openapi3.T {
	tb.Helper()
	doc, err := loadSpec()
	if err != nil {
		tb.Fatalf("loading the spec: %v", err)
	}
	return doc
}

// The values a rate-limit middleware would set before the handler runs.
const (
	testRequestID = "req_test"
	testLimit     = "60"
)

// withTestHeaders stands for the server's request-id and rate-limit
// middlewares: it sets their headers before the handler runs.
func withTestHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderXRequestID, testRequestID)
		h.Set("X-RateLimit-Limit", testLimit)
		h.Set("X-RateLimit-Remaining", "59")
		h.Set("X-RateLimit-Reset", "1750000000")
		return next(c)
	}
}

// withBodyLimit stands for the server's body limit middleware.
func withBodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
	}
}

// withRecover stands for the server's recover middleware.
func withRecover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = axiom.Internal(fmt.Errorf("panic: %v", v))
			}
		}()
		return next(c)
	}
}

// renderError renders errors as the API's envelope, as the server's error
// handler does.
func renderError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae, ok := errors.AsType[*axiom.Error](err)
	if !ok {
		ae = axiom.Internal(err)
		if he, ok := errors.AsType[*echo.HTTPError](err); ok {
			switch he.Code {
			case http.StatusNotFound:
				ae = axiom.Errorf(axiom.CodeNotFound, "The path does not exist")
			case http.StatusMethodNotAllowed:
				ae = axiom.Errorf(axiom.CodeMethodNotAllowed, "The method is not allowed")
			case http.StatusBadRequest:
				ae = axiom.Errorf(axiom.CodeInvalidParameter, "The request is invalid")
			}
		}
	}
	_ = c.JSON(ae.Code.Status(), envelope(ae))
}

// envelope is the body the server sends for e.
func envelope(e *axiom.Error) gen.Error {
	return gen.Error{Error: gen.ErrorDetail{Code: gen.ErrorCode(e.Code), Message: e.Message,
		DocumentationURL: e.Code.DocumentationURL()}}
}

// validating stands for the server's pipeline around the validator: the
// body read once, the request validated, the response buffered, rendered
// errors included, and checked in the validator's mode.
func validating(v *Validator, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, params, err := v.Find(c)
			if err != nil {
				return axiom.Internal(err)
			}
			if op == nil {
				return next(c)
			}
			r := c.Request()
			var body []byte
			if r.Body != nil && r.Body != http.NoBody {
				body, err = io.ReadAll(r.Body)
				if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
					return axiom.Errorf(axiom.CodePayloadTooLarge, "The request body is larger than %d bytes", tooLarge.Limit)
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			if err := v.ValidateRequest(c, op, params, body); err != nil {
				return err
			}
			if v.Mode() == ResponseOff {
				return next(c)
			}
			res := c.Response()
			orig := res.Writer
			buf := &bufferedWriter{w: orig}
			res.Writer = buf
			defer func() { res.Writer = orig }() // a panic leaves nothing sent
			if err := next(c); err != nil {
				c.Error(err)
			}
			res.Writer = orig
			status := buf.status
			if status == 0 {
				status = http.StatusOK
			}
			if verr := v.CheckResponse(op, r.Method, status, res.Header(), buf.body.Bytes()); verr != nil {
				level := slog.LevelWarn
				if v.Mode() == ResponseEnforce {
					level = slog.LevelError
				}
				log.LogAttrs(r.Context(), level, "response does not conform to the API spec",
					slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
					slog.String("route", c.Path()), slog.Any("error", verr))
				if v.Mode() == ResponseEnforce {
					res.Header().Del(echo.HeaderContentType)
					res.Committed, res.Status, res.Size = false, http.StatusOK, 0
					c.Error(axiom.Internal(verr))
					return nil
				}
			}
			orig.WriteHeader(status)
			_, err = orig.Write(buf.body.Bytes())
			return err
		}
	}
}

// bufferedWriter holds a response back until it has been checked.
type bufferedWriter struct {
	w      http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.w.Header() }
func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// newEcho serves fake behind the validator, as the server mounts the API;
// after run between the validator and the handler.
func newEcho(tb testing.TB, v *Validator, log *slog.Logger, fake genserver.StrictServerInterface, after ...echo.MiddlewareFunc) *echo.Echo {
	tb.Helper()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = renderError
	e.Use(withRecover, withTestHeaders, withBodyLimit(4096))
	e.Use(validating(v, log))
	e.Use(after...)
	genserver.RegisterHandlersWithBaseURL(e, genserver.NewStrictHandler(fake, nil), "/v1")
	return e
}

// logRecorder is a slog.Handler keeping what is logged.
type logRecorder struct {
	mu      sync.Mutex
	records []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.records...)
}

var (
	created = time.Date(2025, 1, 15, 10, 30, 45, 0, time.UTC)
	updated = time.Date(2025, 3, 10, 15, 22, 18, 0, time.UTC)
	reqID   = testRequestID
)

// sampleLeads are n leads with the content a real account holds.
func sampleLeads(n int) []gen.Lead {
	first := []string{"John", "Maria", "Wei", "Aisha", "Lars", "Sofía", "Kenji", "Olivia", "Mateus", "Priya"}
	last := []string{"Smith", "García", "Chen", "Okafor", "Johansson", "Müller", "Tanaka", "Brown", "Silva", "Patel"}
	mail := []string{"smith", "garcia", "chen", "okafor", "johansson", "mueller", "tanaka", "brown", "silva", "patel"}
	types := []gen.LeadType{gen.LeadTypeClient, gen.LeadTypeLead, gen.LeadTypeProspect, gen.LeadTypePartner}
	leads := make([]gen.Lead, n)
	for i := range leads {
		f, l, m := first[i%len(first)], last[(i*7)%len(last)], mail[(i*7)%len(mail)]
		leads[i] = gen.Lead{
			ID:      fmt.Sprintf("cnt_%08dA%d", 10000+i*37, i),
			Name:    f + " " + l,
			Email:   fmt.Sprintf("%s.%s%d@example-realty.com", strings.ToLower(f[:1]), m, i),
			Phone:   fmt.Sprintf("+1123555%04d", 1000+i),
			Company: "Acme Real Estate Holdings",
			Type:    types[i%len(types)],
			Status:  gen.LeadStatusActive,
			Source:  "Referral",
			Tags:    []string{"buyer", "residential", fmt.Sprintf("zone-%d", i%5)},
			Notes: []string{
				"Called on Monday; interested in three-bedroom houses near the river, budget flexible.",
				"Sent the brochure for the downtown development and scheduled a visit next week.",
			},
			CustomFields: gen.CustomFields{
				"preferred_location": "Downtown",
				"budget":             "$500k-$750k",
				"move_in":            "Q3",
			},
			CreatedAt: created.Add(time.Duration(i) * time.Hour),
			UpdatedAt: updated.Add(time.Duration(i) * time.Minute),
		}
	}
	return leads
}

// fake is a minimal StrictServerInterface: valid answers for leads and
// templates unless a test replaces one, and the create bodies it received.
type fake struct {
	genserver.StrictServerInterface // operations the tests do not call: nil, they panic

	mu       sync.Mutex
	received []gen.LeadCreate

	list   func() (genserver.ListLeadsResponseObject, error)
	create func(gen.LeadCreate) (genserver.CreateLeadResponseObject, error) // nil records the body
	get    func(id string) (genserver.GetLeadResponseObject, error)
	delete func() (genserver.DeleteLeadResponseObject, error)
}

func (f *fake) bodies() []gen.LeadCreate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gen.LeadCreate(nil), f.received...)
}

func leadFrom(c gen.LeadCreate) gen.Lead {
	l := sampleLeads(1)[0]
	l.Name, l.Email = c.Name, c.Email
	return l
}

func (f *fake) ListLeads(_ context.Context, req genserver.ListLeadsRequestObject) (genserver.ListLeadsResponseObject, error) {
	if f.list != nil {
		return f.list()
	}
	leads := sampleLeads(2)
	more := false
	return genserver.ListLeads200JSONResponse{
		Body:    gen.LeadList{Data: leads, Length: len(leads), HasMore: &more},
		Headers: genserver.ListLeads200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 59, XRateLimitReset: 1750000000, XRequestID: &reqID},
	}, nil
}

func (f *fake) CreateLead(_ context.Context, req genserver.CreateLeadRequestObject) (genserver.CreateLeadResponseObject, error) {
	if f.create != nil {
		return f.create(*req.Body)
	}
	f.mu.Lock()
	f.received = append(f.received, *req.Body)
	f.mu.Unlock()
	return genserver.CreateLead201JSONResponse{
		Body:    gen.LeadEnvelope{Data: leadFrom(*req.Body)},
		Headers: genserver.CreateLead201ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 58, XRateLimitReset: 1750000000},
	}, nil
}

func (f *fake) DeleteLead(context.Context, genserver.DeleteLeadRequestObject) (genserver.DeleteLeadResponseObject, error) {
	if f.delete != nil {
		return f.delete()
	}
	return genserver.DeleteLead204Response{Headers: genserver.DeleteLead204ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 57, XRateLimitReset: 1750000000}}, nil
}

func (f *fake) GetLead(_ context.Context, req genserver.GetLeadRequestObject) (genserver.GetLeadResponseObject, error) {
	if f.get != nil {
		return f.get(req.ID)
	}
	l := sampleLeads(1)[0]
	l.ID = req.ID
	return genserver.GetLead200JSONResponse{
		Body:    gen.LeadEnvelope{Data: l},
		Headers: genserver.GetLead200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 56, XRateLimitReset: 1750000000},
	}, nil
}

func (f *fake) UpdateLead(_ context.Context, req genserver.UpdateLeadRequestObject) (genserver.UpdateLeadResponseObject, error) {
	l := sampleLeads(1)[0]
	l.ID = req.ID
	return genserver.UpdateLead200JSONResponse{
		Body:    gen.LeadEnvelope{Data: l},
		Headers: genserver.UpdateLead200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 55, XRateLimitReset: 1750000000},
	}, nil
}

func (f *fake) ListTemplates(context.Context, genserver.ListTemplatesRequestObject) (genserver.ListTemplatesResponseObject, error) {
	return genserver.ListTemplates200JSONResponse{
		Body:    gen.TemplateList{Data: []gen.Template{}},
		Headers: genserver.ListTemplates200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 54, XRateLimitReset: 1750000000},
	}, nil
}

func (f *fake) CreateTemplate(context.Context, genserver.CreateTemplateRequestObject) (genserver.CreateTemplateResponseObject, error) {
	var body gen.TemplateCreated
	body.Data.Message = gen.TemplateCreatedDataMessageTemplateCreatedSuccessfully
	body.Data.Template = "from-api-1612d101"
	return genserver.CreateTemplate201JSONResponse{
		Body:    body,
		Headers: genserver.CreateTemplate201ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 53, XRateLimitReset: 1750000000},
	}, nil
}

func (f *fake) DeleteTemplate(context.Context, genserver.DeleteTemplateRequestObject) (genserver.DeleteTemplateResponseObject, error) {
	return nil, axiom.Errorf(axiom.CodeNotFound, "No such template")
}

func (f *fake) GetTemplate(context.Context, genserver.GetTemplateRequestObject) (genserver.GetTemplateResponseObject, error) {
	return nil, axiom.Errorf(axiom.CodeNotFound, "No such template")
}

func (f *fake) UpdateTemplate(context.Context, genserver.UpdateTemplateRequestObject) (genserver.UpdateTemplateResponseObject, error) {
	return nil, axiom.Errorf(axiom.CodeNotFound, "No such template")
}

// raw is a response written as given, to break the spec in ways the
// generated response types cannot.
type raw struct {
	status int
	body   string
	ct     string   // Content-Type; "" sends none
	del    []string // headers removed
}

func (r raw) write(w http.ResponseWriter) error {
	for _, h := range r.del {
		w.Header().Del(h)
	}
	if r.ct != "" {
		w.Header().Set(echo.HeaderContentType, r.ct)
	}
	w.WriteHeader(r.status)
	_, err := w.Write([]byte(r.body))
	return err
}

func (r raw) VisitListLeadsResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r raw) VisitGetLeadResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r raw) VisitDeleteLeadResponse(w http.ResponseWriter) error { return r.write(w) }
