package campaign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
)

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SMTPConfig
	}{
		{"smtp://relay.example.com", SMTPConfig{Host: "relay.example.com", Port: 25, StartTLS: "opportunistic",
			Timeout: 30 * time.Second}},
		{"smtp://bob:s%40cret@relay.example.com:587?from=Acme+<news@acme.test>&timeout=5s", SMTPConfig{Host: "relay.example.com", Port: 587,
			Username: "bob", Password: "s@cret", StartTLS: "required", Auth: "auto", Timeout: 5 * time.Second}},
		{"smtp://bob:pw@127.0.0.1:2525?starttls=none&auth=plain", SMTPConfig{Host: "127.0.0.1", Port: 2525,
			Username: "bob", Password: "pw", StartTLS: "none", Auth: "plain", Timeout: 30 * time.Second}},
		{"smtps://relay.example.com", SMTPConfig{Host: "relay.example.com", Port: 465, ImplicitTLS: true,
			StartTLS: "opportunistic", Timeout: 30 * time.Second}},
	} {
		got, err := ParseSMTPURL(tc.in)
		if err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", tc.in, err)
			continue
		}
		from := got.From
		got.From = tc.want.From
		if got != tc.want {
			t.Errorf("ParseSMTPURL(%q) = %+v; want %+v", tc.in, got, tc.want)
		}
		if strings.Contains(tc.in, "from=") && (from.Address != "news@acme.test" || from.Name != "Acme") {
			t.Errorf("ParseSMTPURL(%q): From %+v", tc.in, from)
		}
		if !strings.Contains(tc.in, "from=") && from.Address != "noreply@"+got.Host {
			t.Errorf("ParseSMTPURL(%q): default From %+v", tc.in, from)
		}
	}
	for _, in := range []string{
		"", "relay.example.com:25", "http://relay", "smtp://", "smtp://relay:0", "smtp://relay:99999",
		"smtp://relay?starttls=sometimes", "smtp://relay?auth=plain", "smtp://u:p@relay?auth=magic",
		"smtp://relay?from=not-an-address", "smtp://relay?timeout=soon", "smtp://relay?timeout=-1s", "smtp://relay?verbose=1",
		"smtp://relay?reply-to=nowhere",
	} {
		if _, err := ParseSMTPURL(in); err == nil {
			t.Errorf("ParseSMTPURL(%q): no error", in)
		}
	}
	c, err := ParseSMTPURL("smtp://relay?reply-to=Acme+Unsubscribe+<unsubscribe@acme.test>")
	if err != nil || c.ReplyTo == nil || c.ReplyTo.Address != "unsubscribe@acme.test" || c.ReplyTo.Name != "Acme Unsubscribe" {
		t.Errorf("reply-to: %+v, %v", c.ReplyTo, err)
	}
	if _, err := ParseSMTPURL("smtp://bob:hunter2@relay?starttls=maybe"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("an error quotes the password: %v", err)
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func outgoing(to string) Outgoing {
	return Outgoing{Message: axiom.Message{ID: "msg_1", To: to, ToName: "Jane", Subject: "Hi", HTML: "<p>Hi</p>", Text: "Hi"},
		UnsubscribeURL: "https://example.com/v1/u/tok"}
}

func TestSMTPSenderWithSTARTTLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	relay := smtptest.New(t, smtptest.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}}), smtptest.WithAuth("bob", "s3cret"))
	send := func(rawURL string) error {
		t.Helper()
		c, err := ParseSMTPURL(rawURL)
		if err != nil {
			t.Fatal(err)
		}
		c.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		s, err := NewSMTPSender(c)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := s.Open(t.Context())
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Send(outgoing("jane@example.com"))
	}
	if err := send("smtp://bob:s3cret@" + relay.Addr + "?auth=plain&from=news@acme.test"); err != nil {
		t.Fatalf("send over STARTTLS with AUTH PLAIN: %v", err)
	}
	if err := send("smtp://bob:wrong@" + relay.Addr); err == nil {
		t.Fatal("a wrong password: no error")
	}
	if err := send("smtp://" + relay.Addr + "?starttls=required"); err == nil {
		t.Fatal("no credentials for a relay that wants them: no error")
	}
	got := relay.Messages()
	if len(got) != 1 || got[0].From != "news@acme.test" || len(got[0].To) != 1 || got[0].To[0] != "jane@example.com" {
		t.Fatalf("relay received %+v", got)
	}
	msg, err := got[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Message-Id") != "<msg_1@acme.test>" || msg.Header.Get("List-Unsubscribe") != "<https://example.com/v1/u/tok>" {
		t.Errorf("headers %v", msg.Header)
	}

	// STARTTLS required by the URL, not offered by the relay.
	plain := smtptest.New(t)
	c, _ := ParseSMTPURL("smtp://" + plain.Addr + "?starttls=required")
	s, _ := NewSMTPSender(c)
	if conn, err := s.Open(t.Context()); err == nil {
		conn.Close()
		t.Fatal("STARTTLS required against a relay without it: no error")
	}
}

func TestSMTPSenderClassifiesRefusals(t *testing.T) {
	relay := smtptest.New(t, smtptest.WithRcpt(func(to string) error {
		switch to {
		case "gone@example.com":
			return smtptest.Reply(550, "No such user")
		case "busy@example.com":
			return smtptest.Reply(452, "Mailbox full, try later")
		}
		return nil
	}), smtptest.WithData(func(_ string, to []string) error {
		switch to[0] {
		case "spam@example.com":
			return smtptest.Reply(554, "5.7.1 Message refused")
		case "queue@example.com":
			return smtptest.Reply(451, "4.3.0 Queue full")
		}
		return nil
	}))
	c, _ := ParseSMTPURL(relay.URL("starttls=none"))
	s, err := NewSMTPSender(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to                string
		permanent, bounce bool
	}{
		{"gone@example.com", true, true}, {"spam@example.com", true, true},
		{"busy@example.com", false, false}, {"queue@example.com", false, false},
		{"not an address", true, false}, // refused before the relay saw it: no bounce
	} {
		conn, err := s.Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Send(outgoing(tc.to))
		conn.Close()
		var de *DeliveryError
		if !errors.As(err, &de) || de.Permanent != tc.permanent || de.Bounce != tc.bounce {
			t.Errorf("send to %q: %v (%+v); want a DeliveryError, permanent %v, bounce %v", tc.to, err, de, tc.permanent, tc.bounce)
		}
	}
	// A refusal of the sender (530 at MAIL FROM: no authentication) is
	// permanent, but no fault of the recipient's address.
	locked := smtptest.New(t, smtptest.WithAuth("bob", "s3cret"))
	lc, _ := ParseSMTPURL(locked.URL("starttls=none"))
	ls, err := NewSMTPSender(lc)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := ls.Open(t.Context()); err != nil {
		t.Fatal(err)
	} else {
		err = conn.Send(outgoing("ok@example.com"))
		conn.Close()
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent || de.Bounce {
			t.Errorf("send refused at MAIL FROM: %v (%+v); want permanent, no bounce", err, de)
		}
	}

	conn, err := s.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 3 { // one connection carries several messages
		if err := conn.Send(outgoing("ok@example.com")); err != nil || !conn.Usable() {
			t.Fatalf("send: %v, usable %v", err, conn.Usable())
		}
	}
	if n := len(relay.Messages()); n != 3 {
		t.Fatalf("relay received %d messages; want 3", n)
	}
}
