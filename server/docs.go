package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/swaggest/swgui/v5emb"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
)

// docsSpecPath is the copy of the spec the documentation loads: its
// servers list starts with the server it runs on, so that "Try it out"
// goes there, not to production. /openapi.yaml stays byte for byte.
const docsSpecPath = "/docs/openapi.yaml"

// docsSpec answers the spec with the API's base URL on this server first
// in its servers list: publicURL when set, else the request's own origin.
func docsSpec(publicURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		base := publicURL
		if base == "" {
			r := c.Request()
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			base = scheme + "://" + r.Host + "/v1"
		}
		return c.Blob(http.StatusOK, "application/yaml", withServerFirst(axiom.OpenAPI, base))
	}
}

// withServerFirst returns spec with url first in its top-level servers
// list (once: an entry of the same url is dropped), comments and order
// otherwise intact. A url that is not a plain absolute URL leaves spec as it is.
func withServerFirst(spec []byte, base string) []byte {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || strings.ContainsAny(base, " \t\r\n'\"#") {
		return spec
	}
	text := string(spec)
	head, rest, ok := strings.Cut(text, "\nservers:\n")
	if !ok {
		return spec
	}
	quoted, _ := json.Marshal(base) // a JSON string is a YAML string
	entry := "  - url: " + string(quoted) + "\n    description: This server (the one serving these docs).\n"
	// Drop the spec's own entry for the same URL, its description with it.
	var kept []string
	lines := strings.SplitAfter(rest, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "- url: "+base {
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    ") {
				i++
			}
			continue
		}
		kept = append(kept, lines[i])
	}
	return []byte(head + "\nservers:\n" + entry + strings.Join(kept, ""))
}

// docsHandler serves interactive documentation of the spec, entirely from
// the binary (Swagger UI's assets are embedded, no CDN).
func docsHandler() http.Handler {
	ui := v5emb.New("Axiom API", docsSpecPath, "/docs/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The assets are small and sent whole: no 206 or 416 to explain.
		r.Header.Del("Range")
		ui.ServeHTTP(&envelopeErrors{ResponseWriter: w, r: r}, r)
	})
}

// envelopeErrors sends the asset server's plain-text errors as the API's
// error envelope, like every other error of the server.
type envelopeErrors struct {
	http.ResponseWriter
	r      *http.Request
	failed bool
}

func (w *envelopeErrors) WriteHeader(status int) {
	if w.failed {
		return
	}
	if status < 400 {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.failed = true
	e := toAPIError(echo.NewHTTPError(status), w.r)
	h := w.ResponseWriter.Header()
	h.Del("Content-Encoding")
	h.Del("Content-Length")
	writeEnvelope(w.ResponseWriter, w.r, e)
}

// Write drops the asset server's own error text.
func (w *envelopeErrors) Write(p []byte) (int, error) {
	if w.failed {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *envelopeErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }
