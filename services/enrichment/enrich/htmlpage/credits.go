package htmlpage

import (
	"strings"

	"golang.org/x/net/html/atom"
)

// bylineHints in a class or id mark an element that shows the author.
var bylineHints = []string{"byline", "by-line", "author", "writer", "contributor", "reporter", "posted-by", "postedby"}

// notBylineHints mark author boxes that hold more than a credit, or
// furniture named after authors.
var notBylineHints = []string{"author-bio", "authorbio", "about-author", "author-description", "author_bio",
	"author-avatar", "author-image", "author-img", "author-photo", "authorimage", "author-social", "author-follow",
	"comment", "avatar", "headshot"}

// findCredits collects visible author credits: rel=author links,
// itemprop=author, elements whose class names a byline, and short texts
// starting with "By". It returns the index of the first h1.
func (p *Page) findCredits(root *node, r *reader) int {
	h1 := -1
	walk(root, func(n *node) bool {
		if n.tag == atom.H1 && h1 < 0 {
			h1 = n.index
		}
		return true
	})
	dist := func(n *node) int {
		if h1 < 0 {
			return -1
		}
		d := n.index - h1
		if d < 0 {
			// Before the headline: count it as farther than after.
			d = -d * 2
		}
		return d
	}
	var rec func(n *node, negative bool)
	rec = func(n *node, negative bool) {
		if n.isText() {
			return
		}
		switch n.tag {
		case atom.Nav, atom.Footer, atom.Form, atom.Button, atom.Select:
			return
		}
		cid := strings.ToLower(n.classID())
		if !negative && cid != "" && !hasHint(cid, bylineHints) && r.excluded(n) {
			negative = true
		}
		if !negative {
			if strings.EqualFold(n.attr("rel"), "author") || strings.Contains(strings.ToLower(n.attr("rel")), "author") {
				if t := textOf(n, 200); t != "" && len(t) < 120 {
					p.Credits = append(p.Credits, Credit{Raw: t, Source: "rel-author", Rule: "rel=author", Order: n.index, AfterHeadline: dist(n), URL: n.attr("href")})
				}
				return
			}
			if strings.EqualFold(n.attr("itemprop"), "author") {
				t := ""
				walk(n, func(m *node) bool {
					if t == "" && strings.EqualFold(m.attr("itemprop"), "name") {
						t = m.attr("content")
						if t == "" {
							t = textOf(m, 200)
						}
					}
					return t == ""
				})
				if t == "" {
					t = n.attr("content")
				}
				if t == "" {
					t = textOf(n, 200)
				}
				if t != "" && len(t) < 150 {
					p.Credits = append(p.Credits, Credit{Raw: t, Source: "byline-element", Rule: "itemprop=author", Order: n.index, AfterHeadline: dist(n)})
					return
				}
			}
			if cid != "" && hasHint(cid, bylineHints) && !hasHint(cid, notBylineHints) && n.tag != atom.Img && n.tag != atom.Meta && !nearImage(n) {
				t, linked := creditText(n)
				rule := "class"
				if linked {
					rule = "class-links"
				}
				if t != "" && len(t) <= 150 {
					p.Credits = append(p.Credits, Credit{Raw: t, Source: "byline-element", Rule: rule, Order: n.index, AfterHeadline: dist(n)})
					return
				}
			}
			// A link to the author's page ("/author/jane-doe/") near the
			// headline.
			if n.tag == atom.A && isAuthorHref(n.attr("href")) && !nearImage(n) {
				if t := textOf(n, 120); t != "" && len(t) < 80 {
					if d := dist(n); d >= 0 && d <= 80 {
						p.Credits = append(p.Credits, Credit{Raw: t, Source: "byline-element", Rule: "author-link", Order: n.index, AfterHeadline: d, URL: n.attr("href")})
					}
				}
				return
			}
			// "by Jane Doe" as a text run after other text ("posted on
			// <time> by Jane Doe").
			for i, c := range n.children {
				if i == 0 || !c.isText() {
					continue
				}
				t := strings.Join(strings.Fields(c.text), " ")
				if len(t) > 3 && len(t) < 60 && (strings.HasPrefix(t, "by ") || strings.HasPrefix(t, "By ")) && !nearImage(n) {
					if d := dist(n); d >= 0 && d <= 40 {
						p.Credits = append(p.Credits, Credit{Raw: t, Source: "byline-text", Rule: "by-text", Order: n.index, AfterHeadline: d})
					}
				}
			}
			// "By Jane Doe" as the first text of a small element.
			if len(n.children) > 0 && n.children[0].isText() && n.tag != atom.P && n.tag != atom.Li && !nearImage(n) {
				first := strings.TrimSpace(n.children[0].text)
				if strings.HasPrefix(first, "By ") || first == "By" || strings.HasPrefix(first, "by ") || first == "by" {
					src := n
					if strings.EqualFold(textOf(n, 20), "by") && n.parent != nil {
						// "By" alone, the names in the elements beside it.
						src = n.parent
					}
					if t, _ := creditText(src); len(t) < 120 {
						p.Credits = append(p.Credits, Credit{Raw: t, Source: "byline-text", Rule: "by-prefix", Order: n.index, AfterHeadline: dist(n)})
						return
					}
				}
			}
		}
		for _, c := range n.children {
			rec(c, negative)
		}
	}
	rec(root, false)
	return h1
}

func hasHint(s string, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(s, h) {
			return true
		}
	}
	return false
}

// nearImage reports a credit that belongs to a picture: an image sits
// beside it or beside its parent. A photo credit is never a byline.
func nearImage(n *node) bool {
	for anc, i := n.parent, 0; anc != nil && i < 2; anc, i = anc.parent, i+1 {
		for _, c := range anc.children {
			if c.tag == atom.Img || c.tag == atom.Picture || c.tag == atom.Figure {
				return true
			}
		}
		if anc.tag == atom.Figure || anc.tag == atom.Figcaption {
			return true
		}
	}
	return false
}

// creditText is the text of a byline element with its parts kept apart
// ("Jane Doe | USA TODAY"), so that names in neighbouring elements do not
// run together. When the element links to author pages, the links are the
// names.
func creditText(n *node) (text string, linked bool) {
	var links []string
	walk(n, func(m *node) bool {
		if m.tag == atom.A && isAuthorHref(m.attr("href")) {
			if t := textOf(m, 100); t != "" {
				links = append(links, t)
			}
			return false
		}
		return true
	})
	if len(links) > 0 {
		return strings.Join(links, " | "), true
	}
	var parts []string
	walk(n, func(m *node) bool {
		if m.isText() {
			if t := strings.Join(strings.Fields(m.text), " "); t != "" {
				parts = append(parts, t)
			}
		}
		return true
	})
	return strings.Join(parts, " | "), false
}

// isAuthorHref reports a link to an author's page.
func isAuthorHref(href string) bool {
	h := strings.ToLower(href)
	for _, p := range []string{"/author/", "/authors/", "/by/", "/writer/", "/writers/", "/profile/", "/profiles/", "/people/",
		"/staff/", "/contributor/", "/contributors/", "/journalist/", "/journalists/", "/reporter/", "/byline/", "/users/", "/person/", "/autor/", "/auteur/"} {
		if strings.Contains(h, p) {
			return true
		}
	}
	return false
}
