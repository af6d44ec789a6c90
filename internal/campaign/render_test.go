package campaign

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/axiomkit/axiom"
)

func TestRenderHTMLEscapesEveryContext(t *testing.T) {
	evil := `"><script>alert(1)</script>'`
	values := map[string]string{
		"name": evil, "url": "javascript:alert(1)", "site": "https://example.com/x?a=1&b=2",
		"custom.k": "<b>", "rel": "/path?q=<x>", "end": "--><script>x</script>",
	}
	for _, tc := range []struct{ name, in, want string }{
		{"text", `<p>Hi {{name}}</p>`, `<p>Hi &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;</p>`},
		{"spaces in braces and custom fields", `<p>{{ custom.k }}</p>`, `<p>&lt;b&gt;</p>`},
		{"unknown field", `<p>[{{nope}}][{{custom.nope}}]</p>`, `<p>[][]</p>`},
		{"quoted attribute", `<p title="{{name}}">x</p>`, `<p title="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;">x</p>`},
		{"unquoted attribute", `<p title={{name}}>x</p>`, `<p title="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;">x</p>`},
		{"javascript URL", `<a href="{{url}}">x</a>`, `<a href="#">x</a>`},
		{"javascript URL hidden by entities", `<a href="java&#x09;script{{nope}}:alert(1)">x</a>`, `<a href="#">x</a>`},
		{"safe URL", `<a href="{{site}}">x</a>`, `<a href="https://example.com/x?a=1&amp;b=2">x</a>`},
		{"relative URL", `<img src="{{rel}}">`, `<img src="/path?q=&lt;x&gt;">`},
		{"event handler", `<p onclick="go('{{name}}')">x</p>`, `<p onclick="go(&#39;&#39;)">x</p>`},
		{"style attribute", `<p style="color:{{name}}">x</p>`, `<p style="color:">x</p>`},
		{"attribute name", `<p {{name}}=1 class="c">x</p>`, `<p class="c">x</p>`},
		{"script", `<script>var n = "{{name}}";</script>`, `<script>var n = "";</script>`},
		{"style element", `<style>p:before{content:"{{name}}"}</style>`, `<style>p:before{content:""}</style>`},
		{"after a script", `<script>1</script><p>{{custom.k}}</p>`, `<script>1</script><p>&lt;b&gt;</p>`},
		{"comment", `<!--[if mso]><p>{{end}}</p><![endif]-->`, `<!--[if mso]><p>--&gt;&lt;script&gt;x&lt;/script&gt;</p><![endif]-->`},
		{"title", `<title>{{custom.k}}</title>`, `<title>&lt;b&gt;</title>`},
		{"textarea", `<textarea>{{custom.k}}</textarea>`, `<textarea>&lt;b&gt;</textarea>`},
		{"a tag made of fields", `<{{custom.k}}>`, `<&lt;b&gt;>`},
		{"untouched without fields", `<P CLASS=x>Fish &amp; chips<br/></P>`, `<P CLASS=x>Fish &amp; chips<br/></P>`},
		{"untouched tags beside fields", `<P CLASS=x>{{custom.k}}</P>`, `<P CLASS=x>&lt;b&gt;</P>`},
		{"value holding a field's syntax", `<p>{{custom.k}}</p>`, `<p>&lt;b&gt;</p>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderHTML(tc.in, values); got != tc.want {
				t.Errorf("renderHTML(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
	// A value is never read again as a field.
	if got := renderHTML(`<p>{{name}}</p>`, map[string]string{"name": "{{email}}", "email": "x@y"}); got != `<p>{{email}}</p>` {
		t.Errorf("a value was expanded again: %q", got)
	}
}

func TestSafeURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://x.com": true, "http://x": true, "mailto:a@b": true, "tel:+1": true, "/relative": true,
		"relative/path:x": true, "?q=1": true, "#top": true, "": true,
		"javascript:alert(1)": false, " JavaScript:x": false, "java\tscript:x": false, "data:text/html,x": false,
		"vbscript:x": false,
	} {
		if got := safeURL(u); got != want {
			t.Errorf("safeURL(%q) = %v; want %v", u, got, want)
		}
	}
}

func TestRenderMessage(t *testing.T) {
	c, err := NewComposer("https://mail.example.com/v1/")
	if err != nil {
		t.Fatal(err)
	}
	lead := axiom.Lead{ID: "cnt_1", Name: "Jane\r\nBcc: x@y Doe", Email: "jane@example.com", Company: "Acme",
		CustomFields: map[string]string{"city": "Paris"}}
	tmpl := axiom.Template{
		Subject: "Hello {{first_name}} from {{custom.city}}",
		Content: `<html><body><p>Dear {{name}},</p>
<a href="https://example.com/one">One</a>
<a href=" https://example.com/two?a=1&amp;b=2 ">Two</a>
<a href="mailto:x@example.com">Mail</a>
<a href="/relative">Rel</a>
<a href="https://exa mple.com/">Space</a>
<a name="top">Anchor</a>
<a href="{{unsubscribe_url}}">Leave</a>
</BODY></html>`,
	}
	m := c.Render(tmpl, lead)
	if m.Subject != "Hello Jane from Paris" {
		t.Errorf("Subject %q", m.Subject)
	}
	if m.ToName != "Jane Bcc: x@y Doe" || m.To != "jane@example.com" {
		t.Errorf("To %q <%s>", m.ToName, m.To)
	}
	tokenRE := regexp.MustCompile(`^[0-9A-Za-z_-]{22}$`)
	if !tokenRE.MatchString(m.OpenToken) || !tokenRE.MatchString(m.UnsubscribeToken) || m.OpenToken == m.UnsubscribeToken {
		t.Errorf("tokens %q %q", m.OpenToken, m.UnsubscribeToken)
	}
	want := []string{"https://example.com/one", "https://example.com/two?a=1&b=2"}
	if links := c.Prepare(tmpl).Links(); !slices.Equal(links, want) {
		t.Fatalf("links %q; want %q", links, want)
	}
	for i := range want {
		if !strings.Contains(m.HTML, fmt.Sprintf(`<a href="https://mail.example.com/v1/t/c/%s/%d">`, m.OpenToken, i)) {
			t.Errorf("link %d not rewritten in\n%s", i, m.HTML)
		}
	}
	if n := strings.Count(m.HTML, "/t/c/"); n != len(want) {
		t.Errorf("%d tracked links in\n%s; want %d", n, m.HTML, len(want))
	}
	unsub := "https://mail.example.com/v1/u/" + m.UnsubscribeToken
	for _, s := range []string{`href="mailto:x@example.com"`, `href="/relative"`, `href="https://exa mple.com/"`, `<a name="top">`,
		`<a href="` + unsub + `">Leave</a>`} {
		if !strings.Contains(m.HTML, s) {
			t.Errorf("HTML lacks %s:\n%s", s, m.HTML)
		}
	}
	if strings.Contains(m.HTML, "no longer wish") {
		t.Errorf("a footer was added to a template that has its unsubscribe link:\n%s", m.HTML)
	}
	pixel := `<img src="https://mail.example.com/v1/t/o/` + m.OpenToken + `" width="1" height="1" alt=""`
	if i := strings.Index(m.HTML, pixel); i < 0 || i > strings.Index(m.HTML, "</BODY>") {
		t.Errorf("no pixel before </BODY>:\n%s", m.HTML)
	}
	for _, s := range []string{"Dear Jane Bcc: x@y Doe,", "One (https://example.com/one)", "Two (https://example.com/two?a=1&b=2)", "Leave (" + unsub + ")"} {
		if !strings.Contains(strings.ReplaceAll(m.Text, "\n", " "), s) {
			t.Errorf("text lacks %q:\n%s", s, m.Text)
		}
	}

	// Without {{unsubscribe_url}}, a footer carries the link.
	m = c.Render(axiom.Template{Subject: "S", Content: "<p>Hi</p>"}, lead)
	unsub = "https://mail.example.com/v1/u/" + m.UnsubscribeToken
	if !strings.Contains(m.HTML, `<a href="`+unsub+`">unsubscribe</a>`) || !strings.HasSuffix(m.Text, "Unsubscribe: "+unsub+"\n") {
		t.Errorf("footer missing:\n%s\n%s", m.HTML, m.Text)
	}
	if m2 := c.Render(axiom.Template{Subject: "S", Content: "<p>Hi</p>"}, lead); m2.OpenToken == m.OpenToken {
		t.Error("two renders share a token")
	}
}

func TestHTMLToText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>One</p><p>Two</p>", "One\n\nTwo\n"},
		{"Line<br>break<br><br>twice", "Line\nbreak\n\ntwice\n"},
		{"<head><title>T</title><style>p{}</style></head><body>  Hello\n\n   world  </body>", "Hello world\n"},
		{"<ul><li>a</li><li>b</li></ul>", "- a\n- b\n"},
		{`<a href="https://x.com">https://x.com</a> and <a href="https://y.com">Y</a>`, "https://x.com and Y (https://y.com)\n"},
		{"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc\n"},
		{"Fish &amp; chips &lt;3<script>alert(1)</script>", "Fish & chips <3\n"},
		{"", ""},
	} {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestParsePublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8080/v1":    "http://localhost:8080/v1",
		"https://api.example.com/":    "https://api.example.com",
		"https://api.example.com/v1/": "https://api.example.com/v1",
	} {
		if got, err := ParsePublicURL(in); err != nil || got != want {
			t.Errorf("ParsePublicURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "localhost:8080", "ftp://x/", "https:///v1", "https://x/v1?a=1", "/v1"} {
		if _, err := ParsePublicURL(in); err == nil {
			t.Errorf("ParsePublicURL(%q): no error", in)
		}
	}
}

// Only URLs the template itself writes become tracked redirects: a URL in
// which a lead's data stands stays as merged (escaped, checked for its
// scheme) and leads straight to where it says, never through the API.
func TestLinksFromLeadDataAreNotTracked(t *testing.T) {
	c, err := NewComposer("https://mail.example.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	lead := axiom.Lead{Name: "Jane", Email: "jane@example.com",
		CustomFields: map[string]string{"url": "https://attacker.example/x?a=1&b=2", "path": "@attacker.example", "js": "javascript:alert(1)"}}
	for _, tc := range []struct {
		name, href string
		want       string // the href as sent
		tracked    string // the target tracked, "" for none
	}{
		{"written in the template", `https://example.com/offer`, "", "https://example.com/offer"},
		{"a whole field", `{{custom.url}}`, `https://attacker.example/x?a=1&amp;b=2`, ""},
		{"a field after the host", `https://example.com{{custom.path}}`, `#`, ""}, // refused by Body
		{"a field in the query", `https://example.com/?r={{email}}`, `https://example.com/?r=jane%40example.com`, ""},
		{"an unsafe field", `{{custom.js}}`, `#`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := axiom.Template{Subject: "S", Content: `<p><a href="` + tc.href + `">go</a></p>`}
			m, links := c.Render(tmpl, lead), c.Prepare(tmpl).Links()
			if tc.tracked == "" {
				if len(links) != 0 || !strings.Contains(m.HTML, `<a href="`+tc.want+`">go</a>`) {
					t.Errorf("links %q, HTML %s; want the href %q untracked", links, m.HTML, tc.want)
				}
				if strings.Contains(m.HTML, "/t/c/") {
					t.Errorf("a tracked link in %s", m.HTML)
				}
				return
			}
			if len(links) != 1 || links[0] != tc.tracked ||
				!strings.Contains(m.HTML, `<a href="https://mail.example.com/v1/t/c/`+m.OpenToken+`/0">go</a>`) {
				t.Errorf("links %q, HTML %s; want %s tracked", links, m.HTML, tc.tracked)
			}
		})
	}
}

// urlLead's values are made to break out of the part of a URL they stand in.
var urlLead = axiom.Lead{Name: "Jane Doe", Email: "jane@example.com", Phone: "+33 1 23", CustomFields: map[string]string{
	"mail":  "a@b.example?bcc=c@d.example",
	"site":  "evil.test/x?",
	"city":  "paris",
	"q":     "a&admin=1",
	"frag":  "x y#z",
	"up":    "/../admin",
	"dots":  "..",
	"path":  "a/b?c#d%e f",
	"url":   "https://lead.example/x?a=1&b=2",
	"js":    "javascript:alert(1)",
	"at":    "@attacker.example",
	"port":  "8443",
	"port2": "80@evil.test",
	"proto": "s",
	"bs":    `\evil.test`,
}}

// renderBody renders content for urlLead as the worker does: prepared,
// queued, then rendered.
func renderBody(t testing.TB, c *Composer, content string) (axiom.Message, error) {
	t.Helper()
	tmpl := axiom.Template{Subject: "S", Content: content}
	p := c.Prepare(tmpl)
	return c.Body(tmpl, p.Links(), p.Message(urlLead))
}

// attrOf returns the value of the attribute attr of the first tag named
// tag in the HTML body, as a browser reads it (unescaped).
func attrOf(body, tag, attr string) (string, bool) {
	z := xhtml.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return "", false
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data != tag {
				continue
			}
			for _, a := range tok.Attr {
				if a.Key == attr {
					return a.Val, true
				}
			}
		}
	}
}

// A value merged into a URL is encoded for the part of the URL it stands
// in, and one that would change the link's scheme or host refuses the
// message, naming the link, its attribute and the field.
func TestMergedURLsAreEncodedForTheirPlace(t *testing.T) {
	c, err := NewComposer("https://mail.example.com/v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content string
		tag, attr     string
		want          string // the attribute as sent, unescaped
		refused       string // the error, when the message is refused
	}{
		{name: "a value steering the host", content: `<a href="https://{{custom.site}}.shop.example/">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.site would change the link's host`},
		{name: "a host label", content: `<a href="https://{{custom.city}}.shop.example/">go</a>`,
			tag: "a", attr: "href", want: "https://paris.shop.example/"},
		{name: "query injection", content: `<a href="https://shop.example/?ref={{custom.q}}&amp;lang=en">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/?ref=a%26admin%3D1&lang=en"},
		{name: "fragment", content: `<a href="https://shop.example/page#{{custom.frag}}">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/page#x%20y%23z"},
		{name: "a path with /../", content: `<a href="https://shop.example/users/{{custom.up}}/profile">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/users/%2F..%2Fadmin/profile"},
		{name: "a .. segment", content: `<a href="https://shop.example/users/{{custom.dots}}/profile">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.dots would make a "." or ".." segment of the link's path`},
		{name: "a path segment", content: `<a href="https://shop.example/p/{{custom.path}}">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/p/a%2Fb%3Fc%23d%25e%20f"},
		{name: "fields in every part", content: `<a href="https://{{custom.city}}.shop.example/{{custom.path}}/{{ custom.up }}?q={{custom.q}}&amp;r={{custom.frag}}#{{custom.frag}}">go</a>`,
			tag: "a", attr: "href", want: "https://paris.shop.example/a%2Fb%3Fc%23d%25e%20f/%2F..%2Fadmin?q=a%26admin%3D1&r=x%20y%23z#x%20y%23z"},
		{name: "character references around fields", content: `<a href="https&#58;//shop.example&#47;{{custom.path}}&#63;q=&#123;&#123;custom.q}}">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/a%2Fb%3Fc%23d%25e%20f?q=a%26admin%3D1"},
		{name: "a host field written with character references", content: `<a href="https://&#123;&#123;custom.site}}.shop.example/?q={{custom.q}}">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.site would change the link's host`},
		{name: "a whole URL from the lead", content: `<a href=" {{custom.url}} ">go</a>`,
			tag: "a", attr: "href", want: "https://lead.example/x?a=1&b=2"},
		{name: "an unsafe whole URL", content: `<a href="{{custom.js}}">go</a>`, tag: "a", attr: "href", want: "#"},
		{name: "src in the path", content: `<img src="https://cdn.example/i/{{custom.path}}.png">`,
			tag: "img", attr: "src", want: "https://cdn.example/i/a%2Fb%3Fc%23d%25e%20f.png"},
		{name: "src steering the host", content: `<p><a href="https://x.example/">x</a><img src="/a.png"><img src="https://{{custom.site}}/a.png"></p>`,
			refused: `link 3 (src of <img>): the value of custom.site would change the link's host`},
		{name: "a field right after the host", content: `<a href="https://example.com{{custom.at}}">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.at would change the link's host`},
		{name: "a port", content: `<a href="https://shop.example:{{custom.port}}/">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example:8443/"},
		{name: "a port steering the host", content: `<a href="https://shop.example:{{custom.port2}}/">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.port2 would change the link's host`},
		{name: "user information", content: `<a href="https://{{custom.at}}@shop.example/">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.at would change the link's host`},
		{name: "an empty host label that moves the host", content: `<a href="https://{{custom.none}}/evil.example/">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.none would change the link's host`},
		{name: "a scheme-relative host", content: `<a href="//{{custom.site}}.cdn.example/">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.site would change the link's host`},
		{name: "a special scheme without slashes", content: `<a href="https:{{custom.site}}">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.site would change the link's host`},
		{name: "a backslash after the host", content: `<a href="https://shop.example\{{custom.bs}}">go</a>`,
			tag: "a", attr: "href", want: `https://shop.example\%5Cevil.test`},
		{name: "a scheme label", content: `<a href="http{{custom.proto}}://shop.example/">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/"},
		{name: "a scheme steered", content: `<a href="{{custom.js}}://shop.example/{{custom.city}}">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.js would change the link's scheme`},
		{name: "mailto", content: `<a href="mailto:{{email}}?subject={{name}}">go</a>`,
			tag: "a", attr: "href", want: "mailto:jane@example.com?subject=Jane%20Doe"},
		{name: "mailto with a query in the address", content: `<a href="mailto:{{custom.mail}}">go</a>`,
			tag: "a", attr: "href", want: "mailto:a@b.example%3Fbcc%3Dc@d.example"},
		{name: "tel", content: `<a href="tel:{{phone}}">go</a>`, tag: "a", attr: "href", want: "tel:+33%201%2023"},
		{name: "the unsubscribe link as the template writes it", content: `<a href="{{unsubscribe_url}}?src={{custom.q}}">go</a>`,
			tag: "a", attr: "href", want: "https://mail.example.com/v1/u/{token}?src=a%26admin%3D1"},
		{name: "the unsubscribe link in a query", content: `<a href="https://shop.example/?{{custom.city}}={{unsubscribe_url}}">go</a>`,
			tag: "a", attr: "href", want: "https://shop.example/?paris=https://mail.example.com/v1/u/{token}"},
		{name: "relative", content: `<a href="/search?q={{custom.q}}">go</a>`, tag: "a", attr: "href", want: "/search?q=a%26admin%3D1"},
		{name: "a field before slashes", content: `<a href="{{custom.js}}//shop.example/{{custom.city}}">go</a>`,
			tag: "a", attr: "href", want: "javascript%3Aalert%281%29//shop.example/paris"},
		{name: "an empty segment before a host", content: `<a href="/{{custom.none}}/evil.example/">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.none would change the link's host`},
		{name: "an empty field before slashes", content: `<a href="{{custom.none}}//evil.example/{{custom.city}}">go</a>`,
			refused: `link 1 (href of <a>): the value of custom.none would change the link's host`},
		{name: "relative, starting with a field", content: `<a href="{{custom.url}}/more">go</a>`,
			tag: "a", attr: "href", want: "https%3A%2F%2Flead.example%2Fx%3Fa%3D1%26b%3D2/more"},
		{name: "a script URL the template writes", content: `<a href="javascript:go('{{custom.city}}')">go</a>`, tag: "a", attr: "href", want: "#"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := renderBody(t, c, tc.content)
			if tc.refused != "" {
				var me *MergeError
				if !errors.As(err, &me) || err.Error() != tc.refused {
					t.Fatalf("error %v; want the message refused: %s\n%s", err, tc.refused, m.HTML)
				}
				// Rendered anyway, the link would lead nowhere.
				if h := renderHTML(tc.content, linkValues(m, "")); strings.Contains(h, "evil") || strings.Contains(h, "attacker") {
					t.Errorf("renderHTML without the check: %s", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := attrOf(m.HTML, tc.tag, tc.attr)
			if want := strings.ReplaceAll(tc.want, "{token}", m.UnsubscribeToken); !ok || got != want {
				t.Errorf("%s: got %q; want %q\n%s", tc.attr, got, tc.want, m.HTML)
			}
			if strings.Contains(m.HTML, "/t/c/") {
				t.Errorf("a URL holding a merge field was tracked:\n%s", m.HTML)
			}
		})
	}
}

// For any value, a merged URL leads to the scheme and host its template
// writes (a host label filled in), or the message is refused because the
// value may not stand there; and values in the path and the query read
// back as they were.
func FuzzMergedURLKeepsItsHost(f *testing.F) {
	c, err := NewComposer("https://mail.example.com/v1")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{
		{"paris", "a&admin=1"}, {"evil.test/x?", "/../x"}, {"", ".."}, {"a@b", "#x y%"}, {"..", "."},
		{`\\evil.test`, "%2e%2E"}, {"x:1", "http://evil.test"}, {"é", "\x00\t\n"}, {"%2F", "?a=b&c=d"},
	} {
		f.Add(seed[0], seed[1])
	}
	type want struct {
		href, scheme, host string // host: "{a}" stands for a
		hostField          bool   // a stands in the host
		emptyMoves         bool   // an empty a moves the host
		segment, query     bool   // b stands alone in the last path segment, in query key q
	}
	links := []want{
		{href: `https://{{custom.a}}.shop.example/x/{{custom.b}}`, scheme: "https", host: "{a}.shop.example", hostField: true, segment: true},
		{href: `https://shop.example/{{custom.a}}?q={{custom.b}}&amp;lang=en#{{custom.a}}`, scheme: "https", host: "shop.example", query: true},
		{href: `https://shop.example{{custom.a}}/p?q={{custom.b}}`, scheme: "https", host: "shop.example{a}", hostField: true, query: true},
		{href: `https://{{custom.a}}@shop.example/{{custom.b}}`, scheme: "https", host: "shop.example", hostField: true, segment: true},
		{href: `https://{{custom.a}}/{{custom.b}}`, scheme: "https", host: "{a}", hostField: true, segment: true},
		{href: `//{{custom.a}}.cdn.example/{{custom.b}}`, scheme: "", host: "{a}.cdn.example", hostField: true, segment: true},
		{href: `/local/{{custom.a}}?q={{custom.b}}`, scheme: "", host: "", query: true},
		{href: `/{{custom.a}}/evil.example/{{custom.b}}`, scheme: "", host: "", emptyMoves: true, segment: true},
		{href: `{{custom.a}}/{{custom.b}}`, scheme: "", host: "", segment: true},
		{href: `mailto:{{custom.a}}?q={{custom.b}}`, scheme: "mailto", host: "", query: true},
		{href: `https&#58;//shop.example&#47;{{custom.a}}&#47;{{custom.b}}`, scheme: "https", host: "shop.example", segment: true},
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		lead := axiom.Lead{Name: "L", Email: "l@example.com", CustomFields: map[string]string{"a": a, "b": b}}
		for _, l := range links {
			tmpl := axiom.Template{Subject: "S", Content: `<a href="` + l.href + `">go</a>`}
			p := c.Prepare(tmpl)
			m, err := c.Body(tmpl, p.Links(), p.Message(lead))
			if err != nil {
				var me *MergeError
				if !errors.As(err, &me) {
					t.Fatalf("%s: %v", l.href, err)
				}
				dots := func(v string) bool {
					d := strings.ReplaceAll(strings.ToLower(v), "%2e", ".")
					return d == "." || d == ".."
				}
				justified := ((l.hostField && !hostLabel(a) || (l.hostField || l.emptyMoves) && a == "") && me.Field == "custom.a") ||
					(dots(a) && me.Field == "custom.a") || (dots(b) && me.Field == "custom.b")
				if !justified {
					t.Fatalf("%s with a=%q b=%q refused without cause: %v", l.href, a, b, err)
				}
				continue
			}
			href, _ := attrOf(m.HTML, "a", "href")
			if l.hostField && !hostLabel(a) {
				t.Fatalf("%s with a=%q: not refused, href %q", l.href, a, href)
			}
			if strings.ContainsAny(href, "\\ \t\r\n\x00") {
				t.Fatalf("%s: href %q holds a byte parsers disagree on", l.href, href)
			}
			u, err := url.Parse(href)
			if err != nil {
				t.Fatalf("%s: href %q: %v", l.href, href, err)
			}
			host := strings.ReplaceAll(l.host, "{a}", strings.ToLower(a))
			if u.Scheme != l.scheme || strings.ToLower(u.Host) != host {
				t.Fatalf("%s with a=%q b=%q: href %q leads to %q://%q; want %q://%q", l.href, a, b, href, u.Scheme, u.Host, l.scheme, host)
			}
			if l.segment {
				p := u.EscapedPath()
				if seg, err := url.PathUnescape(p[strings.LastIndexByte(p, '/')+1:]); err != nil || seg != b {
					t.Fatalf("%s: href %q: the last segment reads %q, want %q", l.href, href, seg, b)
				}
			}
			if l.query {
				q, err := url.ParseQuery(u.RawQuery)
				if err != nil || len(q["q"]) != 1 || q.Get("q") != b {
					t.Fatalf("%s: href %q: query %v (%v), want q=%q alone", l.href, href, q, err, b)
				}
			}
		}
	})
}
