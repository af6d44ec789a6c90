package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/genserver"
)

// The public operations (the links inside campaign messages) answer without
// a key: their unguessable token is the only credential.

// errBadLink answers a token that names nothing, the same for every kind.
var errBadLink = axiom.Errorf(axiom.CodeNotFound, "This link is not valid")

// pixel is a 1×1 transparent GIF.
var pixel = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

// pages are the HTML answers of the unsubscribe link: small, no script, no
// outside resource; every value escaped by html/template.
var pages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Done}}<p>{{.Email}} is unsubscribed: it will receive no more emails from this sender.</p>
{{else}}<p>Stop all emails from this sender to {{.Email}}? You received this one as part of &ldquo;{{.List}}&rdquo;.</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
<p><small>Nothing changes until you press the button.</small></p>
{{end}}</body></html>
`))

// page renders an unsubscribe page.
func page(title, email, list, action string, done bool) (io.Reader, int64, error) {
	var b bytes.Buffer
	err := pages.Execute(&b, struct {
		Title, Email, List, Action string
		Done                       bool
	}{title, email, list, action, done})
	if err != nil {
		return nil, 0, fmt.Errorf("unsubscribe page: %w", err)
	}
	return &b, int64(b.Len()), nil
}

func publicError(err error) error {
	if errors.Is(err, axiom.ErrNotFound) {
		return errBadLink
	}
	return err
}

// UnsubscribePage answers a GET of the unsubscribe link: a page whose
// button unsubscribes. The GET itself changes nothing, so that link
// scanners unsubscribe nobody.
func (h *handlers) UnsubscribePage(ctx context.Context, r genserver.UnsubscribePageRequestObject) (genserver.UnsubscribePageResponseObject, error) {
	u, err := h.campaigns.Unsubscription(ctx, r.Token)
	if err != nil {
		return nil, publicError(err)
	}
	title := "Unsubscribe"
	if u.Unsubscribed {
		title = "Unsubscribed"
	}
	body, n, err := page(title, u.Email, u.CampaignName, h.campaigns.Composer().UnsubscribeURL(r.Token), u.Unsubscribed)
	if err != nil {
		return nil, err
	}
	return genserver.UnsubscribePage200TextHTMLResponse{Body: body, ContentLength: n}, nil
}

// Unsubscribe is RFC 8058's one-click unsubscribe: the POST of a mailbox
// provider's button or of the page's, whose body validation has checked.
func (h *handlers) Unsubscribe(ctx context.Context, r genserver.UnsubscribeRequestObject) (genserver.UnsubscribeResponseObject, error) {
	if err := h.campaigns.Unsubscribe(ctx, r.Token); err != nil {
		return nil, publicError(err)
	}
	u, err := h.campaigns.Unsubscription(ctx, r.Token)
	if err != nil {
		return nil, publicError(err)
	}
	body, n, err := page("Unsubscribed", u.Email, u.CampaignName, "", true)
	if err != nil {
		return nil, err
	}
	return genserver.Unsubscribe200TextHTMLResponse{Body: body, ContentLength: n}, nil
}

// headKey marks the context of a HEAD of a public link.
type headKey struct{}

// markHead tells the public links' handlers that the request is a HEAD: a
// link checker's or a mail scanner's probe, which must count nothing.
func markHead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), headKey{}, true)))
		return next(c)
	}
}

func isHead(ctx context.Context) bool { return ctx.Value(headKey{}) != nil }

func (h *handlers) TrackOpen(ctx context.Context, r genserver.TrackOpenRequestObject) (genserver.TrackOpenResponseObject, error) {
	record := h.campaigns.Open
	if isHead(ctx) {
		record = h.campaigns.CheckOpen
	}
	if err := record(ctx, r.Token); err != nil {
		return nil, publicError(err)
	}
	return genserver.TrackOpen200ImageGifResponse{
		Body: bytes.NewReader(pixel), ContentLength: int64(len(pixel)),
		Headers: genserver.TrackOpen200ResponseHeaders{CacheControl: "no-store"},
	}, nil
}

func (h *handlers) TrackClick(ctx context.Context, r genserver.TrackClickRequestObject) (genserver.TrackClickResponseObject, error) {
	// The target comes from the store, never from the request.
	click := h.campaigns.Click
	if isHead(ctx) {
		click = h.campaigns.ClickTarget
	}
	target, err := click(ctx, r.Token, r.Position)
	if err != nil {
		return nil, publicError(err)
	}
	return genserver.TrackClick302Response{Headers: genserver.TrackClick302ResponseHeaders{Location: target}}, nil
}

// TrackLegacyClick follows a tracked link of mail queued when each link
// had a token of its own.
func (h *handlers) TrackLegacyClick(ctx context.Context, r genserver.TrackLegacyClickRequestObject) (genserver.TrackLegacyClickResponseObject, error) {
	click := h.campaigns.LegacyClick
	if isHead(ctx) {
		click = h.campaigns.LegacyClickTarget
	}
	target, err := click(ctx, r.Token)
	if err != nil {
		return nil, publicError(err)
	}
	return genserver.TrackLegacyClick302Response{Headers: genserver.TrackLegacyClick302ResponseHeaders{Location: target}}, nil
}

// publicRoutes are the Echo paths of the operations whose security
// requirement is explicitly empty in the spec.
func publicRoutes(spec *openapi3.T, base string) map[string]bool {
	public := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				public[base+echoPath(path)] = true
			}
		}
	}
	return public
}

// echoPath turns "/u/{token}" into Echo's "/u/:token".
func echoPath(path string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:i] + ":" + path[i+1:j])
		path = path[j+1:]
	}
}
