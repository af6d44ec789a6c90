package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/fixture"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server/fault"
)

// Data is the seeded data a reset restores (fixture.Baseline).
type Data interface {
	Reset(ctx context.Context) (axiom.Dataset, error)
	Export(ctx context.Context) (axiom.Dataset, error)
}

// AdminConfig is what the admin endpoint is built from.
type AdminConfig struct {
	// Token is the bearer token every admin request must carry; required.
	Token string
	// Data is reset and exported; API is the server whose caches a reset
	// clears and whose fault rules the endpoint sets (Config.Faults).
	Data Data
	API  *Server
	// Logger receives a line per admin request; nil discards them.
	Logger *slog.Logger
}

// Admin is the admin endpoint of admin.openapi.yaml, an http.Handler to
// serve on its own listener: never beside the API.
type Admin struct {
	echo      *echo.Echo
	token     [sha256.Size]byte
	data      Data
	api       *Server
	validator *validation.Validator
	log       *slog.Logger
}

// NewAdmin builds the admin endpoint.
func NewAdmin(cfg AdminConfig) (*Admin, error) {
	if cfg.Token == "" || cfg.Data == nil || cfg.API == nil || cfg.API.faults == nil {
		return nil, errors.New("server: AdminConfig.Token, Data and API (with Config.Faults) are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	doc, err := fixture.AdminSpec()
	if err != nil {
		return nil, err
	}
	v, err := validation.New(doc, validation.Options{Responses: validation.ResponseEnforce})
	if err != nil {
		return nil, err
	}
	a := &Admin{token: sha256.Sum256([]byte(cfg.Token)), data: cfg.Data, api: cfg.API, validator: v, log: cfg.Logger}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		writeEnvelope(c.Response(), c.Request(), toAPIError(err, c.Request()))
	}
	g := e.Group("/admin", withBodyLimit(DefaultMaxBodyBytes), a.authenticate)
	g.POST("/reset", a.handle(a.reset))
	g.GET("/fixture", a.handle(a.exportFixture))
	g.GET("/faults", a.handle(a.listFaults))
	g.PUT("/faults", a.handle(a.replaceFaults))
	g.POST("/faults", a.handle(a.addFault))
	g.DELETE("/faults", a.handle(a.clearFaults))
	g.DELETE("/faults/:name", a.handle(a.deleteFault))
	a.echo = e
	return a, nil
}

func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.echo.ServeHTTP(w, r) }

// authenticate admits a request whose bearer token is the admin token,
// compared in constant time (of the hashes, so that its length is not told).
func (a *Admin) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		sum := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
			return axiom.Errorf(axiom.CodeUnauthorized, "The admin endpoint needs its token in Authorization: Bearer TOKEN")
		}
		return next(c)
	}
}

// answer is an admin handler's result: a status and a JSON value to send,
// or raw JSON bytes.
type answer struct {
	status int
	value  any
	raw    []byte
}

// handle validates the request against admin.openapi.yaml, runs h, and
// validates its answer before sending it, as the API's pipeline does.
func (a *Admin) handle(h func(c echo.Context, body []byte) (answer, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		op, params, err := a.validator.Find(c)
		if err != nil || op == nil {
			return axiom.Internal(errors.Join(err, errors.New("admin route missing from admin.openapi.yaml")))
		}
		var body []byte
		if r.Body != nil {
			if body, err = io.ReadAll(r.Body); err != nil {
				return toAPIError(err, r)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if err := a.validator.ValidateRequest(c, op, params, body); err != nil {
			return err
		}
		ans, err := h(c, body)
		if err != nil {
			if e, ok := errors.AsType[*axiom.Error](err); !ok || e.Code == axiom.CodeInternal {
				a.log.LogAttrs(r.Context(), slog.LevelError, "admin request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
			}
			return err
		}
		out := ans.raw
		if ans.value != nil {
			if out, err = json.Marshal(ans.value); err != nil {
				return axiom.Internal(err)
			}
		}
		h := c.Response().Header()
		if out != nil {
			h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		}
		if verr := a.validator.CheckResponse(op, r.Method, ans.status, h, out); verr != nil {
			return axiom.Internal(verr)
		}
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "admin request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", ans.status))
		c.Response().WriteHeader(ans.status)
		_, err = c.Response().Write(out)
		return err
	}
}

func (a *Admin) reset(c echo.Context, body []byte) (answer, error) {
	var req struct {
		RateLimits bool `json:"rate_limits"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return answer{}, axiom.Errorf(axiom.CodeInvalidParameter, "The request body is not a reset request")
		}
	}
	refill, canRefill := a.api.limit.(interface{ Refill() })
	if req.RateLimits && !canRefill {
		return answer{}, axiom.Errorf(axiom.CodeInvalidParameter, "This server's rate limits are not its own (they are shared through Redis, or off): they cannot be refilled")
	}
	start := time.Now()
	d, err := a.data.Reset(c.Request().Context())
	if err != nil {
		return answer{}, err
	}
	// A key the reset deleted must stop working now, not when its cache ends.
	a.api.keyCache.forget()
	if req.RateLimits {
		refill.Refill()
	}
	took := time.Since(start)
	accounts, keys, leads, templates, campaigns := d.Counts()
	a.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "data reset to the seed", slog.Duration("took", took))
	return answer{status: http.StatusOK, value: map[string]any{"data": map[string]any{
		"accounts": accounts, "keys": keys, "leads": leads, "templates": templates, "campaigns": campaigns,
		"took_ms": float64(took.Microseconds()) / 1000,
	}}}, nil
}

func (a *Admin) exportFixture(c echo.Context, _ []byte) (answer, error) {
	d, err := a.data.Export(c.Request().Context())
	if err != nil {
		return answer{}, err
	}
	out, err := fixture.MarshalJSON(d)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, raw: out}, nil
}

func (a *Admin) listFaults(echo.Context, []byte) (answer, error) {
	return answer{status: http.StatusOK, value: map[string]any{"data": a.api.faults.States()}}, nil
}

func (a *Admin) replaceFaults(_ echo.Context, body []byte) (answer, error) {
	var req struct {
		Rules []fault.Rule `json:"rules"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return answer{}, faultBodyError(err)
	}
	states, err := a.api.faults.Replace(req.Rules)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusOK, value: map[string]any{"data": states}}, nil
}

func (a *Admin) addFault(_ echo.Context, body []byte) (answer, error) {
	var r fault.Rule
	if err := json.Unmarshal(body, &r); err != nil {
		return answer{}, faultBodyError(err)
	}
	st, err := a.api.faults.Add(r)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusCreated, value: map[string]any{"data": st}}, nil
}

// faultBodyError is the 400 of a rule that validated but does not decode:
// a latency that is not a duration.
func faultBodyError(err error) error {
	if e, ok := errors.AsType[*axiom.Error](err); ok {
		return e
	}
	return &axiom.Error{Code: axiom.CodeInvalidParameter, Message: "The fault rule is invalid", Err: err}
}

func (a *Admin) clearFaults(echo.Context, []byte) (answer, error) {
	a.api.faults.Clear()
	return answer{status: http.StatusNoContent}, nil
}

func (a *Admin) deleteFault(c echo.Context, _ []byte) (answer, error) {
	name := c.Param("name")
	if !a.api.faults.Delete(name) {
		return answer{}, axiom.Errorf(axiom.CodeNotFound, "No fault rule is named '%s'", truncate(name, 64))
	}
	return answer{status: http.StatusNoContent}, nil
}
