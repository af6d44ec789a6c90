package contract_test

import (
	"context"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/contract"
)

// mailWith is a multipart message as campaign mail is built: quoted-printable
// HTML (a long line broken with soft breaks) and text, List-Unsubscribe.
func mailWith(messageID, to, html string) string {
	return "From: news@example.com\r\nTo: " + to + "\r\nMessage-ID: <" + messageID + "@example.com>\r\n" +
		"List-Unsubscribe: <https://api.example.com/v1/u/UUUUUUUUUUUUUUUUUUUUUU>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello\r\n" +
		"--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + html + "\r\n--b1--\r\n"
}

func TestMailSink(t *testing.T) {
	sink, err := contract.ListenMailSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	send := func(to, body string) {
		t.Helper()
		if err := smtp.SendMail(sink.Addr, nil, "news@example.com", []string{to}, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	// A soft line break inside the click token, as quoted-printable makes them.
	send("jane@example.com", mailWith("msg_jane", "jane@example.com",
		`<p><a href=3D"https://api.example.com/v1/t/c/CCCCCCCCCCCC=`+"\r\n"+
			`CCCCCCCCCC/12">offer</a><img src=3D"https://api.example.com/v1/t/o/OOOOOOOOOOOOOOOOOOOOOO"></p>`))
	send("john@example.com", mailWith("msg_john", "john@example.com", `<p>no tracked link here</p>`))

	ctx := t.Context()
	got, err := sink.LiveLinks(ctx, contract.SentMessage{CampaignID: "cmp_1", ID: "msg_jane", To: "jane@example.com"})
	want := contract.LiveLinks{Open: "OOOOOOOOOOOOOOOOOOOOOO", Click: "CCCCCCCCCCCCCCCCCCCCCC", ClickPosition: "12", Unsubscribe: "UUUUUUUUUUUUUUUUUUUUUU"}
	if err != nil || got != want {
		t.Errorf("LiveLinks(jane) = %+v, %v; want %+v", got, err, want)
	}
	// Found by its address alone, when the Message-ID names another id.
	if got, err := sink.LiveLinks(ctx, contract.SentMessage{ID: "msg_other", To: "Jane@Example.com"}); err != nil || got != want {
		t.Errorf("LiveLinks by address = %+v, %v", got, err)
	}
	if _, err := sink.LiveLinks(ctx, contract.SentMessage{ID: "msg_john", To: "john@example.com"}); err == nil || !strings.Contains(err.Error(), "lacks") {
		t.Errorf("a mail without tracked links: %v; want an error saying what it lacks", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := sink.LiveLinks(short, contract.SentMessage{ID: "msg_nobody", To: "nobody@example.com"}); err == nil {
		t.Error("LiveLinks found a mail that never came")
	}
}
