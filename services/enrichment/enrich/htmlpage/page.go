// Package htmlpage reads a whole news page (or an HTML fragment): its
// metadata (title, meta tags, JSON-LD, canonical and alternate links, lang),
// the author credits it shows (JSON-LD, meta tags, rel=author, byline
// elements), and its main content as document blocks, with navigation,
// share bars, related links, comment forms and ads left out.
package htmlpage

import (
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html/atom"

	"github.com/newsroom/newsroom/services/enrichment/enrich/document"
	"github.com/newsroom/newsroom/services/enrichment/enrich/lang"
)

// Page is what a page says about itself and its story.
type Page struct {
	Title string
	// H1 is the page's first visible h1 of three words or more.
	H1 string
	// Headline and its source ("jsonld", "og:title", "h1", "title").
	Headline, HeadlineSource string
	Description              string
	Lang                     string
	Canonical                string
	SiteName                 string
	// Publisher names (og:site_name, JSON-LD publisher, the domain's label),
	// folded, for telling a publication from a person.
	Publishers []string
	Keywords   []string
	// Alternates are translations the page links with hreflang.
	Alternates []document.Link
	// TranslationLinks are links in the page that offer this story in
	// another language ("Leer en español").
	TranslationLinks []document.Link
	Credits          []Credit
	Blocks           []document.Block
	// Images found in JSON-LD, for captions and credits.
	LDImages []document.Block
}

// Credit is an author credit as the page gives it, before normalising.
type Credit struct {
	Raw string
	// Source: "jsonld", "meta", "rel-author", "byline-element", "byline-text".
	Source string
	// Rule is the detail: the meta name, the JSON-LD type.
	Rule string
	// Org is true when the page typed the credit as an organisation.
	Org bool
	// Order is the credit's position in the document (element index), for
	// visible credits; near the headline is better.
	Order int
	// AfterHeadline is the distance in elements from the h1, -1 if unknown.
	AfterHeadline int
	URL           string
	Bio           string
}

// Parse reads a page.
func Parse(src string) *Page {
	root, scripts, _ := build(strings.NewReader(src))
	p := &Page{}
	idx := 0
	walk(root, func(n *node) bool { n.index = idx; idx++; return true })
	p.readHead(root)
	for _, s := range scripts {
		p.readJSONLD(s)
	}
	p.finishHead()
	r := &reader{}
	measure(root)
	r.pageLen = root.textLen
	p.findCredits(root, r)
	p.H1 = firstH1(root)
	p.TranslationLinks = translationLinks(root)
	p.Blocks = extract(root, r)
	return p
}

func (p *Page) readHead(root *node) {
	meta := map[string]string{}
	var metaOrder []string
	var title string
	walk(root, func(n *node) bool {
		switch n.tag {
		case atom.Html:
			if l := n.attr("lang"); l != "" {
				p.Lang = l
			}
		case atom.Title:
			if title == "" {
				title = textOf(n, 500)
			}
			return false
		case atom.Meta:
			key := strings.ToLower(n.attr("name"))
			if key == "" {
				key = strings.ToLower(n.attr("property"))
			}
			if key == "" {
				key = strings.ToLower(n.attr("itemprop"))
			}
			content := strings.TrimSpace(n.attr("content"))
			if key != "" && content != "" {
				if _, dup := meta[key]; !dup {
					meta[key] = content
					metaOrder = append(metaOrder, key)
				} else if creditMeta[key] && len(metaOrder) < 200 {
					// Several authors get several tags.
					k := key + "#" + strconv.Itoa(len(metaOrder))
					meta[k] = content
					metaOrder = append(metaOrder, k)
				}
			}
		case atom.Link:
			rel := strings.ToLower(n.attr("rel"))
			href := n.attr("href")
			switch {
			case rel == "canonical" && p.Canonical == "":
				p.Canonical = href
			case rel == "alternate" && n.attr("hreflang") != "" && href != "":
				p.Alternates = append(p.Alternates, document.Link{Href: href, Hreflang: n.attr("hreflang")})
			}
		case atom.Body:
			// Meta tags in the body (microdata) are read too.
		}
		return true
	})
	p.Title = title
	if p.Canonical == "" {
		p.Canonical = meta["og:url"]
	}
	if p.Lang == "" {
		p.Lang = meta["og:locale"]
	}
	if p.Description == "" {
		p.Description = firstOf(meta, "og:description", "description", "twitter:description")
	}
	p.SiteName = firstOf(meta, "og:site_name", "application-name")
	if p.SiteName != "" {
		p.Publishers = append(p.Publishers, p.SiteName)
	}
	if t := firstOf(meta, "og:title", "twitter:title"); t != "" {
		p.Headline, p.HeadlineSource = t, "og:title"
	}
	if k := firstOf(meta, "news_keywords", "keywords"); k != "" {
		for kw := range strings.SplitSeq(k, ",") {
			if kw = strings.TrimSpace(kw); kw != "" && len(kw) < 60 && len(p.Keywords) < 20 {
				p.Keywords = append(p.Keywords, kw)
			}
		}
	}
	for _, key := range metaOrder {
		base, _, _ := strings.Cut(key, "#")
		if creditMeta[base] {
			v := meta[key]
			if strings.Contains(v, "://") || strings.HasPrefix(v, "www.") {
				// A profile URL (Facebook, the site's author page), not a name.
				continue
			}
			p.Credits = append(p.Credits, Credit{Raw: v, Source: "meta", Rule: base, AfterHeadline: -1})
		}
	}
	// Slack/Twitter unfurl labels: twitter:label1 "Written by", twitter:data1 "Jane Doe".
	for i := 1; i <= 4; i++ {
		n := strconv.Itoa(i)
		if l := strings.ToLower(meta["twitter:label"+n]); l == "written by" || l == "escrito por" || l == "écrit par" {
			if v := meta["twitter:data"+n]; v != "" {
				p.Credits = append(p.Credits, Credit{Raw: v, Source: "meta", Rule: "twitter:label", AfterHeadline: -1})
			}
		}
	}
}

// creditMeta are the meta tags that name authors.
var creditMeta = map[string]bool{"author": true, "article:author": true, "parsely-author": true, "sailthru.author": true,
	"dc.creator": true, "byl": true, "dcterms.creator": true, "cxenseparse:author": true, "citation_author": true}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(m[k]); v != "" {
			return v
		}
	}
	return ""
}

// articleTypes are the JSON-LD types whose author is the story's author.
var articleTypes = map[string]bool{
	"article": true, "newsarticle": true, "blogposting": true, "reportagenewsarticle": true, "analysisnewsarticle": true,
	"opinionnewsarticle": true, "reviewnewsarticle": true, "backgroundnewsarticle": true,
	"liveblogposting": true, "report": true, "techarticle": true, "scholarlyarticle": true, "socialmediaposting": true,
	"advertisercontentarticle": true, "satiricalarticle": true, "askpublicnewsarticle": true, "review": true, "posting": true,
}

type ldState struct {
	byID     map[string]map[string]any
	articles []map[string]any
	pages    []map[string]any
}

// pageTypes: a page's author counts when no article node names one.
var pageTypes = map[string]bool{"webpage": true, "itempage": true, "collectionpage": true, "profilepage": false}

func (p *Page) readJSONLD(s string) {
	if len(s) > 2<<20 {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &v); err != nil {
		// Some sites wrap JSON-LD in CDATA or add trailing semicolons.
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(s), "]]>"), "<![CDATA[")), ";"))
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return
		}
	}
	v = unescapeAll(v, 0)
	st := &ldState{byID: map[string]map[string]any{}}
	var collect func(v any, depth int)
	collect = func(v any, depth int) {
		if depth > 6 {
			return
		}
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				collect(e, depth+1)
			}
		case map[string]any:
			if id, ok := t["@id"].(string); ok && id != "" {
				if _, seen := st.byID[id]; !seen || len(t) > len(st.byID[id]) {
					st.byID[id] = t
				}
			}
			if hasType(t, articleTypes) {
				st.articles = append(st.articles, t)
			} else if hasType(t, pageTypes) {
				st.pages = append(st.pages, t)
			}
			if g, ok := t["@graph"]; ok {
				collect(g, depth+1)
			}
			if m, ok := t["mainEntity"]; ok {
				collect(m, depth+1)
			}
		}
	}
	collect(v, 0)
	before := len(p.Credits)
	for _, a := range st.articles {
		p.readLDArticle(a, st)
	}
	if len(p.Credits) == before {
		for _, pg := range st.pages {
			if _, ok := pg["author"]; ok {
				p.readLDAuthors(pg, st)
			}
		}
	}
	// Publisher or website names, wherever they are.
	for _, n := range st.byID {
		if hasType(n, map[string]bool{"website": true, "newsmediaorganization": true}) {
			if name, ok := n["name"].(string); ok && name != "" {
				p.Publishers = append(p.Publishers, name)
			}
		}
	}
	if top, ok := v.(map[string]any); ok && hasType(top, map[string]bool{"website": true, "newsmediaorganization": true}) {
		if name, ok := top["name"].(string); ok && name != "" {
			p.Publishers = append(p.Publishers, name)
		}
	}
}

func hasType(m map[string]any, types map[string]bool) bool {
	switch t := m["@type"].(type) {
	case string:
		return types[strings.ToLower(t)]
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && types[strings.ToLower(s)] {
				return true
			}
		}
	}
	return false
}

func typeName(m map[string]any) string {
	switch t := m["@type"].(type) {
	case string:
		return strings.ToLower(t)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				return strings.ToLower(s)
			}
		}
	}
	return ""
}

func (p *Page) readLDArticle(a map[string]any, st *ldState) {
	resolve := func(v any) (map[string]any, string) {
		switch t := v.(type) {
		case string:
			if n, ok := st.byID[t]; ok {
				return n, ""
			}
			return nil, t
		case map[string]any:
			if name, _ := t["name"].(string); name == "" {
				if id, ok := t["@id"].(string); ok {
					if n, ok := st.byID[id]; ok {
						return n, ""
					}
				}
			}
			return t, ""
		}
		return nil, ""
	}
	if h, ok := a["headline"].(string); ok && strings.TrimSpace(h) != "" && p.HeadlineSource != "jsonld" {
		p.Headline, p.HeadlineSource = strings.TrimSpace(h), "jsonld"
	}
	if d, ok := a["description"].(string); ok && p.Description == "" {
		p.Description = strings.TrimSpace(d)
	}
	if l, ok := a["inLanguage"].(string); ok && p.Lang == "" {
		p.Lang = l
	}
	if pub, ok := a["publisher"]; ok {
		if n, s := resolve(pub); n != nil {
			if name, ok := n["name"].(string); ok && name != "" {
				p.Publishers = append(p.Publishers, name)
			}
		} else if s != "" {
			p.Publishers = append(p.Publishers, s)
		}
	}
	p.readLDAuthors(a, st)
	p.readLDImages(a, st)
}

func (st *ldState) resolve(v any) (map[string]any, string) {
	switch t := v.(type) {
	case string:
		if n, ok := st.byID[t]; ok {
			return n, ""
		}
		return nil, t
	case map[string]any:
		if name, _ := t["name"].(string); name == "" {
			if id, ok := t["@id"].(string); ok {
				if n, ok := st.byID[id]; ok {
					return n, ""
				}
			}
		}
		return t, ""
	}
	return nil, ""
}

// readLDAuthors reads the author (or creator) of a JSON-LD node.
func (p *Page) readLDAuthors(a map[string]any, st *ldState) {
	resolve := st.resolve
	authors := a["author"]
	if authors == nil {
		authors = a["creator"]
	}
	var list []any
	switch t := authors.(type) {
	case []any:
		list = t
	case nil:
	default:
		list = []any{t}
	}
	for i, au := range list {
		if i >= 12 {
			break
		}
		n, s := resolve(au)
		if n == nil {
			if s != "" && !strings.Contains(s, "://") {
				p.Credits = append(p.Credits, Credit{Raw: s, Source: "jsonld", Rule: "author-text", AfterHeadline: -1})
			}
			continue
		}
		name, _ := n["name"].(string)
		if name == "" {
			gn, _ := n["givenName"].(string)
			fn, _ := n["familyName"].(string)
			name = strings.TrimSpace(gn + " " + fn)
		}
		if name == "" {
			continue
		}
		typ := typeName(n)
		c := Credit{Raw: name, Source: "jsonld", Rule: "author", AfterHeadline: -1, Org: typ == "organization" || typ == "newsmediaorganization"}
		if typ != "" {
			c.Rule = "author:" + typ
		}
		if u, ok := n["url"].(string); ok {
			c.URL = u
		}
		if d, ok := n["description"].(string); ok {
			c.Bio = stripTags(d)
		}
		p.Credits = append(p.Credits, c)
	}
}

// readLDImages reads an article's images with captions and credits.
func (p *Page) readLDImages(a map[string]any, st *ldState) {
	resolve := st.resolve
	var imgs []any
	switch t := a["image"].(type) {
	case []any:
		imgs = t
	case map[string]any:
		imgs = []any{t}
	}
	for i, im := range imgs {
		if i >= 8 {
			break
		}
		n, _ := resolve(im)
		if n == nil {
			continue
		}
		b := document.Block{Kind: document.Image}
		b.Src, _ = n["url"].(string)
		if b.Src == "" {
			b.Src, _ = n["contentUrl"].(string)
		}
		b.Caption, _ = n["caption"].(string)
		if b.Caption == "" {
			b.Caption, _ = n["description"].(string)
		}
		b.Credit, _ = n["creditText"].(string)
		if b.Credit == "" {
			if ch, ok := n["copyrightHolder"].(map[string]any); ok {
				b.Credit, _ = ch["name"].(string)
			}
		}
		if b.Src != "" && (b.Caption != "" || b.Credit != "") {
			p.LDImages = append(p.LDImages, b)
		}
	}
}

func stripTags(s string) string {
	return document.StripInline(s)
}

// finishHead adds the domain label to the publisher names.
func (p *Page) finishHead() {
	if u, err := url.Parse(p.Canonical); err == nil && u.Host != "" {
		host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
		labels := strings.Split(host, ".")
		// The registrable label: "dailyplanet" of dailyplanet.com,
		// "independent" of independent.co.uk.
		for i := len(labels) - 2; i >= 0; i-- {
			l := labels[i]
			if l == "co" || l == "com" || l == "org" || l == "net" || l == "ac" || l == "gov" || len(l) <= 2 && i > 0 {
				continue
			}
			p.Publishers = append(p.Publishers, l)
			break
		}
	}
	slices.Sort(p.Publishers)
	p.Publishers = slices.Compact(p.Publishers)
}

// unescapeAll decodes HTML entities left in JSON-LD strings ("O&#039;Neil").
func unescapeAll(v any, depth int) any {
	if depth > 12 {
		return v
	}
	switch t := v.(type) {
	case string:
		if strings.IndexByte(t, '&') >= 0 {
			return html.UnescapeString(t)
		}
	case []any:
		for i := range t {
			t[i] = unescapeAll(t[i], depth+1)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = unescapeAll(e, depth+1)
		}
	}
	return v
}

// firstH1 is the text of the first h1 outside navigation that reads like a
// headline (three words or more; a one-word h1 is usually the site's logo).
func firstH1(root *node) string {
	out := ""
	var rec func(n *node) bool
	rec = func(n *node) bool {
		switch n.tag {
		case atom.Nav, atom.Footer, atom.Aside, atom.Form, atom.Script, atom.Style, atom.Template:
			return true
		}
		if hidden(n) {
			return true
		}
		if n.tag == atom.H1 {
			t := textOf(n, 600)
			if len(strings.Fields(t)) >= 3 {
				out = t
				return false
			}
			return true
		}
		for _, c := range n.children {
			if !rec(c) {
				return false
			}
		}
		return true
	}
	rec(root)
	return out
}

// translationLinks finds links offering the story in another language,
// outside navigation: "Leer en español", "Read in Spanish", or a language
// name on a link with hreflang. A bare "Español" in a menu is the site's
// edition, not this story's translation.
func translationLinks(root *node) []document.Link {
	var out []document.Link
	var rec func(n *node)
	rec = func(n *node) {
		switch n.tag {
		case atom.Nav, atom.Footer, atom.Header, atom.Script, atom.Style, atom.Select:
			return
		case atom.A:
			t := textOf(n, 80)
			if len(t) > 0 && len(t) <= 40 && len(out) < 8 {
				if _, ok := lang.Hint(t); ok && (len(strings.Fields(t)) > 1 || n.attr("hreflang") != "") {
					out = append(out, document.Link{Text: t, Href: n.attr("href"), Hreflang: n.attr("hreflang")})
				}
			}
			return
		}
		for _, c := range n.children {
			rec(c)
		}
	}
	rec(root)
	return out
}
