package server

import (
	"net/http"

	"github.com/swaggest/swgui/v5emb"
)

// docsHandler serves interactive documentation of the embedded spec,
// entirely from the binary (Swagger UI's assets are embedded, no CDN).
func docsHandler() http.Handler {
	return v5emb.New("Axiom API", "/openapi.yaml", "/docs/")
}
