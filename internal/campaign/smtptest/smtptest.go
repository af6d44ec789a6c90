// Package smtptest runs a real SMTP server on loopback for tests, built on
// github.com/emersion/go-smtp: it keeps every message it accepts.
//
//	relay := smtptest.New(t)
//	srv := servertest.New(t, servertest.WithSMTP(relay.URL()))
package smtptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	At   time.Time // when the server accepted it
}

// Parse reads the message's headers and body.
func (m Message) Parse() (*mail.Message, error) { return mail.ReadMessage(bytes.NewReader(m.Data)) }

// Server is a running SMTP server.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string

	srv  *smtp.Server
	opts options

	mu       sync.Mutex
	messages []Message
	changed  chan struct{} // closed and replaced at each accepted message
}

type options struct {
	user, pass string
	tls        *tls.Config
	rcpt       func(to string) error
	data       func(from string, to []string) error
}

// Option configures New.
type Option func(*options)

// WithAuth requires AUTH PLAIN with these credentials.
func WithAuth(user, pass string) Option { return func(o *options) { o.user, o.pass = user, pass } }

// WithTLS offers STARTTLS with this configuration (its certificate).
func WithTLS(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithRcpt calls fn at each RCPT TO; an error refuses the recipient. It
// may block, to hold a client in the middle of a transaction.
func WithRcpt(fn func(to string) error) Option { return func(o *options) { o.rcpt = fn } }

// WithData calls fn when a message's data has been received, before the
// reply; an error refuses the message.
func WithData(fn func(from string, to []string) error) Option {
	return func(o *options) { o.data = fn }
}

// Reply is an SMTP error reply, for WithRcpt and WithData: code 4xx is
// temporary, 5xx permanent.
func Reply(code int, message string) error {
	return &smtp.SMTPError{Code: code, Message: message}
}

// New starts a server on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{changed: make(chan struct{})}
	for _, o := range opts {
		o(&s.opts)
	}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.TLSConfig = s.opts.tls
	srv.AllowInsecureAuth = s.opts.tls == nil
	srv.ErrorLog = discard{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s.Addr, s.srv = ln.Addr().String(), srv
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is an smtp:// URL of the server for campaign.ParseSMTPURL, with
// query (such as "starttls=none") appended.
func (s *Server) URL(query string) string {
	u := "smtp://" + s.Addr
	if query != "" {
		u += "?" + query
	}
	return u
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitFor waits until at least n messages have been accepted, or timeout,
// and returns the messages.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			return s.Messages()
		}
	}
}

func (s *Server) accept(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	auth bool
	from string
	to   []string
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opts.user || pass != x.s.opts.pass {
			return errors.New("invalid credentials")
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.user != "" && !x.auth {
		return errAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.opts.rcpt != nil {
		if err := x.s.opts.rcpt(to); err != nil {
			return err
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.opts.data != nil {
		if err := x.s.opts.data(x.from, x.to); err != nil {
			return err
		}
	}
	x.s.accept(Message{From: x.from, To: append([]string(nil), x.to...), Data: data, At: time.Now()})
	return nil
}

func (x *session) Reset() { x.from, x.to = "", nil }

func (x *session) Logout() error { return nil }

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// Recipients counts the accepted messages per recipient address, lower-cased.
func Recipients(ms []Message) map[string]int {
	n := map[string]int{}
	for _, m := range ms {
		for _, to := range m.To {
			n[strings.ToLower(to)]++
		}
	}
	return n
}
