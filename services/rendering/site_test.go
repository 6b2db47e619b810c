package rendering_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/net/html"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/rendering/internal/fixture"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// everywhere is every listing, feed and sitemap an article of the
// fixture generator can appear in.
func everywhere(s *site, a *newsroomv1.Article) map[string]string {
	sec := "/sections/" + strings.ToLower(a.Section)
	docs := map[string]string{}
	paths := []string{"/", "/feed.xml", "/atom.xml", sec, sec + "/feed.xml", sec + "/atom.xml",
		"/news-sitemap.xml", "/sitemaps/articles-" + a.CreatedAt.AsTime().Format("2006-01-02") + ".xml"}
	for _, tag := range a.Tags {
		paths = append(paths, "/tags/"+tag.Slug, "/tags/"+tag.Slug+"/feed.xml", "/tags/"+tag.Slug+"/atom.xml")
	}
	for _, b := range a.Bylines {
		sl := strings.ReplaceAll(strings.ToLower(b.Name), " ", "-")
		paths = append(paths, "/authors/"+sl, "/authors/"+sl+"/atom.xml")
	}
	for _, p := range paths {
		res, body := s.get(p)
		if res.StatusCode == http.StatusOK {
			docs[p] = body
		} else {
			docs[p] = ""
		}
	}
	return docs
}

// TestRevisionReplacesEverywhere: a new revision replaces the page and the
// entries in every listing, feed and sitemap; listings it left lose it
// (and disappear when empty); a late, older revision changes nothing.
func TestRevisionReplacesEverywhere(t *testing.T) {
	s := newSite(t, t0)
	a1 := fixture.Article(s.base, 1, t0.Add(-time.Hour))
	a1.Headline = "First headline"
	if ev := s.enrich(a1, 1); ev == nil || ev.Revision != 1 || ev.Url != s.base+"/articles/story-00001" {
		t.Fatalf("rendered event = %v", ev)
	}
	other := fixture.Article(s.base, 6, t0.Add(-2*time.Hour)) // shares the section of a1
	s.enrich(other, 1)
	before := everywhere(s, a1)
	for p, doc := range before {
		mustContain(t, p, doc, "story-00001")
	}

	a2 := proto.Clone(a1).(*newsroomv1.Article)
	a2.Headline = "Second headline"
	a2.Section = "Culture"
	a2.Tags = a2.Tags[:1]
	a2.UpdatedAt = timestamppb.New(t0.Add(-30 * time.Minute))
	if ev := s.enrich(a2, 2); ev == nil || ev.Revision != 2 {
		t.Fatalf("rendered event of revision 2 = %v", ev)
	}
	mustContain(t, "page", s.body("/articles/story-00001"), "Second headline")
	for p, doc := range everywhere(s, a2) {
		if strings.Contains(p, "sitemaps/") {
			mustContain(t, p, doc, "story-00001", "2026-03-10T11:30:00Z")
			continue
		}
		mustContain(t, p, doc, "Second headline")
		mustNotContain(t, p, doc, "First headline")
	}
	// It left Business (shared with story 6, which stays) and its second tag.
	business := s.body("/sections/business")
	mustNotContain(t, "/sections/business", business, "story-00001")
	mustContain(t, "/sections/business", business, "story-00006")
	if oldTag := a1.Tags[1].Slug; oldTag != a2.Tags[0].Slug && oldTag != other.Tags[0].Slug && oldTag != other.Tags[1].Slug {
		for _, p := range []string{"/tags/" + oldTag, "/tags/" + oldTag + "/feed.xml"} {
			if st := s.status(p); st != http.StatusNotFound {
				t.Errorf("%s of an emptied listing: %d, want 404", p, st)
			}
		}
	}

	// A late redelivery of revision 1 is stale: nothing changes and
	// nothing is announced.
	if ev := s.enrich(a1, 1); ev != nil {
		t.Errorf("stale revision announced: %v", ev)
	}
	mustContain(t, "page after stale", s.body("/articles/story-00001"), "Second headline")
	mustNotContain(t, "home after stale", s.body("/"), "First headline")
	// The same revision again (a redelivery) renders the same page.
	if ev := s.enrich(a2, 2); ev == nil {
		t.Error("redelivered current revision not announced again (its Nats-Msg-Id deduplicates it)")
	}
}

// TestRetractionLeavesEverywhere: a retracted article answers 410 with a
// notice and leaves every listing, feed and sitemap, while the others
// stay; no later event brings it back.
func TestRetractionLeavesEverywhere(t *testing.T) {
	s := newSite(t, t0)
	a := fixture.Article(s.base, 1, t0.Add(-time.Hour))
	b := fixture.Article(s.base, 6, t0.Add(-2*time.Hour)) // same section and first tag
	s.enrich(a, 1)
	s.enrich(b, 1)
	s.retract(a.Id, 2, "Legal advice.")

	res, notice := s.get("/articles/" + a.Id)
	if res.StatusCode != http.StatusGone {
		t.Fatalf("retracted article: %d, want 410", res.StatusCode)
	}
	mustContain(t, "410 notice", notice, "retracted", "Legal advice.", a.Headline, `name="robots" content="noindex"`)
	for p, doc := range everywhere(s, a) {
		mustNotContain(t, p, doc, "story-00001", a.Headline)
	}
	for _, p := range []string{"/", "/feed.xml", "/atom.xml", "/sections/business", "/news-sitemap.xml", "/sitemaps/articles-2026-03-10.xml"} {
		mustContain(t, p, s.body(p), "story-00006")
	}

	// Late events: an enriched revision after the retraction, and one
	// that raced it. Neither resurrects it.
	late := proto.Clone(a).(*newsroomv1.Article)
	late.Headline = "Resurrected?"
	for _, rev := range []int64{3, 1} {
		if ev := s.enrich(late, rev); ev != nil {
			t.Errorf("revision %d after the retraction announced: %v", rev, ev)
		}
	}
	if st := s.status("/articles/" + a.Id); st != http.StatusGone {
		t.Errorf("after late events: %d, want 410", st)
	}
	for p, doc := range everywhere(s, late) {
		mustNotContain(t, p, doc, "story-00001", "Resurrected?")
	}
	// A retraction redelivered keeps the first notice.
	s.retract(a.Id, 2, "Other words.")
	_, notice = s.get("/articles/" + a.Id)
	mustContain(t, "410 notice", notice, "Legal advice.")

	// Retracted before it was ever rendered: an enriched event that
	// arrives afterwards (out of order) must not publish it either.
	c := fixture.Article(s.base, 2, t0)
	s.retract(c.Id, 1, "Spiked.")
	if ev := s.enrich(c, 1); ev != nil {
		t.Errorf("enriched after retraction announced: %v", ev)
	}
	if st := s.status("/articles/" + c.Id); st != http.StatusGone {
		t.Errorf("retracted-first article: %d, want 410", st)
	}
	mustNotContain(t, "home", s.body("/"), c.Id)
}

// TestTranslationsAreReciprocal: hreflang links go both ways even when
// only one side names the other, and a retracted translation leaves its
// sibling's links.
func TestTranslationsAreReciprocal(t *testing.T) {
	s := newSite(t, fixture.SeedPublished.Add(time.Hour))
	s.enrich(fixture.Seed(t, s.base, s.base+"/media/p.jpg"), 1)
	en := "/articles/" + fixture.SeedID
	es := "/articles/" + fixture.SeedSpanishID
	// The Spanish page does not exist yet: no link to a 404.
	mustNotContain(t, "English page", s.body(en), `hreflang="es"`)
	s.enrich(fixture.SeedSpanish(s.base), 1)
	for _, p := range []string{en, es} {
		mustContain(t, p, s.body(p),
			`<link rel="alternate" hreflang="en" href="`+s.base+en+`">`,
			`<link rel="alternate" hreflang="es" href="`+s.base+es+`">`)
	}
	mustContain(t, "English page", s.body(en), "Leer en español")
	s.retract(fixture.SeedSpanishID, 2, "Translation withdrawn.")
	mustNotContain(t, "English page", s.body(en), `hreflang="es"`, "Leer en español")
}

// TestInjectionNeverReachesAPage is acceptance point 3 through the whole
// service: payloads in the body (HTML and Markdown) and in every field an
// editor or enrichment controls, on the article page, the listings and
// the feeds.
func TestInjectionNeverReachesAPage(t *testing.T) {
	s := newSite(t, t0)
	var ids []string
	// One batch: every article page at once, every listing once at the end.
	err := s.r.Batch(context.Background(), func(handle func(rendering.Request) error) error {
		for i, p := range fixture.Injections {
			for _, format := range []newsroomv1.BodyFormat{newsroomv1.BodyFormat_BODY_FORMAT_HTML, newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN} {
				a := fixture.Article(s.base, 100+i*2+int(format)%2, t0.Add(-time.Duration(i)*time.Minute))
				a.BodyFormat = format
				a.Body = "Intro.\n\n" + p + "\n\nOutro " + p
				a.Headline = "Headline " + p
				a.Dek = p
				a.Section = "News " + p
				a.Bylines = []*newsroomv1.Byline{{Name: "Writer " + p, Url: "javascript:alert(1)", Organization: p}}
				a.Tags = []*newsroomv1.Tag{{Name: p, Slug: p}}
				a.Images = []*newsroomv1.Image{{Url: "javascript:alert(1)//" + p}, {Url: s.base + "/media/x.jpg", Caption: p, Credit: p, Alt: p, Width: 10, Height: 10}}
				a.Correction = &newsroomv1.Correction{Note: p}
				a.Translations = []*newsroomv1.Translation{{Language: "es", Url: "javascript:alert(1)", Label: p}, {Language: "fr", Url: "https://fr.example/" + p, Label: p}}
				a.CanonicalUrl = "javascript:alert(1)"
				if err := handle(rendering.Request{Enriched: &newsroomv1.ArticleEnriched{ArticleId: a.Id, Revision: 1, Article: a}}); err != nil {
					return err
				}
				ids = append(ids, fmt.Sprintf("%s payload %d (%s)", a.Id, i, format))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, desc := range ids {
		id, _, _ := strings.Cut(desc, " ")
		if err := fixture.CheckSafe(s.body("/articles/"+id), jsonLD(t)); err != nil {
			t.Errorf("%s reached the page: %v", desc, err)
		}
	}
	for _, p := range []string{"/", "/sections/news", "/authors/writer"} {
		if res, doc := s.get(p); res.StatusCode == http.StatusOK {
			if err := fixture.CheckSafe(doc, jsonLD(t)); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
	// Feeds are XML: a payload must stay text, which a parser proves by
	// finding no element of the payload's name.
	for _, p := range []string{"/feed.xml", "/atom.xml"} {
		doc := s.body(p)
		if strings.Contains(doc, "<script") || strings.Contains(doc, "<img") {
			t.Errorf("%s carries markup from a payload", p)
		}
	}
}

// jsonLD accepts a script element only if it is JSON-LD that parses as
// JSON, so it cannot run.
func jsonLD(t *testing.T) func(n *html.Node) bool {
	return func(n *html.Node) bool {
		typ := ""
		for _, a := range n.Attr {
			if a.Key == "type" {
				typ = a.Val
			}
		}
		if typ != "application/ld+json" || n.FirstChild == nil || n.FirstChild.NextSibling != nil {
			return false
		}
		var v any
		if err := json.Unmarshal([]byte(n.FirstChild.Data), &v); err != nil {
			t.Errorf("JSON-LD does not parse: %v", err)
			return false
		}
		return true
	}
}

// TestServing: content types, ETag and Last-Modified with 304s, gzip,
// the 301 from a slugged URL, robots.txt, and nothing internal served.
func TestServing(t *testing.T) {
	s := newSite(t, fixture.SeedPublished.Add(time.Hour))
	s.enrich(fixture.Seed(t, s.base, s.base+"/media/p.jpg"), 1)
	page := "/articles/" + fixture.SeedID
	types := map[string]string{
		page:                    "text/html; charset=utf-8",
		"/":                     "text/html; charset=utf-8",
		"/tags/parler":          "text/html; charset=utf-8",
		"/feed.xml":             "application/rss+xml; charset=utf-8",
		"/atom.xml":             "application/atom+xml; charset=utf-8",
		"/tags/parler/feed.xml": "application/rss+xml; charset=utf-8",
		"/sitemap.xml":          "application/xml; charset=utf-8",
		"/news-sitemap.xml":     "application/xml; charset=utf-8",
		"/sitemaps/pages.xml":   "application/xml; charset=utf-8",
		"/robots.txt":           "text/plain; charset=utf-8",
		"/assets/site.css":      "text/css; charset=utf-8",
		"/assets/logo.png":      "image/png",
	}
	for p, want := range types {
		res, _ := s.get(p)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: %d %q, want 200 %q", p, res.StatusCode, res.Header.Get("Content-Type"), want)
		}
	}
	mustContain(t, "robots.txt", s.body("/robots.txt"), "User-agent: *", "Sitemap: "+s.base+"/sitemap.xml", "Sitemap: "+s.base+"/news-sitemap.xml")

	res, body := s.get(page)
	etag, lm := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	if etag == "" || lm == "" {
		t.Fatalf("no validators: ETag %q Last-Modified %q", etag, lm)
	}
	for _, h := range [][]string{{"If-None-Match", etag}, {"If-None-Match", "W/" + etag}, {"If-Modified-Since", lm}} {
		if res, b := s.get(page, h...); res.StatusCode != http.StatusNotModified || b != "" {
			t.Errorf("%s: %s: %d, want 304 without a body", h[0], h[1], res.StatusCode)
		}
	}
	if res, _ := s.get(page, "If-None-Match", `"other"`); res.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match of another version: %d, want 200", res.StatusCode)
	}
	if res, _ := s.get(page, "If-Modified-Since", time.Unix(0, 0).UTC().Format(http.TimeFormat)); res.StatusCode != http.StatusOK {
		t.Errorf("If-Modified-Since long ago: %d, want 200", res.StatusCode)
	}

	res, zipped := s.get(page, "Accept-Encoding", "gzip, br")
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip not served: %v", res.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, []byte(body)) {
		t.Errorf("gzip body differs from the page (%v)", err)
	}
	if len(zipped) >= len(body)/2 {
		t.Errorf("gzip saved little: %d of %d bytes", len(zipped), len(body))
	}
	if res, _ := s.get(page, "Accept-Encoding", "gzip", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET of the gzip variant: %d", res.StatusCode)
	}

	// Slugged links answer 301 to the one URL ingest handed out, which
	// answers 200.
	for _, p := range []string{page + "/parler-sues-amazon-for-taking-down-its-servers", page + "/an-old-slug", page + "/"} {
		res, _ := s.get(p)
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != s.base+page {
			t.Errorf("GET %s: %d Location %q, want 301 to %s", p, res.StatusCode, res.Header.Get("Location"), s.base+page)
		}
	}
	for _, p := range []string{"/articles/nope", "/articles/nope/slug", "/_sources/" + fixture.SeedID, "/articles/UPPER", "/tags/nope", "/tags/parler/other.xml", "/whatever.xml"} {
		if st := s.status(p); st != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, st)
		}
	}
}

// TestConsumer runs the service's own consumer on the real stream: an
// enriched event becomes a page and a rendered event, a retraction a 410
// and no rendered event.
func TestConsumer(t *testing.T) {
	s := newSite(t, t0)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.r.Run(ctx, s.nc, bus.RunOptions{Ready: ready}) }()
	t.Cleanup(func() { cancel(); <-done })
	<-ready

	pub := bus.NewPublisher(s.js, noop.NewTracerProvider())
	a := fixture.Article(s.base, 1, t0.Add(-time.Hour))
	publish := func(event string, m proto.Message, rev int64) {
		t.Helper()
		if _, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(event, a.Id), MsgID: bus.MsgID(a.Id, rev, event), Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	publish(bus.EventEnriched, &newsroomv1.ArticleEnriched{EventId: "e1", ArticleId: a.Id, Revision: 1, OccurredAt: timestamppb.New(t0), Article: a}, 1)
	waitFor(t, func() bool { return s.status("/articles/"+a.Id) == http.StatusOK })
	waitFor(t, func() bool { return countSubject(t, s, bus.Subject(bus.EventRendered, a.Id)) == 1 })
	// "rendered" goes out once the page is stored, before the listings
	// (what the social posts wait for is the page alone); the message is
	// acked only once the listings are written too.
	waitFor(t, func() bool { return pendingAcks(t, s) == 0 })
	mustContain(t, "home page once acked", s.body("/"), a.Id)
	obj, err := s.js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		t.Fatal(err)
	}
	pageInfo, err := obj.GetInfo(ctx, "articles/"+a.Id)
	if err != nil {
		t.Fatal(err)
	}
	homeInfo, err := obj.GetInfo(ctx, "index")
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := st.GetLastMsgForSubject(ctx, bus.Subject(bus.EventRendered, a.Id))
	if err != nil {
		t.Fatal(err)
	}
	if !pageInfo.ModTime.Before(ev.Time) || !ev.Time.Before(homeInfo.ModTime) {
		t.Errorf("page stored %s, rendered published %s, home page stored %s: want that order",
			pageInfo.ModTime.Format(time.StampMicro), ev.Time.Format(time.StampMicro), homeInfo.ModTime.Format(time.StampMicro))
	}

	publish(bus.EventRetracted, &newsroomv1.ArticleRetracted{EventId: "r2", ArticleId: a.Id, Revision: 2, OccurredAt: timestamppb.New(t0), Reason: "Pulled."}, 2)
	waitFor(t, func() bool { return s.status("/articles/"+a.Id) == http.StatusGone })
	// The notice goes up first, then the listings are rendered without it.
	waitFor(t, func() bool { return !strings.Contains(s.body("/"), a.Id) })
	if n := countSubject(t, s, bus.Subject(bus.EventRendered, a.Id)); n != 1 {
		t.Errorf("%d rendered events, want 1 (a retraction announces nothing)", n)
	}
}

// pendingAcks is how many messages rendering's consumer has not acked.
func pendingAcks(t *testing.T, s *site) int {
	t.Helper()
	c, err := s.js.Consumer(context.Background(), bus.StreamName, rendering.Name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.NumAckPending + int(info.NumPending)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countSubject(t *testing.T, s *site, subject string) int {
	t.Helper()
	st, err := s.js.Stream(context.Background(), bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Subjects[subject])
}

// TestNewsSitemapWindow: with an injected clock, an article published
// 47h59m ago is in the News sitemap and one published 48h01m ago is not;
// as time passes the refresh drops the first too.
func TestNewsSitemapWindow(t *testing.T) {
	s := newSite(t, t0)
	in := fixture.Article(s.base, 1, t0.Add(-(47*time.Hour + 59*time.Minute)))
	out := fixture.Article(s.base, 2, t0.Add(-(48*time.Hour + time.Minute)))
	s.enrich(in, 1)
	s.enrich(out, 1)
	news := s.body("/news-sitemap.xml")
	mustContain(t, "news sitemap", news, in.Id, "<news:publication_date>"+in.CreatedAt.AsTime().Format(time.RFC3339))
	mustNotContain(t, "news sitemap", news, out.Id)
	// Both are in the ordinary sitemap, which keeps everything.
	daily := s.body("/sitemaps/articles-2026-03-08.xml")
	mustContain(t, "sitemap", daily, in.Id, out.Id)
	mustContain(t, "sitemap index", s.body("/sitemap.xml"), s.base+"/sitemaps/articles-2026-03-08.xml", s.base+"/sitemaps/pages.xml")

	s.clock.Set(t0.Add(2 * time.Minute))
	if err := s.r.RefreshNews(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustNotContain(t, "news sitemap two minutes later", s.body("/news-sitemap.xml"), in.Id)
}

// TestNewsSitemapSplits: 1,001 articles in the window give an index and
// two files of 1,000 and 1, through the service; when they fall back to
// 1,000 the parts go away.
func TestNewsSitemapSplits(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 1,001 articles")
	}
	s := newSite(t, t0)
	r, err := rendering.New(context.Background(), rendering.Deps{JS: s.js}, rendering.Config{Site: s.r.Site(), Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Publish in one batch: each listing rendered once, as a rebuild does.
	err = r.Batch(context.Background(), func(handle func(rendering.Request) error) error {
		for i := range 1001 {
			a := fixture.Article(s.base, i, t0.Add(-time.Duration(i)*time.Minute))
			a.Tags, a.Bylines = nil, nil
			if err := handle(rendering.Request{Enriched: &newsroomv1.ArticleEnriched{ArticleId: a.Id, Revision: 1, Article: a}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	index := s.body("/news-sitemap.xml")
	mustContain(t, "news index", index, "<sitemapindex", s.base+"/news-sitemap-1.xml", s.base+"/news-sitemap-2.xml")
	mustNotContain(t, "news index", index, "news-sitemap-3.xml")
	if n := strings.Count(s.body("/news-sitemap-1.xml"), "<url>"); n != 1000 {
		t.Errorf("first part has %d URLs, want 1000", n)
	}
	part2 := s.body("/news-sitemap-2.xml")
	if n := strings.Count(part2, "<url>"); n != 1 {
		t.Errorf("second part has %d URLs, want 1", n)
	}
	mustContain(t, "second part", part2, "story-01000") // the oldest
	s.retract("story-00500", 2, "")
	if !strings.Contains(s.body("/news-sitemap.xml"), "<urlset") {
		t.Error("1,000 articles should fit one News sitemap")
	}
	for _, p := range []string{"/news-sitemap-1.xml", "/news-sitemap-2.xml"} {
		if st := s.status(p); st != http.StatusNotFound {
			t.Errorf("%s left behind: %d", p, st)
		}
	}
	if n := strings.Count(s.body("/news-sitemap.xml"), "<url>"); n != 1000 {
		t.Errorf("News sitemap has %d URLs, want 1000", n)
	}
}

// TestServedFeedsParse: the feeds the service publishes parse with a real
// feed reader and list the articles newest first.
func TestServedFeedsParse(t *testing.T) {
	s := newSite(t, fixture.SeedPublished.Add(3*time.Hour))
	s.enrich(fixture.Seed(t, s.base, s.base+"/media/p.jpg"), 1)
	s.enrich(fixture.SeedSpanish(s.base), 1)
	for _, p := range []string{"/feed.xml", "/atom.xml", "/tags/parler/feed.xml", "/tags/parler/atom.xml", "/authors/emmanuel-alejandro-rondon/feed.xml", "/sections/technology/atom.xml"} {
		f, err := gofeed.NewParser().ParseString(s.body(p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if len(f.Items) == 0 || f.Items[len(f.Items)-1].Link != s.base+"/articles/"+fixture.SeedID {
			t.Errorf("%s: items %v", p, f.Items)
		}
		if len(f.Items) == 2 && f.Items[0].Link != s.base+"/articles/"+fixture.SeedSpanishID {
			t.Errorf("%s: not newest first", p)
		}
	}
}

// A page replaced while readers fetch it (the home page on a busy site) is
// served whole, old or new, never as an error: a read that lost the old
// version's chunks to the replacement reads again.
func TestPageServedWhileReplaced(t *testing.T) {
	s := newSite(t, t0)
	ctx := context.Background()
	store, err := s.js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		t.Fatal(err)
	}
	put := func(i int) {
		// Large enough for several chunks, so a read can straddle a purge.
		doc := strings.Repeat(fmt.Sprintf("<p>version %d</p>\n", i), 20000)
		if _, err := store.Put(ctx, jetstream.ObjectMeta{Name: "index",
			Headers: nats.Header{"Content-Type": []string{"text/html; charset=utf-8"}}}, strings.NewReader(doc)); err != nil {
			t.Error(err)
		}
	}
	put(0)
	stop := make(chan struct{})
	writer := make(chan struct{})
	// Ten replacements a second, far more than a busy site's home page
	// gets, yet slower than a read: a page replaced faster than it can be
	// read could never be served whole by any reader.
	go func() {
		defer close(writer)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				put(i)
			}
		}
	}()
	defer func() { close(stop); <-writer }()
	for range 30 {
		res, body := s.get("/")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET / while it is replaced: %d %s", res.StatusCode, body)
		}
		if n := strings.Count(body, "<p>version "); n != 20000 {
			t.Fatalf("GET / served a torn page: %d paragraphs", n)
		}
	}
}
