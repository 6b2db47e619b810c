package page_test

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering/internal/fixture"
	"github.com/newsroom/newsroom/services/rendering/page"
)

var site = page.Site{Name: "The Daily Test", BaseURL: "https://news.example", Language: "en", XHandle: "@dailytest"}

// head collects the head's link and meta elements.
type head struct {
	links  map[string][]string // rel (and hreflang) → hrefs
	meta   map[string][]string // property or name → contents
	jsonld []map[string]any
}

func parseHead(t *testing.T, doc []byte) head {
	t.Helper()
	root, err := html.Parse(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatal(err)
	}
	h := head{links: map[string][]string{}, meta: map[string][]string{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch n.DataAtom {
			case atom.Link:
				key := attr["rel"]
				if attr["hreflang"] != "" {
					key += ":" + attr["hreflang"]
				}
				h.links[key] = append(h.links[key], attr["href"])
			case atom.Meta:
				k := attr["property"]
				if k == "" {
					k = attr["name"]
				}
				h.meta[k] = append(h.meta[k], attr["content"])
			case atom.Script:
				var v map[string]any
				if err := json.Unmarshal([]byte(n.FirstChild.Data), &v); err != nil {
					t.Fatalf("JSON-LD: %v", err)
				}
				h.jsonld = append(h.jsonld, v)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return h
}

func one(t *testing.T, h head, key, want string) {
	t.Helper()
	got := h.meta[key]
	if len(got) != 1 || (want != "" && got[0] != want) {
		t.Errorf("%s = %q, want exactly %q", key, got, want)
	}
}

func TestArticleHead(t *testing.T) {
	a := fixture.Seed(t, site.BaseURL, "https://img.example/parler.jpg")
	doc, err := page.New(site).Article(page.ArticleView{Article: a, Revision: 2, Alternates: []page.Alternate{
		{Language: "en", URL: a.Url, Self: true}, {Language: "es", URL: "https://news.example/articles/" + fixture.SeedSpanishID, Label: "Leer en español"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := parseHead(t, doc)
	if c := h.links["canonical"]; len(c) != 1 || c[0] != a.Url {
		t.Errorf("canonical %q, want one %q", c, a.Url)
	}
	if h.links["alternate:en"][0] != a.Url || len(h.links["alternate:es"]) != 1 {
		t.Errorf("hreflang: %v", h.links)
	}
	one(t, h, "og:type", "article")
	one(t, h, "og:url", a.Url)
	one(t, h, "og:title", a.Headline)
	one(t, h, "og:image", "https://img.example/parler.jpg")
	one(t, h, "og:image:width", "1200")
	one(t, h, "og:image:height", "675")
	one(t, h, "og:image:alt", "The Parler logo on a phone screen")
	one(t, h, "og:locale", "en")
	one(t, h, "article:published_time", "2021-01-11T14:30:00Z")
	one(t, h, "article:modified_time", "2021-01-11T16:05:00Z")
	one(t, h, "article:author", "https://news.example/authors/emmanuel-alejandro-rondon")
	one(t, h, "article:section", "Technology")
	if len(h.meta["article:tag"]) != len(a.Tags) {
		t.Errorf("article:tag %v", h.meta["article:tag"])
	}
	one(t, h, "twitter:card", "summary_large_image")
	one(t, h, "twitter:site", "@dailytest")
	one(t, h, "twitter:image:alt", "")

	if len(h.jsonld) != 1 {
		t.Fatalf("%d JSON-LD blocks", len(h.jsonld))
	}
	ld := h.jsonld[0]
	if ld["@type"] != "NewsArticle" || ld["headline"] != a.Headline || ld["datePublished"] != "2021-01-11T14:30:00Z" || ld["dateModified"] != "2021-01-11T16:05:00Z" {
		t.Errorf("JSON-LD: %v", ld)
	}
	authors := ld["author"].([]any)
	au := authors[0].(map[string]any)
	if au["@type"] != "Person" || au["name"] != "Emmanuel Alejandro Rondón" || au["url"] != "https://news.example/authors/emmanuel-alejandro-rondon" {
		t.Errorf("author: %v", au)
	}
	pub := ld["publisher"].(map[string]any)
	logo := pub["logo"].(map[string]any)
	if pub["name"] != "The Daily Test" || logo["url"] != "https://news.example/assets/logo.png" {
		t.Errorf("publisher: %v", pub)
	}
	if m := ld["mainEntityOfPage"].(map[string]any); m["@id"] != a.Url {
		t.Errorf("mainEntityOfPage: %v", m)
	}
	img := ld["image"].([]any)[0].(map[string]any)
	if img["url"] != "https://img.example/parler.jpg" || img["width"] != 1200.0 || img["creditText"] != "EFE" {
		t.Errorf("image: %v", img)
	}
}

func TestArticleBody(t *testing.T) {
	a := fixture.Seed(t, site.BaseURL, "https://img.example/parler.jpg")
	doc, err := page.New(site).Article(page.ArticleView{Article: a, Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	for _, want := range []string{
		"<h1>Parler Sues Amazon For Taking Down Its Servers</h1>",
		`<a href="https://news.example/authors/emmanuel-alejandro-rondon" rel="author">Emmanuel Alejandro Rondón</a>`,
		`<time datetime="2021-01-11T14:30:00Z">`, `Updated <time datetime="2021-01-11T16:05:00Z">`,
		`<figure class="lead">`, `<span class="credit">Photo: EFE</span>`, "Parler will engage in a legal battle",
		"<h2>Beyond Justice</h2>", `href="https://news.example/tags/antitrust" rel="tag"`,
		`class="correction"`, "misspelled the name",
		`<a href="https://news.example/sections/technology">Technology</a>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Count(s, "<h1") != 1 {
		t.Error("not exactly one h1")
	}
}

// An article without a photo still gives cards and crawlers an image: the
// publication's logo, and a "summary" card.
func TestArticleWithoutImage(t *testing.T) {
	a := fixture.SeedSpanish(site.BaseURL)
	doc, err := page.New(site).Article(page.ArticleView{Article: a})
	if err != nil {
		t.Fatal(err)
	}
	h := parseHead(t, doc)
	one(t, h, "og:image", "https://news.example/assets/logo.png")
	one(t, h, "twitter:card", "summary")
	one(t, h, "og:locale", "es")
	if strings.Contains(string(doc), "hreflang") {
		t.Error("hreflang without translations")
	}
	if !strings.Contains(string(doc), `<html lang="es" dir="ltr">`) {
		t.Error("page language not the article's")
	}
}

func TestSiteCheck(t *testing.T) {
	for _, bad := range []page.Site{
		{Name: "", BaseURL: "https://x.example", Language: "en"},
		{Name: "N", BaseURL: "x.example", Language: "en"},
		{Name: "N", BaseURL: "https://x.example/", Language: "en"},
		{Name: "N", BaseURL: "https://x.example", Language: "english!"},
		{Name: "N", BaseURL: "https://x.example", Language: "en", XHandle: "no at"},
		{Name: "N", BaseURL: "https://x.example", Language: "en", LogoURL: "javascript:x"},
	} {
		if bad.Check() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if err := site.Check(); err != nil {
		t.Error(err)
	}
}

func TestSlug(t *testing.T) {
	for _, c := range [][3]string{
		{"given-slug", "Name", "given-slug"}, {"", "Emmanuel Alejandro Rondón", "emmanuel-alejandro-rondon"},
		{"Bad Slug!", "Mike Pence", "mike-pence"},
	} {
		if got := page.Slug(c[0], c[1]); got != c[2] {
			t.Errorf("Slug(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	if s := page.Slug("", "北京"); !strings.HasPrefix(s, "x-") || s != page.Slug("", "北京") {
		t.Errorf("a name in another script gets %q", s)
	}
}

func TestDefaultLogo(t *testing.T) {
	b, err := page.DefaultLogo("The Daily Test")
	if err != nil || len(b) < 100 || string(b[1:4]) != "PNG" {
		t.Fatalf("logo: %d bytes, %v", len(b), err)
	}
}

// A dek the body opens with (enrichment infers one from the lede) is not
// printed twice, but still describes the page to search engines and cards.
func TestDekNotRepeatedAboveTheLede(t *testing.T) {
	a := fixture.Seed(t, site.BaseURL, "https://img.example/parler.jpg")
	a.BodyFormat = newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN
	a.Body = "A legal battle is coming.  It is about servers.\n\nSecond paragraph."
	for _, tc := range []struct {
		dek  string
		show bool
	}{
		{"A legal battle is coming.", false},
		{"A legal  battle is\ncoming.", false},
		{"The network asks a court to stop Amazon.", true},
	} {
		a.Dek = tc.dek
		doc, err := page.New(site).Article(page.ArticleView{Article: a, Revision: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(doc), `<p class="dek">`); got != tc.show {
			t.Errorf("dek %q shown = %v, want %v", tc.dek, got, tc.show)
		}
		one(t, parseHead(t, doc), "og:description", tc.dek)
	}
}
