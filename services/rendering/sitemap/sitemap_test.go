package sitemap_test

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsroom/newsroom/services/rendering/sitemap"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type urlset struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []struct {
		Loc  string `xml:"loc"`
		News struct {
			Publication struct {
				Name     string `xml:"name"`
				Language string `xml:"language"`
			} `xml:"publication"`
			Date  string `xml:"publication_date"`
			Title string `xml:"title"`
		} `xml:"http://www.google.com/schemas/sitemap-news/0.9 news"`
	} `xml:"url"`
}

type index struct {
	XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

func articles(n int, age func(i int) time.Duration) []sitemap.Article {
	out := make([]sitemap.Article, n)
	for i := range out {
		out[i] = sitemap.Article{URL: fmt.Sprintf("https://news.example/articles/a%04d", i), Title: fmt.Sprintf("A & %d", i), Language: "en", Published: now.Add(-age(i))}
	}
	return out
}

// TestNewsWindow: the injected clock decides; 47h59m in, 48h01m out, and
// nothing from the future.
func TestNewsWindow(t *testing.T) {
	in := sitemap.Article{URL: "https://news.example/articles/in", Title: "In", Language: "en", Published: now.Add(-(47*time.Hour + 59*time.Minute))}
	out := sitemap.Article{URL: "https://news.example/articles/out", Title: "Out", Language: "en", Published: now.Add(-(48*time.Hour + time.Minute))}
	future := sitemap.Article{URL: "https://news.example/articles/future", Title: "Future", Language: "zh-Hant", Published: now.Add(time.Hour)}
	zh := sitemap.Article{URL: "https://news.example/articles/zh", Title: "中文", Language: "zh-Hant-TW", Published: now.Add(-time.Hour)}
	files, err := sitemap.News(now, "https://news.example", "news-sitemap.xml", "The Daily Test", []sitemap.Article{out, in, future, zh})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "news-sitemap.xml" {
		t.Fatalf("files: %v", files)
	}
	var set urlset
	if err := xml.Unmarshal(files[0].Body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.URLs) != 2 || set.URLs[0].Loc != zh.URL || set.URLs[1].Loc != in.URL {
		t.Fatalf("URLs (newest first): %+v", set.URLs)
	}
	u := set.URLs[1]
	if u.News.Publication.Name != "The Daily Test" || u.News.Publication.Language != "en" || u.News.Title != "In" || u.News.Date != in.Published.Format(time.RFC3339) {
		t.Errorf("news element: %+v", u.News)
	}
	if set.URLs[0].News.Publication.Language != "zh-tw" {
		t.Errorf("Chinese language code %q, want zh-tw", set.URLs[0].News.Publication.Language)
	}
}

// TestNewsSplit: 1,000 fit one file; 1,001 give an index and two files.
func TestNewsSplit(t *testing.T) {
	minute := func(i int) time.Duration { return time.Duration(i) * time.Minute }
	files, err := sitemap.News(now, "https://news.example", "news-sitemap.xml", "T", articles(1000, minute))
	if err != nil || len(files) != 1 {
		t.Fatalf("1,000 articles: %d files, %v", len(files), err)
	}
	files, err = sitemap.News(now, "https://news.example", "news-sitemap.xml", "T", articles(1001, minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || files[0].Path != "news-sitemap.xml" || files[1].Path != "news-sitemap-1.xml" || files[2].Path != "news-sitemap-2.xml" {
		t.Fatalf("1,001 articles: %v", paths(files))
	}
	var ix index
	if err := xml.Unmarshal(files[0].Body, &ix); err != nil {
		t.Fatal(err)
	}
	if len(ix.Sitemaps) != 2 || ix.Sitemaps[0].Loc != "https://news.example/news-sitemap-1.xml" || ix.Sitemaps[1].Loc != "https://news.example/news-sitemap-2.xml" {
		t.Errorf("index: %+v", ix)
	}
	for i, want := range []int{1000, 1} {
		var set urlset
		if err := xml.Unmarshal(files[i+1].Body, &set); err != nil {
			t.Fatal(err)
		}
		if len(set.URLs) != want {
			t.Errorf("part %d: %d URLs, want %d", i+1, len(set.URLs), want)
		}
	}
	// Those outside the window do not count towards the split.
	old := articles(1001, func(i int) time.Duration {
		if i == 0 {
			return 49 * time.Hour
		}
		return minute(i)
	})
	if files, _ := sitemap.News(now, "https://news.example", "news-sitemap.xml", "T", old); len(files) != 1 {
		t.Errorf("1,000 in the window and 1 out: %d files", len(files))
	}
}

func TestChunksAndIndex(t *testing.T) {
	urls := make([]sitemap.URL, sitemap.MaxURLs+1)
	for i := range urls {
		urls[i] = sitemap.URL{Loc: fmt.Sprintf("https://news.example/%d", i), LastMod: now}
	}
	files, err := sitemap.Chunks("sitemaps/articles-2026-03", urls)
	if err != nil || len(files) != 2 || files[0].Path != "sitemaps/articles-2026-03-1.xml" {
		t.Fatalf("%v %v", paths(files), err)
	}
	if _, err := sitemap.URLSet(urls); err == nil {
		t.Error("URLSet accepted more than 50,000 URLs")
	}
	b, err := sitemap.URLSet(urls[:2])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<lastmod>2026-03-10T12:00:00Z</lastmod>") {
		t.Errorf("lastmod missing:\n%s", b)
	}
	var set urlset
	if err := xml.Unmarshal(b, &set); err != nil || len(set.URLs) != 2 {
		t.Errorf("%v %d", err, len(set.URLs))
	}
}

func TestRobots(t *testing.T) {
	got := string(sitemap.Robots("https://news.example", "sitemap.xml", "news-sitemap.xml"))
	want := "User-agent: *\nAllow: /\n\nSitemap: https://news.example/sitemap.xml\nSitemap: https://news.example/news-sitemap.xml\n"
	if got != want {
		t.Errorf("robots.txt:\n%s\nwant\n%s", got, want)
	}
}

func paths(fs []sitemap.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}
