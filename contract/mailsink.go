package contract

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// MailSink is an SMTP server that takes the mail of the server under test,
// so that the suite can follow the links recipients get: the API shows a
// message's tokens only as REDACTED. Run the server with its relay pointed
// at Addr (for axiom, --smtp-url smtp://ADDR?starttls=none) and give
// LiveLinks to Config.LiveLinks.
type MailSink struct {
	// Addr is the host:port it listens on.
	Addr string

	srv     *smtp.Server
	mu      sync.Mutex
	mails   []sunkMail
	arrived chan struct{} // closed and replaced at each mail
}

// sunkMail is what the suite needs of one received message.
type sunkMail struct {
	to        []string // envelope recipients, lower-cased
	messageID string   // the Message-ID header, without its angle brackets
	text      string   // List-Unsubscribe and every decoded text part
}

// ListenMailSink starts a mail sink on addr ("127.0.0.1:0" picks a port).
func ListenMailSink(addr string) (*MailSink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	s := &MailSink{Addr: ln.Addr().String(), arrived: make(chan struct{})}
	s.srv = smtp.NewServer(sinkBackend{s})
	s.srv.Domain = "contract.invalid"
	s.srv.ReadTimeout, s.srv.WriteTimeout = time.Minute, time.Minute
	s.srv.MaxMessageBytes = 8 << 20 // a message over 2 MiB is never made
	s.srv.AllowInsecureAuth = true  // loopback; a relay that authenticates still can
	s.srv.ErrorLog = quietLog{}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the sink.
func (s *MailSink) Close() error { return s.srv.Close() }

// LiveLinks finds the mail of message m, waiting for it until ctx ends or
// 30 s pass, and reads its links' tokens. A mail is m's when its
// Message-ID names m's id, or else when it is the only one to m's address.
func (s *MailSink) LiveLinks(ctx context.Context, m SentMessage) (LiveLinks, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		s.mu.Lock()
		mail, found := s.find(m)
		arrived := s.arrived
		s.mu.Unlock()
		if found {
			return mail.links()
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return LiveLinks{}, fmt.Errorf("no mail for message %s to %s reached the sink at %s", m.ID, m.To, s.Addr)
		}
	}
}

func (s *MailSink) find(m SentMessage) (sunkMail, bool) {
	var to []sunkMail
	for _, mail := range s.mails {
		if local, _, _ := strings.Cut(mail.messageID, "@"); m.ID != "" && local == m.ID {
			return mail, true
		}
		for _, rcpt := range mail.to {
			if rcpt == strings.ToLower(m.To) {
				to = append(to, mail)
			}
		}
	}
	if len(to) == 1 {
		return to[0], true
	}
	return sunkMail{}, false
}

// The public links' paths, as the spec names them (trackOpen, trackClick,
// unsubscribe), with the token the spec's TrackingToken allows.
var (
	openRE  = regexp.MustCompile(`/t/o/([A-Za-z0-9_-]{16,128})`)
	clickRE = regexp.MustCompile(`/t/c/([A-Za-z0-9_-]{16,128})/([0-9]+)`)
	unsubRE = regexp.MustCompile(`/u/([A-Za-z0-9_-]{16,128})`)
)

func (m sunkMail) links() (LiveLinks, error) {
	var l LiveLinks
	for _, f := range []struct {
		re  *regexp.Regexp
		dst *string
	}{{openRE, &l.Open}, {clickRE, &l.Click}, {unsubRE, &l.Unsubscribe}} {
		if sub := f.re.FindStringSubmatch(m.text); sub != nil {
			*f.dst = sub[1]
		}
	}
	if sub := clickRE.FindStringSubmatch(m.text); sub != nil {
		l.ClickPosition = sub[2]
	}
	if l.Open == "" || l.Click == "" || l.Unsubscribe == "" {
		return l, fmt.Errorf("the mail %s lacks a pixel, a tracked link or an unsubscribe link", m.messageID)
	}
	return l, nil
}

// parseMail reads what the suite needs of a raw message.
func parseMail(to []string, raw []byte) (sunkMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return sunkMail{}, err
	}
	var text strings.Builder
	text.WriteString(msg.Header.Get("List-Unsubscribe") + "\n")
	if err := decodeText(&text, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil {
		return sunkMail{}, err
	}
	return sunkMail{to: to, messageID: strings.Trim(msg.Header.Get("Message-ID"), "<> "), text: text.String()}, nil
}

// decodeText writes the decoded text parts of a body to w, multipart
// bodies part by part (to a depth that real mail does not pass).
func decodeText(w io.Writer, contentType, encoding string, body io.Reader, depth int) error {
	media, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		media, err = "text/plain", nil
	}
	if err != nil {
		return err
	}
	if strings.HasPrefix(media, "multipart/") {
		if depth > 4 {
			return errors.New("multipart nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable itself
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := decodeText(w, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); err != nil {
				return err
			}
		}
	}
	if !strings.HasPrefix(media, "text/") {
		return nil
	}
	switch strings.ToLower(encoding) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	_, err = io.Copy(w, body)
	return err
}

type sinkBackend struct{ s *MailSink }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: b.s}, nil }

type sinkSession struct {
	s  *MailSink
	to []string
}

func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, strings.ToLower(to))
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseMail(ss.to, raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unreadable message: " + err.Error()}
	}
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, m)
	close(ss.s.arrived)
	ss.s.arrived = make(chan struct{})
	ss.s.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset()     { ss.to = nil }
func (*sinkSession) Logout() error { return nil }

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}
func (quietLog) Println(...any)        {}
