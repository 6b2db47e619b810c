package rendering_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strings"
	"testing"
	"time"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/rendering/body"
	"github.com/newsroom/newsroom/services/rendering/internal/fixture"
	"github.com/newsroom/newsroom/services/rendering/page"
)

// baseline is the walking skeleton's article page: headline, byline and
// escaped paragraphs, nothing else. The full page (Markdown, sanitising,
// head metadata, JSON-LD) is measured against it.
var baseline = template.Must(template.New("").Parse(`<!DOCTYPE html><html lang="{{.Language}}"><head><meta charset="utf-8"><title>{{.Headline}}</title></head>
<body><main><article><h1>{{.Headline}}</h1>{{range .Bylines}}<p>{{.Name}}</p>{{end}}{{range .Paras}}<p>{{.}}</p>
{{end}}</article></main></body></html>`))

// BenchmarkArticlePage renders the seed article's page, and reports the
// ratio to the skeleton's bare page of the same article in the same run.
func BenchmarkArticlePage(b *testing.B) {
	site := page.Site{Name: "The Daily Test", BaseURL: "https://news.example", Language: "en"}
	a := fixture.Seed(b, site.BaseURL, "https://img.example/p.jpg")
	r := page.New(site)
	view := page.ArticleView{Article: a, Revision: 1, Alternates: []page.Alternate{{Language: "en", URL: a.Url, Self: true}, {Language: "es", URL: site.BaseURL + "/articles/x", Label: "Español"}}}
	data := map[string]any{"Language": a.Language, "Headline": a.Headline, "Bylines": a.Bylines, "Paras": body.Paragraphs(a.Body)}
	var full, bare time.Duration
	for b.Loop() {
		start := time.Now()
		var buf bytes.Buffer
		if err := baseline.Execute(&buf, data); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := r.Article(view); err != nil {
			b.Fatal(err)
		}
		bare += mid.Sub(start)
		full += time.Since(mid)
	}
	b.ReportMetric(float64(full.Nanoseconds())/float64(b.N), "page-ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(float64(full)/float64(bare), "x-baseline")
}

// The sizes of the two sites. The small one is big enough that its
// listings are full pages too, so the ratio isolates the site's size.
const (
	smallSite = 200
	largeSite = 2000
)

// BenchmarkPublishArticle publishes one new article (page, listings,
// feeds, sitemaps) into a site of largeSite articles, and reports the
// ratio to publishing the same article into a site of smallSite in the
// same run: with incremental rendering it stays near 1 however large the
// site grows.
func BenchmarkPublishArticle(b *testing.B) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	small := seeded(b, now, smallSite)
	large := seeded(b, now, largeSite)
	ctx := context.Background()
	publish := func(s *site, a *newsroomv1.Article) time.Duration {
		start := time.Now()
		if _, err := s.r.Handle(ctx, rendering.Request{Enriched: &newsroomv1.ArticleEnriched{ArticleId: a.Id, Revision: 1, Article: a}}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var inLarge, inSmall time.Duration
	i := 0
	for b.Loop() {
		i++
		a := fixture.Article(small.base, 100000+i, now.Add(-time.Duration(i)*time.Second))
		inSmall += publish(small, a)
		a = fixture.Article(large.base, 100000+i, now.Add(-time.Duration(i)*time.Second))
		inLarge += publish(large, a)
	}
	b.ReportMetric(float64(inLarge.Nanoseconds())/float64(b.N), "large-ns/op")
	b.ReportMetric(float64(inSmall.Nanoseconds())/float64(b.N), "small-ns/op")
	b.ReportMetric(float64(inLarge)/float64(inSmall), "x-small-site")
}

// seeded is a site with n articles, ten a day, in five sections, eight
// tags and seven authors.
func seeded(b *testing.B, now time.Time, n int) *site {
	b.Helper()
	s := newSite(b, now)
	err := s.r.Batch(context.Background(), func(handle func(rendering.Request) error) error {
		for i := range n {
			a := fixture.Article(s.base, i, now.Add(-time.Duration(i)*144*time.Minute))
			if err := handle(rendering.Request{Enriched: &newsroomv1.ArticleEnriched{ArticleId: a.Id, Revision: 1, Article: a}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if got := strings.Count(s.body("/"), `<li lang=`); got != min(n, 30) {
		b.Fatal(fmt.Sprintf("home lists %d articles", got))
	}
	return s
}
