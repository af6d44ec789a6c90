package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
)

// replies are the captured responses the bare handler sends, by scenario.
type replies map[string]captured

// bareHandler is Echo with no middleware, answering the scenarios' routes
// with the real server's responses: the most a server on this machine can
// answer for the same bytes.
func bareHandler(r replies) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	send := func(c echo.Context, name string) error {
		rep := r[name]
		h := c.Response().Header()
		for k, v := range rep.Header {
			h[k] = v
		}
		return c.Blob(rep.Status, rep.Header.Get(echo.HeaderContentType), rep.Body)
	}
	e.GET("/v1/leads", func(c echo.Context) error {
		if c.QueryParam("search") != "" {
			return send(c, "search")
		}
		return send(c, "list")
	})
	e.POST("/v1/leads/add", func(c echo.Context) error {
		if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
			return err
		}
		return send(c, "add")
	})
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	return e
}

// bareMain is `axiom-bench bare`: the bare handler as a process of its own,
// serving the replies in a JSON file until SIGTERM.
func bareMain(args []string) error {
	fs := flag.NewFlagSet("axiom-bench bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	file := fs.String("replies", "", "JSON file of the captured replies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var r replies
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return serveUntilSignal(ln, bareHandler(r))
}
