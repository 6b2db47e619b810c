// Package sitemap writes the files search engines crawl: sitemaps and
// sitemap indexes (sitemaps.org 0.9), the Google News sitemap (articles of
// the last 48 hours, at most 1,000 per file, an index beyond) and
// robots.txt.
package sitemap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits from the protocols.
const (
	// MaxURLs in one sitemap file (sitemaps.org).
	MaxURLs = 50000
	// MaxNewsURLs in one Google News sitemap file.
	MaxNewsURLs = 1000
	// NewsWindow is how far back a News sitemap reaches.
	NewsWindow = 48 * time.Hour
)

const (
	nsSitemap = "http://www.sitemaps.org/schemas/sitemap/0.9"
	nsNews    = "http://www.google.com/schemas/sitemap-news/0.9"
)

// URL is one page in a sitemap.
type URL struct {
	Loc     string
	LastMod time.Time
}

// Ref is one sitemap in an index.
type Ref struct {
	Loc     string
	LastMod time.Time
}

// File is a sitemap file to publish at Path (relative to the site root,
// without a leading slash).
type File struct {
	Path string
	Body []byte
}

type urlset struct {
	XMLName xml.Name `xml:"urlset"`
	NS      string   `xml:"xmlns,attr"`
	News    string   `xml:"xmlns:news,attr,omitempty"`
	URLs    []url    `xml:"url"`
}

type url struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
	News    *news  `xml:"news:news"`
}

type news struct {
	Publication publication `xml:"news:publication"`
	Date        string      `xml:"news:publication_date"`
	Title       string      `xml:"news:title"`
}

type publication struct {
	Name     string `xml:"news:name"`
	Language string `xml:"news:language"`
}

type index struct {
	XMLName  xml.Name `xml:"sitemapindex"`
	NS       string   `xml:"xmlns,attr"`
	Sitemaps []ref    `xml:"sitemap"`
}

type ref struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// URLSet writes one sitemap of at most MaxURLs pages.
func URLSet(urls []URL) ([]byte, error) {
	if len(urls) > MaxURLs {
		return nil, fmt.Errorf("sitemap: %d URLs, more than the %d one file may hold", len(urls), MaxURLs)
	}
	set := urlset{NS: nsSitemap}
	for _, u := range urls {
		set.URLs = append(set.URLs, url{Loc: u.Loc, LastMod: stamp(u.LastMod)})
	}
	return marshal(set)
}

// Index writes a sitemap index.
func Index(refs []Ref) ([]byte, error) {
	if len(refs) > MaxURLs {
		return nil, fmt.Errorf("sitemap index: %d sitemaps, more than the %d one index may hold", len(refs), MaxURLs)
	}
	ix := index{NS: nsSitemap}
	for _, r := range refs {
		ix.Sitemaps = append(ix.Sitemaps, ref{Loc: r.Loc, LastMod: stamp(r.LastMod)})
	}
	return marshal(ix)
}

// Chunks splits urls into files named name.xml, or name-1.xml … name-N.xml
// when they do not fit in one.
func Chunks(name string, urls []URL) ([]File, error) {
	if len(urls) <= MaxURLs {
		b, err := URLSet(urls)
		if err != nil {
			return nil, err
		}
		return []File{{Path: name + ".xml", Body: b}}, nil
	}
	var out []File
	for i := 0; i*MaxURLs < len(urls); i++ {
		b, err := URLSet(urls[i*MaxURLs : min((i+1)*MaxURLs, len(urls))])
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: name + "-" + strconv.Itoa(i+1) + ".xml", Body: b})
	}
	return out, nil
}

// Article is a candidate for the News sitemap.
type Article struct {
	URL       string
	Title     string
	Language  string
	Published time.Time
}

// News is the Google News sitemap at path (e.g. "news-sitemap.xml") for
// now: the articles published in the last 48 hours, newest first. Up to
// MaxNewsURLs it is one file at path; beyond, path is an index of
// path-1.xml, path-2.xml, … of at most MaxNewsURLs each. base is the
// site's root URL. Publication is the publication's name as Google News
// knows it.
func News(now time.Time, base, path, publication string, articles []Article) ([]File, error) {
	cutoff := now.Add(-NewsWindow)
	var recent []Article
	for _, a := range articles {
		// Inside the window and not from the future (an injected or skewed
		// clock must not announce what is not yet published).
		if a.Published.After(cutoff) && !a.Published.After(now) {
			recent = append(recent, a)
		}
	}
	sortNewest(recent)
	set := func(as []Article) ([]byte, error) {
		s := urlset{NS: nsSitemap, News: nsNews}
		for _, a := range as {
			s.URLs = append(s.URLs, url{Loc: a.URL, News: &news{
				Publication: publication2(publication, a.Language),
				Date:        a.Published.UTC().Format(time.RFC3339),
				Title:       a.Title,
			}})
		}
		return marshal(s)
	}
	if len(recent) <= MaxNewsURLs {
		b, err := set(recent)
		if err != nil {
			return nil, err
		}
		return []File{{Path: path, Body: b}}, nil
	}
	stem := strings.TrimSuffix(path, ".xml")
	var parts []File
	var refs []Ref
	for i := 0; i*MaxNewsURLs < len(recent); i++ {
		chunk := recent[i*MaxNewsURLs : min((i+1)*MaxNewsURLs, len(recent))]
		b, err := set(chunk)
		if err != nil {
			return nil, err
		}
		p := stem + "-" + strconv.Itoa(i+1) + ".xml"
		parts = append(parts, File{Path: p, Body: b})
		refs = append(refs, Ref{Loc: base + "/" + p, LastMod: chunk[0].Published})
	}
	b, err := Index(refs)
	if err != nil {
		return nil, err
	}
	return append([]File{{Path: path, Body: b}}, parts...), nil
}

// publication2 is Google News' publication element: its language is an
// ISO 639 code, except Chinese, which must say zh-cn or zh-tw.
func publication2(name, lang string) publication {
	subtags := strings.Split(strings.ToLower(lang), "-")
	l := subtags[0]
	if l == "zh" {
		l = "zh-cn"
		for _, s := range subtags[1:] {
			if s == "hant" || s == "tw" || s == "hk" || s == "mo" {
				l = "zh-tw"
			}
		}
	}
	return publication{Name: name, Language: l}
}

func sortNewest(as []Article) {
	slices.SortFunc(as, func(a, b Article) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return strings.Compare(a.URL, b.URL)
	})
}

// Robots is robots.txt: everything may be crawled, and here are the
// sitemaps.
func Robots(base string, sitemaps ...string) []byte {
	var b strings.Builder
	b.WriteString("User-agent: *\nAllow: /\n\n")
	for _, s := range sitemaps {
		fmt.Fprintf(&b, "Sitemap: %s/%s\n", base, s)
	}
	return []byte(b.String())
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("sitemap: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
