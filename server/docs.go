package server

import (
	"net/http"

	"github.com/swaggest/swgui/v5emb"

	"github.com/labstack/echo/v4"
)

// docsHandler serves interactive documentation of the embedded spec,
// entirely from the binary (Swagger UI's assets are embedded, no CDN).
func docsHandler() http.Handler {
	ui := v5emb.New("Axiom API", "/openapi.yaml", "/docs/")
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
