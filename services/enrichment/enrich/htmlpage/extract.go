package htmlpage

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/atom"

	"github.com/newsroom/newsroom/services/enrichment/enrich/caption"
	"github.com/newsroom/newsroom/services/enrichment/enrich/clean"
	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
)

// skipTags never hold story text.
var skipTags = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Nav: true, atom.Footer: true, atom.Aside: true,
	atom.Form: true, atom.Button: true, atom.Select: true, atom.Input: true, atom.Textarea: true, atom.Iframe: true,
	atom.Svg: true, atom.Canvas: true, atom.Template: true, atom.Header: true, atom.Menu: true, atom.Dialog: true,
	atom.Object: true, atom.Embed: true, atom.Audio: true, atom.Video: true, atom.Map: true, atom.Label: true,
	atom.Title: true, atom.Head: true,
}

// hidden reports an element the reader never sees.
func hidden(n *node) bool {
	if _, ok := attrOK(n, "hidden"); ok {
		return true
	}
	if strings.EqualFold(n.attr("aria-hidden"), "true") {
		return true
	}
	st := strings.ReplaceAll(strings.ToLower(n.attr("style")), " ", "")
	return strings.Contains(st, "display:none") || strings.Contains(st, "visibility:hidden")
}

func attrOK(n *node, key string) (string, bool) {
	for _, a := range n.attrs {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// skipped: never story text, whatever it holds (by tag, role, hidden).
func skipped(n *node) bool {
	if n.isText() {
		return false
	}
	if skipTags[n.tag] || hidden(n) {
		return true
	}
	role := n.attr("role")
	return role == "navigation" || role == "banner" || role == "contentinfo" || role == "complementary" || role == "dialog" || role == "alert"
}

// pageLen is the page's text length, set by contentRoots; excluded needs
// it. A reader handles one page at a time.
type reader struct{ pageLen int }

// excluded: skipped with everything inside. A class that names furniture
// ("share", "related", "sidebar") excludes an element only when it holds
// less than half the page's text: wrappers and <body> often carry such
// classes as layout flags ("has-sidebar", "layout--sidebar").
func (r *reader) excluded(n *node) bool {
	if skipped(n) {
		return true
	}
	if n.isText() {
		return false
	}
	switch n.tag {
	case atom.Html, atom.Body, atom.Main:
		return false
	}
	if strings.EqualFold(n.attr("itemprop"), "articleBody") || n.attr("role") == "main" {
		return false
	}
	return n.negative && n.textLen*2 < r.pageLen
}

// measure fills text and link lengths.
func measure(n *node) {
	if n.isText() {
		n.textLen = len(strings.TrimSpace(n.text))
		return
	}
	if skipped(n) {
		return
	}
	n.negative = clean.IsNegative(n.classID())
	for _, c := range n.children {
		measure(c)
		n.textLen += c.textLen
		n.linkLen += c.linkLen
	}
	if n.tag == atom.A {
		n.linkLen = n.textLen
	}
}

// score gives the readability-style content scores: every paragraph of
// prose gives points to its parent and half to its grandparent.
func (r *reader) score(n *node) {
	if n.isText() || r.excluded(n) {
		return
	}
	for _, c := range n.children {
		r.score(c)
	}
	if n.tag == atom.P || n.tag == atom.Pre || n.tag == atom.Blockquote {
		if n.textLen >= 25 {
			t := textOf(n, 2000)
			s := 1 + float64(strings.Count(t, ",")+strings.Count(t, "，")) + min(float64(len(t))/100, 3)
			if n.linkLen*2 > n.textLen {
				s /= 4
			}
			if n.parent != nil {
				n.parent.score += s
				if gp := n.parent.parent; gp != nil {
					gp.score += s / 2
				}
			}
		}
	}
	// Text written straight into a container (no <p>) counts as a
	// paragraph of that container.
	if n.tag == atom.Div || n.tag == atom.Section || n.tag == atom.Article || n.tag == atom.Td || n.tag == atom.Main {
		direct := 0
		for _, c := range n.children {
			if c.isText() {
				direct += len(strings.TrimSpace(c.text))
			}
		}
		if direct >= 80 {
			n.score += 1 + min(float64(direct)/100, 3)
		}
	}
}

// contentRoots picks the story's container and its siblings that carry
// more of it (stories split by ad slots).
// contentRoots needs root measured and r.pageLen set.
func (r *reader) contentRoots(root *node) []*node {
	r.score(root)
	var best *node
	bestScore := 0.0
	walk(root, func(n *node) bool {
		if n.isText() || r.excluded(n) {
			return false
		}
		if n.score <= 0 {
			return true
		}
		s := n.score
		if n.textLen > 0 {
			s *= 1 - float64(n.linkLen)/float64(n.textLen)
		}
		cid := n.classID()
		switch {
		case clean.IsPositive(cid) || strings.EqualFold(n.attr("itemprop"), "articleBody"):
			s += 25
		}
		if n.tag == atom.Article {
			s += 5
		}
		if s > bestScore {
			best, bestScore = n, s
		}
		return true
	})
	if best == nil {
		// No paragraphs: the whole body, for fragments and plain pages.
		var body *node
		walk(root, func(n *node) bool {
			if n.tag == atom.Body && body == nil {
				body = n
			}
			return body == nil
		})
		if body == nil {
			body = root
		}
		return []*node{body}
	}
	// A container that only wraps the best one adds nothing; but when the
	// best one's parent holds several strong siblings, take those too.
	if best.parent == nil {
		return []*node{best}
	}
	threshold := max(5, bestScore*0.15)
	var out []*node
	for _, sib := range best.parent.children {
		if sib == best {
			out = append(out, sib)
			continue
		}
		if sib.isText() || r.excluded(sib) {
			continue
		}
		s := sib.score
		if sib.textLen > 0 {
			s *= 1 - float64(sib.linkLen)/float64(sib.textLen)
		}
		sameKind := sib.tag == best.tag && sib.attr("class") == best.attr("class") && sib.score > 0
		if s >= threshold || sameKind || sib.tag == atom.P && sib.textLen > 80 && sib.linkLen*4 < sib.textLen {
			out = append(out, sib)
		}
	}
	return out
}

// extract turns the content roots into blocks.
func extract(root *node, r *reader) []document.Block {
	e := &extractor{reader: r}
	for _, r := range e.contentRoots(root) {
		e.block(r)
		e.flush()
	}
	return e.out
}

type extractor struct {
	*reader
	out    []document.Block
	inline strings.Builder // Markdown source of the paragraph being built
	plain  strings.Builder
	links  []document.Link
	kind   document.Kind
	level  int
	quote  bool
}

func (e *extractor) flush() {
	plain := strings.Join(strings.Fields(e.plain.String()), " ")
	inline := strings.Join(strings.Fields(e.inline.String()), " ")
	e.plain.Reset()
	e.inline.Reset()
	links := e.links
	e.links = nil
	if plain == "" {
		return
	}
	kind := e.kind
	if e.quote && kind == document.Paragraph {
		kind = document.Quote
	}
	e.out = append(e.out, document.Block{Kind: kind, Level: e.level, Text: plain, Inline: inline, Links: links, Lines: []string{plain}})
	e.kind, e.level = document.Paragraph, 0
}

func (e *extractor) block(n *node) {
	if n.isText() {
		e.text(n.text)
		return
	}
	if e.excluded(n) {
		return
	}
	switch n.tag {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		e.flush()
		e.kind = document.Heading
		switch n.tag {
		case atom.H1:
			e.level = 1
		case atom.H2:
			e.level = 2
		default:
			e.level = 3
		}
		e.children(n)
		e.flush()
		return
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Pre, atom.Address, atom.Dd, atom.Dt, atom.Center:
		e.flush()
		e.children(n)
		e.flush()
		return
	case atom.Blockquote:
		e.flush()
		was := e.quote
		e.quote = true
		e.children(n)
		e.flush()
		e.quote = was
		return
	case atom.Ul, atom.Ol:
		e.flush()
		// A list of mostly links is navigation or "related" furniture.
		if n.textLen > 0 && n.linkLen*10 > n.textLen*6 {
			return
		}
		for _, li := range n.children {
			if li.tag != atom.Li || e.excluded(li) {
				continue
			}
			e.kind = document.ListItem
			if n.tag == atom.Ol {
				e.level = 1
			}
			e.children(li)
			e.flush()
		}
		return
	case atom.Li:
		e.flush()
		e.kind = document.ListItem
		e.children(n)
		e.flush()
		return
	case atom.Figure:
		e.flush()
		e.figure(n)
		return
	case atom.Img, atom.Picture:
		if b, ok := image(n); ok {
			e.flush()
			e.out = append(e.out, b)
		}
		return
	case atom.Table:
		// Tables are data, not prose: left out of the body.
		return
	case atom.Br:
		e.text(" ")
		return
	case atom.A:
		href := n.attr("href")
		t := strings.TrimSpace(textOf(n, 500))
		if t == "" {
			e.children(n)
			return
		}
		e.links = append(e.links, document.Link{Text: t, Href: href, Hreflang: n.attr("hreflang")})
		e.plain.WriteString(" " + t + " ")
		if u, err := url.Parse(href); err == nil && (u.Scheme == "http" || u.Scheme == "https") && !strings.ContainsAny(href, " ()") {
			e.inline.WriteString(" [" + document.Escape(t) + "](" + href + ") ")
		} else {
			e.inline.WriteString(" " + document.Escape(t) + " ")
		}
		return
	case atom.Em, atom.I, atom.Strong, atom.B:
		t := strings.TrimSpace(textOf(n, 2000))
		if t == "" {
			return
		}
		mark := "*"
		if n.tag == atom.Strong || n.tag == atom.B {
			mark = "**"
		}
		// Emphasis around links or across blocks is kept as plain text.
		if hasBlockOrLink(n) {
			e.children(n)
			return
		}
		raw := rawText(n)
		lead, trail := "", ""
		if strings.TrimLeft(raw, " \t\n\r") != raw {
			lead = " "
		}
		if strings.TrimRight(raw, " \t\n\r") != raw {
			trail = " "
		}
		e.plain.WriteString(raw)
		e.inline.WriteString(lead + mark + document.Escape(t) + mark + trail)
		return
	}
	e.children(n)
}

func hasBlockOrLink(n *node) bool {
	found := false
	walk(n, func(m *node) bool {
		if m != n && (m.tag == atom.A || isBlockTag(m.tag) || m.tag == atom.Img) {
			found = true
		}
		return !found
	})
	return found
}

func (e *extractor) children(n *node) {
	for _, c := range n.children {
		e.block(c)
	}
}

func (e *extractor) text(t string) {
	e.plain.WriteString(t)
	e.inline.WriteString(document.Escape(t))
}

// figure reads an image and its caption.
func (e *extractor) figure(n *node) {
	var img document.Block
	found := false
	var capNode *node
	walk(n, func(m *node) bool {
		if m != n && e.excluded(m) {
			return false
		}
		switch m.tag {
		case atom.Img:
			if !found {
				if b, ok := image(m); ok {
					img, found = b, true
				}
			}
		case atom.Figcaption:
			capNode = m
			return false
		}
		return true
	})
	if !found {
		// A figure without a picture (a pull quote, an embed): its text.
		e.children(n)
		e.flush()
		return
	}
	if capNode != nil {
		// Credits often sit in their own element inside the caption.
		var creditText string
		walk(capNode, func(m *node) bool {
			cid := strings.ToLower(m.classID())
			if m != capNode && (strings.Contains(cid, "credit") || strings.Contains(cid, "copyright") || strings.Contains(cid, "source")) {
				creditText = textOf(m, 200)
				m.children = nil
				return false
			}
			return true
		})
		text := textOf(capNode, 1000)
		c, cr, ok := caption.Split(text)
		img.Caption = c
		if ok {
			img.Credit = cr
		}
		if creditText != "" {
			img.Credit = caption.Normalize(creditText)
		}
	}
	e.out = append(e.out, img)
}

// image reads an <img> (lazy-loading attributes included); tracking pixels
// and icons are not images of the story.
func image(n *node) (document.Block, bool) {
	if n.tag == atom.Picture {
		for _, c := range n.children {
			if c.tag == atom.Img {
				return image(c)
			}
		}
		return document.Block{}, false
	}
	src := ""
	for _, k := range []string{"data-src", "data-lazy-src", "data-original", "src"} {
		if v := strings.TrimSpace(n.attr(k)); v != "" && !strings.HasPrefix(v, "data:") {
			src = v
			break
		}
	}
	if src == "" {
		if ss := n.attr("srcset"); ss != "" {
			src, _, _ = strings.Cut(strings.TrimSpace(ss), " ")
		}
	}
	if src == "" {
		return document.Block{}, false
	}
	w, h := atoi(n.attr("width")), atoi(n.attr("height"))
	if (w > 0 && w < 50) || (h > 0 && h < 50) {
		return document.Block{}, false
	}
	ls := strings.ToLower(src)
	if strings.Contains(ls, "pixel") || strings.Contains(ls, "spacer") || strings.Contains(ls, "/icon") || strings.HasSuffix(ls, ".svg") || strings.Contains(ls, "logo") {
		return document.Block{}, false
	}
	alt := strings.Join(strings.Fields(n.attr("alt")), " ")
	if utf8.RuneCountInString(alt) > 1000 {
		alt = ""
	}
	return document.Block{Kind: document.Image, Src: src, Alt: alt, Width: int32(w), Height: int32(h)}, true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			break
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// rawText is n's text as written, spacing included.
func rawText(n *node) string {
	var b strings.Builder
	walk(n, func(m *node) bool {
		if m.isText() {
			b.WriteString(m.text)
		}
		return true
	})
	return b.String()
}
