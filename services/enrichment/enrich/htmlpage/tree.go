package htmlpage

import (
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits that keep garbage from making the reader slow or hungry: a page
// nested deeper than MaxDepth is flattened there, and a page with more
// than MaxNodes elements is read only up to that point.
const (
	MaxDepth = 200
	MaxNodes = 200000
)

// node is an element or a text run. The tree is built with the tokenizer,
// not html.Parse: tree construction per the HTML5 algorithm walks the stack
// of open elements for every tag, which is quadratic on deeply nested
// garbage; this builder is linear and good enough for reading articles.
type node struct {
	tag      atom.Atom
	name     string // tag name when tag is 0 (custom elements)
	text     string // for text nodes (tag == 0 && name == "")
	attrs    []html.Attribute
	parent   *node
	children []*node
	depth    int

	// Filled by measure.
	textLen, linkLen int
	// negative: the class or id names furniture (computed once).
	negative bool
	score    float64
	index    int // document order
}

func (n *node) isText() bool { return n.tag == 0 && n.name == "" }

func (n *node) attr(key string) string {
	for _, a := range n.attrs {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// classID is the element's class and id, for furniture hints.
func (n *node) classID() string {
	c, id := n.attr("class"), n.attr("id")
	if id == "" {
		return c
	}
	if c == "" {
		return id
	}
	return c + " " + id
}

var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true, atom.Img: true,
	atom.Input: true, atom.Link: true, atom.Meta: true, atom.Param: true, atom.Source: true, atom.Track: true,
	atom.Wbr: true, atom.Keygen: true,
}

// closesP are start tags that close an open <p>.
var closesP = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true, atom.Div: true, atom.Dl: true,
	atom.Fieldset: true, atom.Figure: true, atom.Footer: true, atom.Form: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true, atom.Hr: true, atom.Main: true,
	atom.Nav: true, atom.Ol: true, atom.P: true, atom.Pre: true, atom.Section: true, atom.Table: true, atom.Ul: true,
	atom.Li: true, atom.Figcaption: true,
}

// build reads r into a tree under a synthetic root. jsonld collects the
// text of <script type="application/ld+json">.
func build(r io.Reader) (root *node, jsonld []string, nodes int) {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(8 << 20)
	root = &node{name: "#root"}
	stack := []*node{root}
	// over counts start tags swallowed beyond MaxDepth, so their end tags
	// are swallowed too.
	over := 0
	var inScript *node
	var inJSONLD bool
	top := func() *node { return stack[len(stack)-1] }
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return root, jsonld, nodes
		case html.TextToken:
			if inScript != nil {
				if inJSONLD && len(jsonld) < 64 {
					jsonld = append(jsonld, string(z.Text()))
				}
				continue
			}
			t := string(z.Text())
			if t == "" {
				continue
			}
			p := top()
			if k := len(p.children) - 1; k >= 0 && p.children[k].isText() {
				p.children[k].text += t
				continue
			}
			nodes++
			p.children = append(p.children, &node{text: t, parent: p, depth: p.depth + 1})
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var attrs []html.Attribute
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if len(attrs) < 32 {
					attrs = append(attrs, html.Attribute{Key: string(k), Val: string(v)})
				}
			}
			if a == atom.Script || a == atom.Style || a == atom.Noscript || a == atom.Template || a == atom.Textarea {
				if tt == html.StartTagToken {
					inScript = &node{tag: a}
					inJSONLD = false
					if a == atom.Script {
						for _, at := range attrs {
							if at.Key == "type" && strings.Contains(strings.ToLower(at.Val), "ld+json") {
								inJSONLD = true
							}
						}
					}
					if a == atom.Noscript || a == atom.Template {
						// Their content is markup we do not want; the
						// tokenizer reads it as tags, so skip until the
						// end tag.
						skipUntilEnd(z, a)
						inScript = nil
					}
				}
				continue
			}
			if nodes >= MaxNodes {
				return root, jsonld, nodes
			}
			p := top()
			// Implicit end tags that matter for article markup.
			if closesP[a] && p.tag == atom.P {
				stack = stack[:len(stack)-1]
				p = top()
			}
			if a == atom.Li || a == atom.Dt || a == atom.Dd || a == atom.Tr || a == atom.Td || a == atom.Th || a == atom.Option {
				for i := len(stack) - 1; i > 0 && i >= len(stack)-4; i-- {
					if stack[i].tag == a {
						stack = stack[:i]
						break
					}
					if stack[i].tag == atom.Ul || stack[i].tag == atom.Ol || stack[i].tag == atom.Table {
						break
					}
				}
				p = top()
			}
			n := &node{tag: a, attrs: attrs, parent: p, depth: p.depth + 1}
			if a == 0 {
				n.name = string(name)
				if n.name == "" {
					n.name = "x"
				}
			}
			if len(stack) > MaxDepth {
				// Too deep: keep the element's text, not its nesting.
				if tt == html.StartTagToken && !voidElements[a] {
					over++
				}
				continue
			}
			nodes++
			p.children = append(p.children, n)
			if tt == html.StartTagToken && !voidElements[a] {
				stack = append(stack, n)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if inScript != nil && (a == inScript.tag) {
				inScript = nil
				inJSONLD = false
				continue
			}
			if over > 0 && len(stack) > MaxDepth {
				over--
				continue
			}
			// Pop to the nearest matching open element, looking a bounded
			// way down: a stray end tag is ignored.
			for i := len(stack) - 1; i > 0 && i >= len(stack)-48; i-- {
				if stack[i].tag == a && (a != 0 || stack[i].name == string(name)) {
					stack = stack[:i]
					break
				}
			}
		}
	}
}

func skipUntilEnd(z *html.Tokenizer, a atom.Atom) {
	depth := 1
	for i := 0; i < 1_000_000; i++ {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.StartTagToken:
			if n, _ := z.TagName(); atom.Lookup(n) == a {
				depth++
			}
		case html.EndTagToken:
			if n, _ := z.TagName(); atom.Lookup(n) == a {
				if depth--; depth == 0 {
					return
				}
			}
		}
	}
}

// walk visits n and its descendants in document order; visit returns
// false to skip a node's children.
func walk(n *node, visit func(*node) bool) {
	if !visit(n) {
		return
	}
	for _, c := range n.children {
		walk(c, visit)
	}
}

// textOf is the collapsed text of n, cut at limit bytes (0: no limit).
func textOf(n *node, limit int) string {
	var b strings.Builder
	var rec func(*node) bool
	rec = func(m *node) bool {
		if m.isText() {
			b.WriteString(m.text)
			return limit == 0 || b.Len() < limit
		}
		if m.tag == atom.Br || isBlockTag(m.tag) {
			b.WriteByte(' ')
		}
		for _, c := range m.children {
			if !rec(c) {
				return false
			}
		}
		if isBlockTag(m.tag) {
			b.WriteByte(' ')
		}
		return true
	}
	rec(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func isBlockTag(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Section, atom.Article,
		atom.Blockquote, atom.Figure, atom.Figcaption, atom.Ul, atom.Ol, atom.Tr, atom.Td, atom.Th, atom.Table,
		atom.Header, atom.Footer, atom.Main, atom.Aside, atom.Nav, atom.Dd, atom.Dt, atom.Pre, atom.Address:
		return true
	}
	return false
}
