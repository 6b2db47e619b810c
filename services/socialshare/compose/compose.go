// Package compose writes a post for each network within that network's
// limits, counted the network's way: X's weighted length, Mastodon's
// characters with URLs at 23, Bluesky's graphemes and bytes, LinkedIn's
// escaped "little" text, Threads' characters and links. Text is chosen by a
// template per network (and optionally per section); when it is too long,
// hashtags go first, then the dek is shortened, then the headline, always at
// a word or grapheme boundary, never inside a URL or an emoji sequence. It
// is pure: the service and the benchmarks run the same code.
package compose

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"text/template"
	"unicode"

	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/richtext"
)

// Network names, as used in the ledger, metrics and the shares API.
const (
	X        = "x"
	Mastodon = "mastodon"
	Bluesky  = "bluesky"
	LinkedIn = "linkedin"
	Facebook = "facebook"
	Threads  = "threads"
)

// Networks is every network newsroom posts to, in posting order.
var Networks = []string{X, Mastodon, Bluesky, LinkedIn, Facebook, Threads}

// Card is the link preview a network shows (Bluesky's external embed,
// LinkedIn's article content); Facebook and Threads read the page's Open
// Graph instead.
type Card struct {
	URL         string `json:"url"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ImageURL    string `json:"image_url,omitempty"`
}

// Post is a composed post.
type Post struct {
	Network string `json:"network"`
	// Text as sent: for LinkedIn already escaped in its little format.
	Text string `json:"text"`
	// Link is the article's URL with UTM parameters for this network.
	Link     string           `json:"link"`
	Hashtags []string         `json:"hashtags,omitempty"`
	Facets   []richtext.Facet `json:"facets,omitempty"`
	Card     *Card            `json:"card,omitempty"`
	Language string           `json:"language,omitempty"`
	// Length in the network's unit, and the limit it was composed for.
	Length int `json:"length"`
	Limit  int `json:"limit"`
}

// Default templates. Fields: .Headline .Dek .Link .Hashtags .Section .Site
// .Note (corrections). A template is trimmed of surrounding whitespace and
// runs of blank lines after rendering, so empty fields leave no gaps.
var defaultTemplates = map[string]string{
	X:                        `{{.Headline}} {{.Link}} {{.Hashtags}}`,
	Mastodon:                 "{{.Headline}}\n\n{{.Dek}}\n\n{{.Link}}\n\n{{.Hashtags}}",
	Bluesky:                  "{{.Headline}}\n\n{{.Dek}}\n\n{{.Link}} {{.Hashtags}}",
	LinkedIn:                 "{{.Headline}}\n\n{{.Dek}}\n\n{{.Hashtags}}",
	Facebook:                 "{{.Headline}}\n\n{{.Dek}}",
	Threads:                  "{{.Headline}}\n\n{{.Dek}}\n\n{{.Link}} {{.Hashtags}}",
	"correction":             "Correction: {{.Note}} {{.Link}}",
	Facebook + "/correction": "Correction: {{.Note}}",
	LinkedIn + "/correction": "Correction: {{.Note}}",
}

// Composer composes posts from templates.
type Composer struct {
	templates map[string]*template.Template
}

// New parses the templates: keys are a network ("x"), a network and a
// section ("x/politics"), "correction" or "<network>/correction". They
// replace the defaults key by key.
func New(templates map[string]string) (*Composer, error) {
	c := &Composer{templates: map[string]*template.Template{}}
	all := map[string]string{}
	for k, v := range defaultTemplates {
		all[k] = v
	}
	for k, v := range templates {
		all[k] = v
	}
	for k, v := range all {
		t, err := template.New(k).Option("missingkey=error").Parse(v)
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", k, err)
		}
		// Fail on unknown fields now rather than at the first article.
		if err := t.Execute(&bytes.Buffer{}, fields{}); err != nil {
			return nil, fmt.Errorf("template %q: %w", k, err)
		}
		c.templates[k] = t
	}
	return c, nil
}

// fields are what a template can use.
type fields struct {
	Headline, Dek, Link, Hashtags, Section, Site, Note string
}

// Input is what a post is made from.
type Input struct {
	Article *newsroomv1.Article
	// URL of the rendered page.
	URL  string
	Site string
	// Note of a correction, for a reply.
	Note string
}

// ErrTooLong: not even the shortest form of the post fits the network.
var ErrTooLong = errors.New("post cannot be made to fit")

// Compose writes the article's post for the network under rules.
func (c *Composer) Compose(in Input, r Rules) (Post, error) {
	return c.compose(in, r, false)
}

// Correction writes the reply announcing in.Note under the original post.
func (c *Composer) Correction(in Input, r Rules) (Post, error) {
	return c.compose(in, r, true)
}

func (c *Composer) compose(in Input, r Rules, correction bool) (Post, error) {
	a := in.Article
	if a == nil {
		return Post{}, errors.New("compose: no article")
	}
	campaign := a.Slug
	if campaign == "" {
		campaign = slug.Make(a.Headline, 60)
	}
	if campaign == "" {
		campaign = a.Id
	}
	content := ""
	if correction {
		content = "correction"
	}
	link, err := WithUTM(in.URL, r.Network, campaign, content)
	if err != nil {
		return Post{}, fmt.Errorf("compose %s for %s: %w", r.Network, a.Id, err)
	}
	tmpl := c.template(r.Network, a.Section, correction)

	headline := clean(a.Headline)
	dek := clean(a.Dek)
	note := clean(in.Note)
	tags := Hashtags(a.Tags, r.MaxHashtags)
	display := link
	if r.Network == Bluesky {
		display = DisplayLink(link)
	}
	esc := func(s string) string { return s }
	tagText := func(n int) string {
		parts := make([]string, n)
		for i, t := range tags[:n] {
			parts[i] = "#" + t
		}
		return strings.Join(parts, " ")
	}
	if r.Network == LinkedIn {
		esc = EscapeLittle
		tagText = func(n int) string {
			parts := make([]string, n)
			for i, t := range tags[:n] {
				parts[i] = `{hashtag|\#|` + EscapeLittle(t) + `}`
			}
			return strings.Join(parts, " ")
		}
	}
	render := func(h, d, n string, ntags int) string {
		var b bytes.Buffer
		_ = tmpl.Execute(&b, fields{Headline: esc(h), Dek: esc(d), Link: display, Hashtags: tagText(ntags),
			Section: esc(a.Section), Site: esc(in.Site), Note: esc(n)})
		return tidy(b.String())
	}
	fits := func(text string) bool { return r.Check(text) == nil }

	text, ntags, ok := "", 0, false
	switch {
	case correction:
		if text = render(headline, dek, note, 0); fits(text) {
			ok = true
		} else if n, cut := Shorten(note, func(s string) bool { return fits(render(headline, dek, s, 0)) }); cut {
			text, ok = render(headline, dek, n, 0), true
		}
	default:
		for ntags = len(tags); ntags >= 0 && !ok; ntags-- {
			if text = render(headline, dek, note, ntags); fits(text) {
				ok = true
				break
			}
		}
		if ok {
			break
		}
		ntags = 0
		if d, cut := Shorten(dek, func(s string) bool { return fits(render(headline, s, note, 0)) }); cut && dek != "" {
			text, ok = render(headline, d, note, 0), true
			break
		}
		if h, cut := Shorten(headline, func(s string) bool { return fits(render(s, "", note, 0)) }); cut {
			text, ok = render(h, "", note, 0), true
		}
	}
	if !ok {
		return Post{}, fmt.Errorf("compose %s for %s: %w: %v", r.Network, a.Id, ErrTooLong, r.Check(render("", "", "", 0)))
	}
	if ntags < 0 {
		ntags = 0
	}
	p := Post{Network: r.Network, Text: text, Link: link, Hashtags: usedTags(text, tags, ntags),
		Language: a.Language, Length: r.Count(r, text), Limit: r.MaxLength}
	switch r.Network {
	case Bluesky:
		p.Facets = facets(text, display, link)
		p.Card = card(a, link)
	case LinkedIn:
		p.Card = card(a, link)
	}
	return p, nil
}

func usedTags(text string, tags []string, n int) []string {
	var out []string
	for _, t := range tags[:min(n, len(tags))] {
		if strings.Contains(text, t) {
			out = append(out, t)
		}
	}
	return out
}

// template picks network/section, then network, then the generic one.
func (c *Composer) template(network, section string, correction bool) *template.Template {
	var keys []string
	if correction {
		keys = []string{network + "/correction", "correction"}
	} else {
		if s := slug.Make(section, 40); s != "" {
			keys = append(keys, network+"/"+s)
		}
		keys = append(keys, network)
	}
	for _, k := range keys {
		if t, ok := c.templates[k]; ok {
			return t
		}
	}
	return c.templates[X]
}

func card(a *newsroomv1.Article, link string) *Card {
	cd := &Card{URL: link, Title: clean(a.Headline), Description: clean(a.Dek)}
	if d, cut := Shorten(cd.Description, func(s string) bool { return len([]rune(s)) <= 300 }); cut {
		cd.Description = d
	}
	for _, img := range a.Images {
		if img.GetUrl() != "" {
			cd.ImageURL = img.Url
			break
		}
	}
	return cd
}

// facets links the displayed link to the full one and marks hashtags and
// any other http(s) link in the text.
func facets(text, display, link string) []richtext.Facet {
	var out []richtext.Facet
	var skip []richtext.Index
	if i := strings.LastIndex(text, display); i >= 0 && display != "" {
		f := richtext.Link(i, i+len(display), link)
		out = append(out, f)
		skip = append(skip, f.Index)
	}
	out = append(out, richtext.Detect(text, skip...)...)
	sort.Slice(out, func(i, j int) bool { return out[i].Index.ByteStart < out[j].Index.ByteStart })
	return out
}

// DisplayLink is the short form of a link shown in a post whose facet
// carries the full URL: host and path, without scheme and query, cut at
// 30 characters.
func DisplayLink(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	s := strings.TrimPrefix(u.Host, "www.") + u.EscapedPath()
	s = strings.TrimSuffix(s, "/")
	if r := []rune(s); len(r) > 30 {
		s = string(r[:29]) + "…"
	}
	return s
}

// WithUTM adds utm_source=<network>, utm_medium=social,
// utm_campaign=<campaign> (and utm_content when set) to link, keeping its
// other query parameters in their order and its fragment; utm values it
// already had are replaced.
func WithUTM(link, network, campaign, content string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("link %q: %w", link, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("link %q is not an absolute http(s) URL", link)
	}
	set := []struct{ k, v string }{{"utm_source", network}, {"utm_medium", "social"}, {"utm_campaign", campaign}}
	if content != "" {
		set = append(set, struct{ k, v string }{"utm_content", content})
	}
	var kept []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		k, _, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err == nil && strings.HasPrefix(key, "utm_") &&
			(key == "utm_source" || key == "utm_medium" || key == "utm_campaign" || key == "utm_content") {
			continue
		}
		kept = append(kept, pair)
	}
	for _, kv := range set {
		kept = append(kept, url.QueryEscape(kv.k)+"="+url.QueryEscape(kv.v))
	}
	u.RawQuery = strings.Join(kept, "&")
	u.ForceQuery = false
	return u.String(), nil
}

// clean makes one line of text: whitespace runs become one space, control
// and non-characters go.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == 0xFFFE || r == 0xFEFF || r == 0xFFFF:
			return -1
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// tidy trims each line's trailing spaces, drops blank lines beyond one in
// a row, and trims the whole.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
