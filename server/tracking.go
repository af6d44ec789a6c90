package server

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
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

const unsubscribedPage = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Unsubscribed</title>` +
	`<p>You are unsubscribed. You will receive no more emails from this sender.</p></html>`

func publicError(err error) error {
	if errors.Is(err, axiom.ErrNotFound) {
		return errBadLink
	}
	return err
}

func (h *handlers) Unsubscribe(ctx context.Context, r gen.UnsubscribeRequestObject) (gen.UnsubscribeResponseObject, error) {
	if err := h.campaigns.Unsubscribe(ctx, r.Token); err != nil {
		return nil, publicError(err)
	}
	return gen.Unsubscribe200TextHTMLResponse{Body: strings.NewReader(unsubscribedPage), ContentLength: int64(len(unsubscribedPage))}, nil
}

func (h *handlers) TrackOpen(ctx context.Context, r gen.TrackOpenRequestObject) (gen.TrackOpenResponseObject, error) {
	if err := h.campaigns.Open(ctx, r.Token); err != nil {
		return nil, publicError(err)
	}
	return gen.TrackOpen200ImageGifResponse{
		Body: bytes.NewReader(pixel), ContentLength: int64(len(pixel)),
		Headers: gen.TrackOpen200ResponseHeaders{CacheControl: "no-store"},
	}, nil
}

func (h *handlers) TrackClick(ctx context.Context, r gen.TrackClickRequestObject) (gen.TrackClickResponseObject, error) {
	// The target comes from the store, never from the request.
	target, err := h.campaigns.Click(ctx, r.Token)
	if err != nil {
		return nil, publicError(err)
	}
	return gen.TrackClick302Response{Headers: gen.TrackClick302ResponseHeaders{Location: target}}, nil
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
