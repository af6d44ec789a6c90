// Package campaign renders, sends and tracks campaign messages: the
// rendering of a template for each lead (merge fields, tracked links, the
// open pixel, the unsubscribe link), delivery over SMTP, and the worker that
// drains the outbox and starts scheduled campaigns.
package campaign

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/axiomkit/axiom"
)

// placeholder is a merge field: {{name}}, {{ email }}, {{custom.KEY}}.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[^\s{}]+)?)\s*\}\}`)

// NewToken returns 128 random bits in base64url (22 characters), the form
// of every tracking and unsubscribe token.
func NewToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics on a broken source)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Composer renders campaign messages whose links lead to PublicURL.
type Composer struct {
	base string
}

// NewComposer returns a Composer whose tracking and unsubscribe links start
// with publicURL, the API's public base URL (such as
// "https://api.example.com/v1").
func NewComposer(publicURL string) (*Composer, error) {
	base, err := ParsePublicURL(publicURL)
	if err != nil {
		return nil, err
	}
	return &Composer{base: base}, nil
}

// ParsePublicURL checks that s is an absolute http(s) URL and returns it
// without a trailing slash.
func ParsePublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("public URL %q: want an absolute http or https URL without query", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// UnsubscribeURL is the unsubscribe link of the message with this token.
func (c *Composer) UnsubscribeURL(token string) string { return c.base + "/u/" + token }

func (c *Composer) openURL(token string) string { return c.base + "/t/o/" + token }

// clickURL is the tracked URL of the link at position (among the tracked
// links of the campaign's template) of the message with this open token.
func (c *Composer) clickURL(token string, position int) string {
	return c.base + "/t/c/" + token + "/" + strconv.Itoa(position)
}

// ParseLinkPosition reads the position of a tracked URL: a decimal number
// written as clickURL writes it (no sign, no leading zero), within int.
// Any other form names no link.
func ParseLinkPosition(s string) (int, bool) {
	if s == "" || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// Render renders the message of template t to lead l, with new tokens:
// Prepare and Body in one.
func (c *Composer) Render(t axiom.Template, l axiom.Lead) axiom.Message {
	p := c.Prepare(t)
	m := p.Message(l)
	html, text, err := c.render(t, p.urls, m)
	if err != nil {
		panic("campaign: rendering a message just prepared: " + err.Error()) // its links come from t itself
	}
	m.HTML, m.Text = html, text
	return m
}

// Prepared is a template made ready to queue its messages: the fields it
// uses and the links it tracks, found once for the whole audience.
type Prepared struct {
	c      *Composer
	t      axiom.Template
	fields []string
	urls   []string
}

// Prepare makes template t, the campaign's snapshot, ready to queue
// messages.
func (c *Composer) Prepare(t axiom.Template) *Prepared {
	p := &Prepared{c: c, t: t}
	seen := map[string]bool{"unsubscribe_url": true} // made from the message's token
	// Attribute values are read unescaped: a field written with character
	// references there is a field too.
	for _, m := range placeholder.FindAllStringSubmatch(t.Subject+"\n"+t.Content+"\n"+html.UnescapeString(t.Content), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			p.fields = append(p.fields, m[1])
		}
	}
	_, p.urls = c.trackLinks(t.Content, "")
	return p
}

// Links are the targets of the tracked links of the prepared template, by
// position: what the campaign stores once for all its messages.
func (p *Prepared) Links() []string { return p.urls }

// Message returns the message of the prepared template to lead l, with
// new tokens, without its body: what makes it unique (recipient, subject,
// the merge values of the fields the template uses, tokens). Its tracked
// links are its open token and each link's position, whatever their
// number. Body renders it when it is sent or read.
func (p *Prepared) Message(l axiom.Lead) axiom.Message {
	unsub := NewToken()
	all := mergeValues(l, p.c.UnsubscribeURL(unsub))
	merge := make(map[string]string, len(p.fields))
	for _, f := range p.fields {
		if v, ok := all[f]; ok && f != "unsubscribe_url" {
			merge[f] = v
		}
	}
	return axiom.Message{
		To:               l.Email,
		ToName:           headerText(l.Name),
		Subject:          headerText(substitute(p.t.Subject, all, func(v string) string { return v })),
		Merge:            merge,
		OpenToken:        NewToken(),
		UnsubscribeToken: unsub,
	}
}

// ErrTooLarge is why a message whose rendered body is over
// axiom.MaxMessageBytes is never sent.
var ErrTooLarge = errors.New(axiom.TooLargeReason)

// Body returns m with its body rendered from t, the snapshot of its
// campaign's template, when m holds merge values rather than a rendered
// body (m as it is otherwise); links are the targets the campaign stored
// for the snapshot's tracked links. A body over axiom.MaxMessageBytes is
// ErrTooLarge, a merge value that would change where a link leads a
// *MergeError, targets that are not the snapshot's an error: such a
// message is never sent.
func (c *Composer) Body(t axiom.Template, links []string, m axiom.Message) (axiom.Message, error) {
	if m.Merge == nil {
		return m, nil
	}
	if err := checkLinks(t.Content, linkValues(m, c.UnsubscribeURL(m.UnsubscribeToken))); err != nil {
		return m, err
	}
	html, text, err := c.render(t, links, m)
	if err != nil {
		return m, err
	}
	if (axiom.Message{HTML: html, Text: text, Status: axiom.MessageQueued}).Bounded().Status == axiom.MessageFailed {
		return m, ErrTooLarge
	}
	m.HTML, m.Text = html, text
	return m, nil
}

// render renders the body of m from template t: its merge values, its
// open token in the tracked links and the pixel, the unsubscribe link.
// want are the targets the campaign stored, which the links must be.
func (c *Composer) render(t axiom.Template, want []string, m axiom.Message) (string, string, error) {
	unsubURL := c.UnsubscribeURL(m.UnsubscribeToken)
	values := make(map[string]string, len(m.Merge)+1)
	maps.Copy(values, m.Merge)
	values["unsubscribe_url"] = unsubURL
	text := htmlToText(renderHTML(t.Content, values))
	// Links are tracked in the template, before any lead's data is merged:
	// only a URL the account wrote becomes a redirect of the API's domain.
	tracked, links := c.trackLinks(t.Content, m.OpenToken)
	if len(links) != len(want) {
		return "", "", fmt.Errorf("the campaign has %d tracked links, its template %d", len(want), len(links))
	}
	for i, u := range links {
		if u != want[i] {
			return "", "", fmt.Errorf("tracked link %d of the campaign leads to %q, its template's to %q", i, want[i], u)
		}
	}
	tracked = renderHTML(tracked, values)
	footer := ""
	if !strings.Contains(tracked, html.EscapeString(unsubURL)) {
		footer = `<p style="font-size:12px;color:#666666">If you no longer wish to receive these emails, <a href="` +
			html.EscapeString(unsubURL) + `">unsubscribe</a>.</p>`
	}
	pixel := `<img src="` + html.EscapeString(c.openURL(m.OpenToken)) + `" width="1" height="1" alt="" style="display:block;border:0">`
	tracked = insertBeforeBodyEnd(tracked, footer+pixel)
	if !strings.Contains(text, unsubURL) {
		text = strings.TrimRight(text, "\n") + "\n\n--\nUnsubscribe: " + unsubURL + "\n"
	}
	return tracked, text, nil
}

// mergeValues are the merge fields of one message. Unknown fields render
// as "".
func mergeValues(l axiom.Lead, unsubscribeURL string) map[string]string {
	first := ""
	if words := strings.Fields(l.Name); len(words) > 0 {
		first = words[0]
	}
	v := map[string]string{
		"name":            l.Name,
		"first_name":      first,
		"email":           l.Email,
		"phone":           l.Phone,
		"company":         l.Company,
		"unsubscribe_url": unsubscribeURL,
	}
	for k, val := range l.CustomFields {
		v["custom."+k] = val
	}
	return v
}

// substitute replaces each merge field of s by its value passed through esc.
func substitute(s string, values map[string]string, esc func(string) string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		return esc(values[placeholder.FindStringSubmatch(m)[1]])
	})
}

func empty(string) string { return "" }

// headerText makes s safe as a header's text: no control characters (no
// CR or LF to start another header), white space collapsed.
func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// rawText elements hold text that is not HTML: a merge field there renders
// empty, since HTML escaping does not make a value safe in a script or a
// style sheet.
var rawText = map[string]bool{
	"script": true, "style": true, "xmp": true, "iframe": true, "noembed": true,
	"noframes": true, "noscript": true, "plaintext": true,
}

// urlAttrs hold a URL: a merge field there may only make an http, https,
// mailto or tel URL, or a relative one.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "background": true, "cite": true,
	"poster": true, "longdesc": true, "usemap": true, "data": true, "codebase": true, "xlink:href": true,
	"manifest": true, "profile": true, "icon": true, "dynsrc": true, "lowsrc": true,
}

// renderHTML fills the merge fields of the HTML content. The content is
// the account's and trusted as HTML; only the values are escaped, for the
// context each field stands in, as the HTML tokenizer of browsers sees it:
// text, comments and attribute values get HTML escaping; a URL attribute
// whose result is not a safe URL becomes "#"; event-handler, style and
// srcset attributes and raw-text elements (script, style…) get nothing; an
// attribute whose name holds a field is dropped. Tokens without a field
// are copied byte for byte.
func renderHTML(content string, values map[string]string) string {
	if !strings.Contains(content, "{{") {
		return content
	}
	z := xhtml.NewTokenizer(strings.NewReader(content))
	var b strings.Builder
	b.Grow(len(content) + len(content)/4)
	inRaw := false
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return b.String()
		}
		raw := string(z.Raw()) // a copy: Token lower-cases names in place
		switch tt {
		case xhtml.TextToken:
			if inRaw {
				b.WriteString(substitute(raw, values, empty))
			} else {
				b.WriteString(substitute(raw, values, html.EscapeString))
			}
			continue
		case xhtml.CommentToken:
			// Escaping keeps a value from closing the comment (no ">").
			b.WriteString(substitute(raw, values, html.EscapeString))
			continue
		case xhtml.StartTagToken:
			name, _ := z.TagName()
			inRaw = rawText[string(name)]
			if !placeholder.MatchString(raw) {
				b.WriteString(raw)
				continue
			}
			tok := tokenFrom(raw)
			b.WriteString(fillAttrs(tok, values).String())
			continue
		case xhtml.SelfClosingTagToken:
			if placeholder.MatchString(raw) {
				b.WriteString(fillAttrs(tokenFrom(raw), values).String())
				continue
			}
		case xhtml.EndTagToken:
			inRaw = false
		}
		b.WriteString(raw)
	}
}

// tokenFrom tokenizes one tag again, for its attributes.
func tokenFrom(raw string) xhtml.Token {
	z := xhtml.NewTokenizer(strings.NewReader(raw))
	z.Next()
	return z.Token()
}

func fillAttrs(tok xhtml.Token, values map[string]string) xhtml.Token {
	attrs := tok.Attr[:0:0]
	for _, a := range tok.Attr {
		if placeholder.MatchString(a.Key) {
			continue
		}
		if placeholder.MatchString(a.Val) {
			key := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(key, "on"), key == "style", key == "srcset":
				a.Val = substitute(a.Val, values, empty)
			case urlAttrs[key]:
				// Each value is encoded for its part of the URL. A value
				// that would move the link's host is refused before
				// rendering (checkLinks); should one get here, the link
				// leads nowhere.
				val, refused := mergeURL(a.Val, values)
				if refused != nil {
					val = "#"
				}
				a.Val = val
			default:
				a.Val = substitute(a.Val, values, func(v string) string { return v })
			}
		}
		attrs = append(attrs, a)
	}
	tok.Attr = attrs
	return tok
}

// safeURL reports whether u is relative or of a scheme that runs no code,
// ignoring the white space and control characters browsers ignore.
func safeURL(u string) bool {
	s := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7F {
			return -1
		}
		return r
	}, u)
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true
	}
	switch strings.ToLower(s[:i]) {
	case "http", "https", "mailto", "tel":
		return true
	}
	return false
}

// trackLinks rewrites the href of every <a> of a template to an absolute
// http(s) URL into the tracked link of token and the link's position, and
// returns the targets by position. The targets are kept server-side, once
// per campaign, so a tracked URL can only ever lead where the template
// did. An href holding a merge field is left to renderHTML: a URL made of
// a lead's data is not the account's to redirect to.
func (c *Composer) trackLinks(body, token string) (string, []string) {
	z := xhtml.NewTokenizer(strings.NewReader(body))
	var b strings.Builder
	b.Grow(len(body) + 256)
	var links []string
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return b.String(), links
		}
		raw := string(z.Raw())
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			b.WriteString(raw)
			continue
		}
		if name, hasAttr := z.TagName(); string(name) != "a" || !hasAttr {
			b.WriteString(raw)
			continue
		}
		tok := tokenFrom(raw)
		changed := false
		for i, a := range tok.Attr {
			if a.Key != "href" || a.Namespace != "" {
				continue
			}
			target := strings.TrimSpace(a.Val)
			if placeholder.MatchString(target) || !trackable(target) || strings.HasPrefix(target, c.base+"/") {
				break
			}
			tok.Attr[i].Val = c.clickURL(token, len(links))
			links = append(links, target)
			changed = true
			break
		}
		if changed {
			b.WriteString(tok.String())
		} else {
			b.WriteString(raw)
		}
	}
}

// trackable reports whether u is an absolute http(s) URL of printable
// ASCII, which a Location header carries as it is.
func trackable(u string) bool {
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] >= 0x7F {
			return false
		}
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// insertBeforeBodyEnd puts s before the last </body>, or at the end.
func insertBeforeBodyEnd(doc, s string) string {
	const tag = "</body"
	for i := len(doc) - len(tag); i >= 0; i-- {
		if doc[i] == '<' && strings.EqualFold(doc[i:i+len(tag)], tag) {
			return doc[:i] + s + doc[i:]
		}
	}
	return doc + s
}
