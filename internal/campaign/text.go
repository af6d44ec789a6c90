package campaign

import (
	"strings"

	xhtml "golang.org/x/net/html"
)

// htmlToText is the plain-text alternative of an HTML body: its text, with
// paragraphs and line breaks kept, white space collapsed, the head, scripts
// and styles left out, and each link's URL after its text.
func htmlToText(body string) string {
	z := xhtml.NewTokenizer(strings.NewReader(body))
	var w textWriter
	skip := 0
	type link struct {
		href  string
		start int
	}
	var links []link
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return w.String()
		case xhtml.TextToken:
			if skip == 0 {
				w.text(string(z.Text()))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "head", "script", "style", "title", "template", "noscript":
				if tt == xhtml.StartTagToken {
					skip++
				}
			case "br":
				w.newline()
			case "li":
				w.newline()
				w.word("-")
				w.space = true
			case "hr":
				w.block()
				w.word("----")
				w.block()
			case "td", "th":
				w.space = true
			case "a":
				href := ""
				for _, a := range tok.Attr {
					if a.Key == "href" {
						href = strings.TrimSpace(a.Val)
					}
				}
				links = append(links, link{href: href, start: w.b.Len()})
			default:
				if brk := breakBefore(tok.Data); brk > 0 {
					w.breakLine(brk)
				}
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); n {
			case "head", "script", "style", "title", "template", "noscript":
				if skip > 0 {
					skip--
				}
			case "a":
				if len(links) == 0 {
					break
				}
				l := links[len(links)-1]
				links = links[:len(links)-1]
				if (strings.HasPrefix(l.href, "http://") || strings.HasPrefix(l.href, "https://")) &&
					strings.TrimSpace(w.b.String()[min(l.start, w.b.Len()):]) != l.href {
					w.space = true
					w.word("(" + l.href + ")")
				}
			default:
				if brk := breakBefore(n); brk > 0 {
					w.breakLine(brk)
				}
			}
		}
	}
}

// breakBefore is how many line breaks an element's start and end make: 2
// for a paragraph-like block, 1 for a line-like one, 0 inline.
func breakBefore(tag string) int {
	switch tag {
	case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "dl":
		return 2
	case "div", "tr", "section", "article", "header", "footer", "center", "main", "nav", "aside",
		"dt", "dd", "address", "figure", "figcaption", "tbody", "thead", "tfoot":
		return 1
	}
	return 0
}

// textWriter collapses white space and line breaks as text is written.
type textWriter struct {
	b       strings.Builder
	space   bool // a space is due before the next word
	breaks  int  // line breaks due before the next word
	started bool
}

func (w *textWriter) text(s string) {
	if s == "" {
		return
	}
	if strings.TrimLeft(s, " \t\n\r\f\u00a0") != s {
		w.space = true
	}
	words := strings.Fields(s)
	for i, word := range words {
		if i > 0 {
			w.space = true
		}
		w.word(word)
	}
	if len(words) > 0 && strings.TrimRight(s, " \t\n\r\f\u00a0") != s {
		w.space = true
	}
}

func (w *textWriter) word(s string) {
	if w.started {
		if w.breaks > 0 {
			w.b.WriteString(strings.Repeat("\n", w.breaks))
		} else if w.space {
			w.b.WriteByte(' ')
		}
	}
	w.b.WriteString(s)
	w.started, w.space, w.breaks = true, false, 0
}

// newline ends the line (twice in a row makes an empty line).
func (w *textWriter) newline() {
	if w.started {
		w.breaks = min(w.breaks+1, 2)
	}
	w.space = false
}

// breakLine makes sure at least n line breaks come before the next word.
func (w *textWriter) breakLine(n int) {
	if w.started {
		w.breaks = max(w.breaks, n)
	}
	w.space = false
}

func (w *textWriter) block() { w.breakLine(2) }

func (w *textWriter) String() string {
	if !w.started {
		return ""
	}
	return w.b.String() + "\n"
}
