// Package body turns an article body in any of its formats (Markdown, HTML,
// plain text) into safe HTML for a page. Whatever the editor typed, the
// result holds no script, no event handler, no style, no frame and no
// javascript: or data: URL: Markdown is rendered without raw HTML and then
// sanitised like submitted HTML, and everything is re-parsed by an HTML5
// parser so that what the browser sees is exactly what was checked.
package body

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Renderer renders bodies. It is safe for concurrent use; build one and
// share it (the Markdown parser and the policy are costly to build).
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New builds a Renderer.
func New() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
		// The headline is the page's only h1: a body's "# " becomes h2,
		// and the rest shift with it so the outline stays in order.
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(headingShift{}, 100))),
		// No html.WithUnsafe: raw HTML in Markdown is dropped, not passed on.
	)
	return &Renderer{md: md, policy: policy()}
}

// policy allows the structure of a news story and nothing that runs.
func policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardURLs() // http, https, mailto; parseable; no javascript:
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.AllowElements("p", "br", "hr", "h2", "h3", "h4", "h5", "h6",
		"ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "code",
		"em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark",
		"abbr", "cite", "q", "figure", "figcaption",
		"table", "caption", "thead", "tbody", "tfoot", "tr")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").OnElements("a", "abbr")
	p.AllowAttrs("cite").OnElements("blockquote", "q")
	p.AllowAttrs("start", "reversed").OnElements("ol")
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^[1-9][0-9]?$`)).OnElements("td", "th")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(row|col|rowgroup|colgroup)$`)).OnElements("th")
	p.AllowElements("td", "th")
	p.AllowAttrs("src").OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(regexp.MustCompile(`^[0-9]{1,4}$`)).OnElements("img")
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)).Globally()
	p.AllowAttrs("dir").Matching(regexp.MustCompile(`^(ltr|rtl|auto)$`)).Globally()
	// An img must have a src that is http(s), never data: or javascript:.
	p.AllowElements("img", "a")
	return p
}

// HTML renders body, read as format, to safe HTML. An unspecified format is
// read as plain text: the safe choice for a value nobody labelled.
func (r *Renderer) HTML(format newsroomv1.BodyFormat, body string) template.HTML {
	var raw string
	switch format {
	case newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN:
		var buf bytes.Buffer
		if err := r.md.Convert([]byte(body), &buf); err != nil {
			// goldmark only fails on a failing writer; a bytes.Buffer
			// never fails. Fall back to text rather than lose the story.
			return Text(body)
		}
		raw = buf.String()
	case newsroomv1.BodyFormat_BODY_FORMAT_HTML:
		raw = bodyOf(body)
	default:
		return Text(body)
	}
	return normalise(r.policy.Sanitize(raw))
}

// Text renders plain text: paragraphs on blank lines, line breaks kept.
func Text(body string) template.HTML {
	var b strings.Builder
	for _, p := range Paragraphs(body) {
		b.WriteString("<p>")
		for i, line := range strings.Split(p, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(template.HTMLEscapeString(strings.TrimSpace(line)))
		}
		b.WriteString("</p>\n")
	}
	return template.HTML(b.String())
}

// Paragraphs splits text on blank lines.
func Paragraphs(body string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// PlainText is the text of rendered HTML, for descriptions and word counts.
func PlainText(h template.HTML) string {
	z := html.NewTokenizer(strings.NewReader(string(h)))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken:
			b.WriteByte(' ')
		}
	}
}

// bodyOf keeps only what is inside <body> when given a whole page, so that
// the <title> and other head text do not leak into the story.
func bodyOf(s string) string {
	if !strings.Contains(strings.ToLower(s), "<body") && !strings.Contains(strings.ToLower(s), "<html") {
		return s
	}
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return s
	}
	var body *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if body != nil {
			return
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Body {
			body = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if body == nil {
		return s
	}
	var buf bytes.Buffer
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		_ = html.Render(&buf, c)
	}
	return buf.String()
}

// normalise re-parses sanitised HTML as the browser will, in a <div>'s
// context, so mis-nested markup comes out well-formed (a <ul> inside a <p>
// closes the p), gives images without alt an empty one, drops images
// without a source, and drops empty paragraphs.
func normalise(s string) template.HTML {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return Text(PlainText(template.HTML(template.HTMLEscapeString(s))))
	}
	var buf bytes.Buffer
	for _, n := range nodes {
		fix(n)
		if drop(n) {
			continue
		}
		_ = html.Render(&buf, n)
	}
	return template.HTML(buf.String())
}

func fix(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		fix(c)
		if drop(c) {
			n.RemoveChild(c)
		}
		c = next
	}
	if n.Type == html.ElementNode && n.DataAtom == atom.Img {
		hasAlt := false
		for _, a := range n.Attr {
			if a.Key == "alt" {
				hasAlt = true
			}
		}
		if !hasAlt {
			n.Attr = append(n.Attr, html.Attribute{Key: "alt", Val: ""})
		}
	}
}

func drop(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	switch n.DataAtom {
	case atom.Img:
		for _, a := range n.Attr {
			if a.Key == "src" && a.Val != "" {
				return false
			}
		}
		return true
	case atom.P:
		return n.FirstChild == nil
	}
	return false
}

// headingShift makes h1 an h2 and keeps the others below it.
type headingShift struct{}

func (headingShift) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering && h.Level < 2 {
			h.Level = 2
		}
		return ast.WalkContinue, nil
	})
}
