// Package page renders the site's HTML: article pages, the notice of a
// retracted article, and the listing pages (home, section, tag, author).
// It is pure: the service, the rerender command and the benchmarks run the
// same templates on the same inputs and get the same bytes.
package page

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering/body"
)

//go:embed templates/*.html templates/site.css
var templates embed.FS

// Stylesheet is the site's CSS, served at PathStylesheet.
func Stylesheet() []byte {
	b, err := templates.ReadFile("templates/site.css")
	if err != nil {
		panic("page: stylesheet missing from the binary: " + err.Error())
	}
	return b
}

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"human":  func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 MST") },
	"date":   func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"dir":    Direction,
	"join":   strings.Join,
	"locale": Locale,
	"sep": func(i, n int) string {
		switch {
		case i == 0:
			return ""
		case i == n-1:
			return " and "
		}
		return ", "
	},
	"byline":      func(s Site, a []Person) map[string]any { return map[string]any{"Site": s, "Authors": a} },
	"authorPath":  func(sl string) string { return Listing{Kind: KindAuthor, Slug: sl}.Path() },
	"tagPath":     func(sl string) string { return Listing{Kind: KindTag, Slug: sl}.Path() },
	"sectionPath": func(sl string) string { return Listing{Kind: KindSection, Slug: sl}.Path() },
}).ParseFS(templates, "templates/*.html"))

// Renderer renders pages for one site.
type Renderer struct {
	site Site
	body *body.Renderer
}

// New builds a renderer for site.
func New(site Site) *Renderer {
	if site.Language == "" {
		site.Language = "en"
	}
	return &Renderer{site: site, body: body.New()}
}

// Site is the identity the renderer was built with.
func (r *Renderer) Site() Site { return r.site }

// Alternate is one language version of an article, for hreflang.
type Alternate struct {
	Language string
	URL      string
	// Label is the link text ("Read in Spanish"); defaults to the tag.
	Label string
	Self  bool
}

// ArticleView is everything an article page shows.
type ArticleView struct {
	Article  *newsroomv1.Article
	Revision int64
	// Alternates are the article's language versions, itself included,
	// as the index knows them both ways, so hreflang is reciprocal.
	Alternates []Alternate
}

// articleData is what the article template reads.
type articleData struct {
	Site       Site
	Entry      Entry
	Lang       string
	Canonical  string
	Desc       string
	Body       template.HTML
	Lead       *Picture
	More       []Picture
	Correction *newsroomv1.Correction
	Alternates []Alternate
	Others     []Alternate
	Share      Picture
	LogoURL    string
	JSONLD     template.JS
	Revision   int64
	Modified   bool
	WordCount  int
	// ShowDek is false when the body opens with the dek (an inferred dek
	// is often the lede's first sentence): the page does not say it twice,
	// while descriptions and cards still use it.
	ShowDek bool
}

// Article renders the page of one article revision.
func (r *Renderer) Article(v ArticleView) ([]byte, error) {
	a := v.Article
	if a == nil {
		return nil, fmt.Errorf("render article: no article")
	}
	e := EntryOf(r.site, a)
	d := articleData{
		Site:       r.site,
		Entry:      e,
		Lang:       e.Language,
		Canonical:  e.URL,
		Body:       r.body.HTML(a.BodyFormat, a.Body),
		Alternates: v.Alternates,
		Revision:   v.Revision,
		Modified:   !e.Updated.Equal(e.Published),
	}
	if u := a.CanonicalUrl; isHTTP(u) {
		// A syndicated story points search engines at its original.
		d.Canonical = u
	}
	for _, alt := range v.Alternates {
		if !alt.Self {
			d.Others = append(d.Others, alt)
		}
	}
	if len(d.Others) == 0 {
		d.Alternates = nil
	}
	pics := pictures(r.site, a.Images)
	if len(pics) > 0 {
		d.Lead = &pics[0]
		d.More = pics[1:]
	}
	if c := a.Correction; c != nil && strings.TrimSpace(c.Note) != "" {
		d.Correction = c
	}
	text := body.PlainText(d.Body)
	d.WordCount = int(a.WordCount)
	if d.WordCount <= 0 {
		d.WordCount = len(strings.Fields(text))
	}
	d.ShowDek = e.Dek != "" && !strings.HasPrefix(squash(text), squash(e.Dek))
	d.Desc = e.Dek
	if d.Desc == "" {
		d.Desc = excerpt(text, 200)
	}
	if d.Desc == "" {
		d.Desc = e.Headline
	}
	d.Share = r.sharePicture(d.Lead)
	d.LogoURL, _, _ = r.site.Logo()
	ld, err := r.newsArticle(e, d)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", a.Id, err)
	}
	d.JSONLD = ld
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "article.html", d); err != nil {
		return nil, fmt.Errorf("render %s: %w", a.Id, err)
	}
	return buf.Bytes(), nil
}

// squash is s with runs of space folded, for comparing prose.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// sharePicture is the image cards show: the lead photo, or the logo.
func (r *Renderer) sharePicture(lead *Picture) Picture {
	if lead != nil {
		return *lead
	}
	u, w, h := r.site.Logo()
	return Picture{URL: u, Width: w, Height: h, Alt: r.site.Name + " logo"}
}

// GoneView is what the 410 notice of a retracted article says.
type GoneView struct {
	ID       string
	Headline string
	Reason   string
	At       time.Time
}

// Gone renders the notice served with 410 for a retracted article.
func (r *Renderer) Gone(g GoneView) ([]byte, error) {
	var buf bytes.Buffer
	err := tmpl.ExecuteTemplate(&buf, "gone.html", map[string]any{
		"Site": r.site, "G": g, "Lang": r.site.Language, "URL": r.site.ArticleURL(g.ID)})
	if err != nil {
		return nil, fmt.Errorf("render notice of %s: %w", g.ID, err)
	}
	return buf.Bytes(), nil
}

// ListingView is one listing page.
type ListingView struct {
	Listing Listing
	// Title is the section's, tag's or author's name; empty for home.
	Title   string
	Entries []Entry
}

// Listing renders a listing page.
func (r *Renderer) Listing(v ListingView) ([]byte, error) {
	title := v.Title
	heading := v.Title
	desc := ""
	switch v.Listing.Kind {
	case KindHome:
		title = r.site.Name
		heading = "Latest news"
		desc = r.site.Description
		if desc == "" {
			desc = "The latest news from " + r.site.Name + "."
		}
	case KindSection:
		desc = "The latest " + v.Title + " news from " + r.site.Name + "."
	case KindTag:
		desc = "Articles about " + v.Title + " from " + r.site.Name + "."
	case KindAuthor:
		desc = "Articles by " + v.Title + " in " + r.site.Name + "."
	}
	ld, err := r.collectionPage(v, title, desc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = tmpl.ExecuteTemplate(&buf, "listing.html", map[string]any{
		"Site": r.site, "V": v, "Title": title, "Heading": heading, "Desc": desc,
		"Kind": v.Listing.Kind.Label(), "Lang": r.site.Language,
		"Canonical": r.site.URL(v.Listing.Path()),
		"RSS":       r.site.URL(v.Listing.FeedPath(PathRSS)), "Atom": r.site.URL(v.Listing.FeedPath(PathAtom)),
		"Share": r.sharePicture(nil), "JSONLD": ld,
	})
	if err != nil {
		return nil, fmt.Errorf("render listing %s: %w", v.Listing.Key(), err)
	}
	return buf.Bytes(), nil
}

func isHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// excerpt cuts text at a word boundary near n bytes.
func excerpt(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := strings.LastIndexByte(text[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && !utf8Start(text[cut]) {
			cut--
		}
	}
	return strings.TrimRight(text[:cut], " ,;:") + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
