package campaign

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/axiomkit/axiom"
)

// SMTPConfig is an SMTP relay, as a URL names it:
//
//	smtp://[user[:password]@]host[:port][?starttls=required|opportunistic|none][&auth=MECH][&from=ADDRESS][&reply-to=ADDRESS][&timeout=30s]
//	smtps://[user[:password]@]host[:port][?…]
//
// smtp:// speaks plain SMTP on port 25 by default and upgrades with
// STARTTLS: required by default when the URL has credentials (they never
// travel in the clear), opportunistic otherwise. smtps:// is TLS from the
// first byte, port 465 by default. auth picks the mechanism (plain, login,
// cram-md5, scram-sha-1, scram-sha-256, or auto, the default with
// credentials). from is the sender's address, "Name <addr>" allowed
// (default noreply@ the relay's host). reply-to is where replies go: every
// message carries it as Reply-To, and its List-Unsubscribe offers it as a
// mailto: beside the one-click URL (the mail it receives asks, by its
// subject "unsubscribe TOKEN", to unsubscribe). timeout bounds each step
// of talking to the relay (default 30s).
type SMTPConfig struct {
	Host        string
	Port        int
	Username    string
	Password    string
	ImplicitTLS bool   // smtps://
	StartTLS    string // "required", "opportunistic" or "none"
	Auth        string // "" without credentials
	From        mail.Address
	ReplyTo     *mail.Address // nil: none
	Timeout     time.Duration
	// TLSConfig overrides the TLS settings (trusted roots, for instance);
	// nil verifies the relay's certificate against the system roots.
	TLSConfig *tls.Config
}

var authTypes = map[string]gomail.SMTPAuthType{
	"auto":          gomail.SMTPAuthAutoDiscover,
	"plain":         gomail.SMTPAuthPlain,
	"login":         gomail.SMTPAuthLogin,
	"cram-md5":      gomail.SMTPAuthCramMD5,
	"scram-sha-1":   gomail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
}

// ParseSMTPURL reads an SMTP relay URL (see SMTPConfig).
func ParseSMTPURL(s string) (SMTPConfig, error) {
	fail := func(format string, args ...any) (SMTPConfig, error) {
		return SMTPConfig{}, fmt.Errorf("SMTP URL %s: %s", redact(s), fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(s)
	if err != nil {
		return fail("not a URL")
	}
	c := SMTPConfig{Host: u.Hostname(), Timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtp":
		c.Port = 25
	case "smtps":
		c.Port, c.ImplicitTLS = 465, true
	default:
		return fail("the scheme must be smtp or smtps")
	}
	if c.Host == "" {
		return fail("no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return fail("bad port %q", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		c.Auth = "auto"
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "starttls", "auth", "from", "reply-to", "timeout":
		default:
			return fail("unknown parameter %q", k)
		}
	}
	c.StartTLS = "opportunistic"
	if c.Username != "" {
		c.StartTLS = "required"
	}
	if v := q.Get("starttls"); v != "" {
		if v != "required" && v != "opportunistic" && v != "none" {
			return fail("starttls must be required, opportunistic or none")
		}
		c.StartTLS = v
	}
	if v := q.Get("auth"); v != "" {
		if _, ok := authTypes[v]; !ok || c.Username == "" {
			return fail("auth=%s needs credentials and one of auto, plain, login, cram-md5, scram-sha-1, scram-sha-256", v)
		}
		c.Auth = v
	}
	c.From = mail.Address{Address: "noreply@" + c.Host}
	if v := q.Get("from"); v != "" {
		a, err := mail.ParseAddress(v)
		if err != nil {
			return fail("from: %v", err)
		}
		c.From = *a
	}
	if v := q.Get("reply-to"); v != "" {
		a, err := mail.ParseAddress(v)
		if err != nil {
			return fail("reply-to: %v", err)
		}
		c.ReplyTo = a
	}
	if v := q.Get("timeout"); v != "" {
		if c.Timeout, err = time.ParseDuration(v); err != nil || c.Timeout <= 0 {
			return fail("timeout must be a positive duration such as 30s")
		}
	}
	return c, nil
}

// redact hides the password of an SMTP URL, for messages and logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable)"
		}
		return s
	}
	return u.Redacted()
}

// String is the relay's URL without its password.
func (c SMTPConfig) String() string {
	scheme := "smtp"
	if c.ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String()
}

// Sender delivers messages to a relay over connections it opens.
type Sender interface {
	Open(ctx context.Context) (Conn, error)
}

// Conn is one open connection to the relay.
type Conn interface {
	// Send delivers m. It returns nil once the relay has accepted the
	// message, else a *DeliveryError.
	Send(m Outgoing) error
	// Usable reports whether the connection may carry another message.
	Usable() bool
	Close() error
}

// Outgoing is a rendered message with the headers of its delivery.
type Outgoing struct {
	axiom.Message
	UnsubscribeURL string
}

// DeliveryError is a failed delivery: Permanent when the relay refused the
// message for good (a 5xx reply, an address it cannot take), and a Bounce
// too when that refusal came at RCPT or DATA: the address, not the sender
// or the connection, is what the relay refused.
type DeliveryError struct {
	Permanent bool
	Bounce    bool
	Err       error
	// Public is what the account may read of it: the remote reply of a
	// refusal, never the operator's relay address, which Err holds for
	// the log.
	Public string
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// PublicReason is what an account may read of a failed delivery.
func PublicReason(err error) string {
	if de, ok := errors.AsType[*DeliveryError](err); ok && de.Public != "" {
		return de.Public
	}
	return "delivery failed"
}

// remoteReply is the SMTP reply of a send error without go-mail's framing
// (its reason before, recipients and message id after).
func remoteReply(se *gomail.SendError) string {
	_, reply, _ := strings.Cut(se.Error(), ": ")
	reply, _, _ = strings.Cut(reply, ", affected recipient(s): ")
	reply, _, _ = strings.Cut(reply, ", affected message ID: ")
	return reply
}

// SMTPSender sends through go-mail to the relay of an SMTPConfig.
type SMTPSender struct {
	client  *gomail.Client
	from    mail.Address
	replyTo *mail.Address
	domain  string // of Message-IDs
}

// NewSMTPSender prepares a sender; it connects only when a connection is
// opened.
func NewSMTPSender(c SMTPConfig) (*SMTPSender, error) {
	opts := []gomail.Option{
		gomail.WithPort(c.Port),
		gomail.WithTimeout(c.Timeout),
	}
	if c.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		policy := map[string]gomail.TLSPolicy{"required": gomail.TLSMandatory, "opportunistic": gomail.TLSOpportunistic, "none": gomail.NoTLS}[c.StartTLS]
		opts = append(opts, gomail.WithTLSPolicy(policy))
	}
	if c.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(c.TLSConfig))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(authTypes[c.Auth]), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP relay %s: %w", c, err)
	}
	domain := c.From.Address[strings.LastIndexByte(c.From.Address, '@')+1:]
	return &SMTPSender{client: client, from: c.From, replyTo: c.ReplyTo, domain: domain}, nil
}

// Open connects to the relay, greets it, and upgrades and authenticates as
// configured.
func (s *SMTPSender) Open(ctx context.Context) (Conn, error) {
	sc, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, &DeliveryError{Err: fmt.Errorf("connect to the SMTP relay: %w", err), Public: "relay unavailable"}
	}
	return &smtpConn{s: s, c: sc}, nil
}

type smtpConn struct {
	s      *SMTPSender
	c      *gosmtp.Client
	broken bool
}

func (c *smtpConn) Usable() bool { return !c.broken }

func (c *smtpConn) Close() error { return c.s.client.CloseWithSMTPClient(c.c) }

func (c *smtpConn) Send(m Outgoing) error {
	msg, err := c.s.build(m)
	if err != nil {
		return &DeliveryError{Permanent: true, Err: err, Public: "the message cannot be sent: " + err.Error()}
	}
	err = c.s.client.SendWithSMTPClient(c.c, msg)
	if msg.IsDelivered() {
		// Accepted, even if the reset that follows failed: that only
		// spoils the connection.
		c.broken = err != nil
		return nil
	}
	if err == nil {
		return nil
	}
	c.broken = true
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch {
		case se.ErrorCode() >= 500:
			bounce := se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrSMTPDataClose
			public := "relay refused the message: " + remoteReply(se)
			if bounce {
				public = "recipient refused: " + remoteReply(se)
			}
			return &DeliveryError{Permanent: true, Bounce: bounce, Err: err, Public: public}
		case se.Reason == gomail.ErrGetSender, se.Reason == gomail.ErrGetRcpts, se.Reason == gomail.ErrNoUnencoded:
			return &DeliveryError{Permanent: true, Err: err, Public: "the message cannot be sent: " + se.Reason.String()}
		case se.ErrorCode() >= 400:
			return &DeliveryError{Err: err, Public: "relay deferred the message: " + remoteReply(se)}
		}
	}
	return &DeliveryError{Err: err, Public: "relay connection lost"}
}

// build is the MIME message of m: a plain-text and an HTML alternative,
// with the headers of RFC 8058's one-click unsubscribe.
func (s *SMTPSender) build(m Outgoing) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return nil, fmt.Errorf("sender %q: %w", s.from.Address, err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	// A stable Message-ID: a resend after a crash carries the same one,
	// which lets a receiving system recognise it.
	msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	msg.SetDate()
	if s.replyTo != nil {
		if err := msg.ReplyToFormat(s.replyTo.Name, s.replyTo.Address); err != nil {
			return nil, fmt.Errorf("reply-to %q: %w", s.replyTo.Address, err)
		}
	}
	if m.UnsubscribeURL != "" {
		uris := []string{m.UnsubscribeURL}
		if s.replyTo != nil {
			uris = append(uris, "mailto:"+s.replyTo.Address+"?subject="+url.PathEscape("unsubscribe "+m.UnsubscribeToken))
		}
		// One-click: a mailbox provider's button POSTs
		// "List-Unsubscribe=One-Click" to the URL (RFC 8058).
		msg.SetListUnsubscribe(uris...)
		msg.SetListUnsubscribePost()
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}
