package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

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
		{"a field after the host", `https://example.com{{custom.path}}`, `https://example.com@attacker.example`, ""},
		{"a field in the query", `https://example.com/?r={{email}}`, `https://example.com/?r=jane@example.com`, ""},
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
