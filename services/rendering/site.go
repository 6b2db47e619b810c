package rendering

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"google.golang.org/protobuf/proto"

	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering/feed"
	"github.com/newsroom/newsroom/services/rendering/page"
	"github.com/newsroom/newsroom/services/rendering/sitemap"
)

// Object names in the site bucket are the URL paths without the leading
// slash; the home page is "index". Objects under sourcePrefix are the
// articles as last rendered (for re-rendering a translation's page when
// its sibling changes) and are never served.
const (
	homeKey       = "index"
	sourcePrefix  = "_sources/"
	sitemapKey    = "sitemap.xml"
	pagesSitemap  = "sitemaps/pages"
	newsKey       = "news-sitemap.xml"
	robotsKey     = "robots.txt"
	contentHTML   = "text/html; charset=utf-8"
	contentXML    = "application/xml; charset=utf-8"
	contentRSS    = "application/rss+xml; charset=utf-8"
	contentAtom   = "application/atom+xml; charset=utf-8"
	contentText   = "text/plain; charset=utf-8"
	contentCSS    = "text/css; charset=utf-8"
	contentPNG    = "image/png"
	maxSiblings   = 16
	stableRetries = 8
)

func articleKey(id string) string { return "articles/" + id }
func sourceKey(id string) string  { return sourcePrefix + id }

// dayKey is the stem of the sitemap of the articles published on a UTC
// day (YYYYMMDD): sitemaps/articles-YYYY-MM-DD. A day's sitemap is built
// from at most 24 index reads, however large the site.
func dayKey(day string) string {
	return "sitemaps/articles-" + day[:4] + "-" + day[4:6] + "-" + day[6:8]
}

// objectKey is the object of a listing page or feed.
func listingObject(l page.Listing, feedName string) string {
	if feedName != "" {
		return strings.TrimPrefix(l.FeedPath(feedName), "/")
	}
	if l.Kind == page.KindHome {
		return homeKey
	}
	return strings.TrimPrefix(l.Path(), "/")
}

// touched is what an event changed and must be re-rendered.
type touched struct {
	listings map[string]bool
	days     map[string]bool
	// articles are pages to render again from their stored source (their
	// translations changed); pages are a batch's article pages put off
	// until every event is in the index, so that each is rendered once,
	// with all its translations.
	articles     map[string]bool
	pages        map[string]pending
	news         bool
	pagesSitemap bool
	sitemapIndex bool
}

// pending is an article page a batch renders at its end.
type pending struct {
	article  *newsroomv1.Article
	revision int64
}

func newTouched() *touched {
	return &touched{listings: map[string]bool{}, days: map[string]bool{}, articles: map[string]bool{}, pages: map[string]pending{}}
}

func (t *touched) merge(o *touched) {
	maps.Copy(t.listings, o.listings)
	maps.Copy(t.days, o.days)
	maps.Copy(t.articles, o.articles)
	for id, p := range o.pages {
		if p.revision >= t.pages[id].revision {
			t.pages[id] = p
		}
	}
	t.news = t.news || o.news
	t.pagesSitemap = t.pagesSitemap || o.pagesSitemap
	t.sitemapIndex = t.sitemapIndex || o.sitemapIndex
}

// flush renders what t names, or adds it to the batch being collected.
func (r *Rendering) flush(ctx context.Context, t *touched) error {
	r.mu.Lock()
	if r.batch != nil {
		r.batch.merge(t)
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	return r.render(ctx, t)
}

// renderParallel bounds how many of an event's listings and sitemaps
// render at once. Each is a few round trips to the index and the bucket
// and writes only its own objects, retrying until what it read is stable,
// so they need no order among themselves: an article with a dozen tags
// and two authors goes live in the time of a few listings, not of all.
const renderParallel = 8

func (r *Rendering) render(ctx context.Context, t *touched) error {
	if err := r.renderPages(ctx, t); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(renderParallel)
	for _, l := range slices.Sorted(maps.Keys(t.listings)) {
		g.Go(func() error { return r.renderListing(gctx, l) })
	}
	for _, d := range slices.Sorted(maps.Keys(t.days)) {
		g.Go(func() error { return r.renderDay(gctx, d) })
	}
	if t.sitemapIndex || t.pagesSitemap {
		g.Go(func() error { return r.renderSitemapIndex(gctx) })
	}
	if t.pagesSitemap {
		g.Go(func() error { return r.renderPagesSitemap(gctx) })
	}
	if t.news {
		g.Go(func() error { return r.renderNews(gctx) })
	}
	return g.Wait()
}

// put stores an object unless the bucket already holds the same bytes with
// the same metadata, so that a re-render of unchanged output keeps its
// Last-Modified and costs no write.
func (r *Rendering) put(ctx context.Context, key, contentType string, body []byte, meta map[string]string) error {
	sum := sha256.Sum256(body)
	digest := "SHA-256=" + base64.URLEncoding.EncodeToString(sum[:])
	if info, err := r.site.GetInfo(ctx, key); err == nil {
		if info.Digest == digest && maps.Equal(info.Metadata, meta) && info.Headers.Get("Content-Type") == contentType {
			return nil
		}
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("site %s: %w", key, err)
	}
	_, err := r.site.Put(ctx, jetstream.ObjectMeta{
		Name:     key,
		Headers:  nats.Header{"Content-Type": []string{contentType}},
		Metadata: meta,
	}, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("site %s: %w", key, err)
	}
	return nil
}

func (r *Rendering) remove(ctx context.Context, key string) error {
	err := r.site.Delete(ctx, key)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("site %s: %w", key, err)
	}
	return nil
}

// pageMeta is what an article page object says of itself.
type pageMeta struct {
	revision int64
	status   int
}

func (r *Rendering) pageMeta(ctx context.Context, id string) (pageMeta, error) {
	info, err := r.site.GetInfo(ctx, articleKey(id))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return pageMeta{}, nil
	}
	if err != nil {
		return pageMeta{}, fmt.Errorf("page of %s: %w", id, err)
	}
	rev, _ := strconv.ParseInt(info.Metadata["revision"], 10, 64)
	status, _ := strconv.Atoi(info.Metadata["status"])
	return pageMeta{revision: rev, status: status}, nil
}

func (r *Rendering) saveSource(ctx context.Context, a *newsroomv1.Article) error {
	// Deterministic: the evidence is a map, which protobuf otherwise
	// encodes in a random order, and put skips only identical bytes (a
	// rebuild of an unchanged site wrote every source again).
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	if err != nil {
		return fmt.Errorf("article %s: %w", a.Id, err)
	}
	return r.put(ctx, sourceKey(a.Id), "application/protobuf", b, nil)
}

func (r *Rendering) loadSource(ctx context.Context, id string) (*newsroomv1.Article, error) {
	b, err := r.site.GetBytes(ctx, sourceKey(id))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("article %s: %w", id, err)
	}
	var a newsroomv1.Article
	if err := proto.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("article %s: stored source: %w", id, err)
	}
	return &a, nil
}

// renderArticle writes an article's page, unless the bucket already holds
// a newer revision or the retraction notice. It returns the translation
// cluster the page links to, and whether it rendered the page.
func (r *Rendering) renderArticle(ctx context.Context, a *newsroomv1.Article, revision int64, links []string) ([]string, bool, error) {
	cur, err := r.pageMeta(ctx, a.Id)
	if err != nil {
		return nil, false, err
	}
	return r.renderArticleOver(ctx, cur, a, revision, links)
}

// renderArticleOver is renderArticle with the page's meta read already.
func (r *Rendering) renderArticleOver(ctx context.Context, cur pageMeta, a *newsroomv1.Article, revision int64, links []string) ([]string, bool, error) {
	if cur.status == http.StatusGone || cur.revision > revision {
		return nil, false, nil
	}
	alts, siblings, err := r.alternates(ctx, a, links)
	if err != nil {
		return nil, false, err
	}
	html, err := r.pages.Article(page.ArticleView{Article: a, Revision: revision, Alternates: alts})
	if err != nil {
		return nil, false, err
	}
	return siblings, true, r.put(ctx, articleKey(a.Id), contentHTML, html, map[string]string{
		"revision": strconv.FormatInt(revision, 10), "status": "200"})
}

// renderPages renders the article pages t names, each live one once,
// with its translations as the index has them now, and takes them out
// of t.
func (r *Rendering) renderPages(ctx context.Context, t *touched) error {
	ids := slices.Sorted(maps.Keys(t.articles))
	for id := range t.pages {
		if !t.articles[id] {
			ids = append(ids, id)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(renderParallel)
	for _, id := range ids {
		g.Go(func() error {
			rec, _, found, err := getJSON[record](gctx, r.index, recordKey(id))
			if err != nil || !found || !rec.live() {
				return err
			}
			a := t.pages[id].article
			if a == nil || t.pages[id].revision != rec.Revision {
				if a, err = r.loadSource(gctx, id); err != nil || a == nil {
					return err
				}
			}
			_, _, err = r.renderArticle(gctx, a, rec.Revision, rec.Translations)
			return err
		})
	}
	err := g.Wait()
	clear(t.articles)
	clear(t.pages)
	return err
}

func (r *Rendering) renderGone(ctx context.Context, id string, rec *record) error {
	g := page.GoneView{ID: id, Reason: rec.Reason, At: rec.GoneAt}
	if rec.Entry != nil {
		g.Headline = rec.Entry.Headline
	}
	html, err := r.pages.Gone(g)
	if err != nil {
		return err
	}
	return r.put(ctx, articleKey(id), contentHTML, html, map[string]string{
		"revision": strconv.FormatInt(rec.Revision, 10), "status": "410"})
}

// cluster is the set of live articles here linked to id as translations,
// either way, up to maxSiblings: every page in it lists all the others.
func (r *Rendering) cluster(ctx context.Context, id string, links []string) ([]string, error) {
	seen := map[string]bool{id: true}
	queue := append([]string{}, links...)
	back, _, _, err := getJSON[[]string](ctx, r.index, xrefKey(id))
	if err != nil {
		return nil, err
	}
	queue = append(queue, back...)
	var out []string
	for len(queue) > 0 && len(out) < maxSiblings {
		next := queue[0]
		queue = queue[1:]
		if seen[next] {
			continue
		}
		seen[next] = true
		rec, _, found, err := getJSON[record](ctx, r.index, recordKey(next))
		if err != nil {
			return nil, err
		}
		if !found || !rec.live() {
			continue
		}
		out = append(out, next)
		queue = append(queue, rec.Translations...)
		back, _, _, err := getJSON[[]string](ctx, r.index, xrefKey(next))
		if err != nil {
			return nil, err
		}
		queue = append(queue, back...)
	}
	slices.Sort(out)
	return out, nil
}

// alternates are the hreflang versions of a: itself, its translations
// here (both directions, so the links are reciprocal) and the ones
// elsewhere it names. One per language. It returns the cluster too.
func (r *Rendering) alternates(ctx context.Context, a *newsroomv1.Article, links []string) ([]page.Alternate, []string, error) {
	self := page.EntryOf(r.cfg.Site, a)
	out := []page.Alternate{{Language: self.Language, URL: self.URL, Self: true}}
	have := map[string]bool{strings.ToLower(self.Language): true}
	add := func(lang, url, label string) {
		if !page.ValidLanguage(lang) || have[strings.ToLower(lang)] || url == "" {
			return
		}
		have[strings.ToLower(lang)] = true
		if label == "" {
			label = languageName(lang)
		}
		out = append(out, page.Alternate{Language: lang, URL: url, Label: label})
	}
	siblings, err := r.cluster(ctx, a.Id, links)
	if err != nil {
		return nil, nil, err
	}
	labels := map[string]string{}
	for _, tr := range a.Translations {
		if tr != nil && tr.ArticleId != "" {
			labels[tr.ArticleId] = tr.Label
		}
	}
	for _, s := range siblings {
		rec, _, _, err := getJSON[record](ctx, r.index, recordKey(s))
		if err != nil {
			return nil, nil, err
		}
		if rec.live() {
			add(rec.Entry.Language, rec.Entry.URL, labels[s])
		}
	}
	for _, tr := range a.Translations {
		if tr == nil || tr.ArticleId != "" {
			continue
		}
		if u := strings.TrimSpace(tr.Url); strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			add(tr.Language, u, tr.Label)
		}
	}
	if len(out) > 1 {
		slices.SortStableFunc(out[1:], func(x, y page.Alternate) int { return strings.Compare(x.Language, y.Language) })
	}
	return out, siblings, nil
}

// languageName is a language's name in itself ("español"), for links that
// a reader of that language will look for.
func languageName(lang string) string {
	t, err := language.Parse(lang)
	if err != nil {
		return lang
	}
	if n := display.Self.Name(t); n != "" {
		return n
	}
	return lang
}

// renderListing renders a listing page and its feeds from the index, again
// until the listing did not change while it was being rendered, so the
// last writer always leaves the current listing in the bucket. A listing
// that became empty is removed (the home page stays, empty).
func (r *Rendering) renderListing(ctx context.Context, key string) error {
	l, ok := page.ParseListingKey(key)
	if !ok {
		return fmt.Errorf("listing %q: not a listing", key)
	}
	return r.untilStable(ctx, key, "listing "+key, func(m listMeta, found bool) error {
		if !found && l.Kind != page.KindHome {
			for _, k := range []string{listingObject(l, ""), listingObject(l, page.PathRSS), listingObject(l, page.PathAtom)} {
				if err := r.remove(ctx, k); err != nil {
					return err
				}
			}
			return nil
		}
		return r.writeListing(ctx, l, m)
	})
}

func (r *Rendering) writeListing(ctx context.Context, l page.Listing, m listMeta) error {
	entries, err := r.newest(ctx, l.Key(), m, r.cfg.ListingSize)
	if err != nil {
		return err
	}
	html, err := r.pages.Listing(page.ListingView{Listing: l, Title: m.Title, Entries: entries})
	if err != nil {
		return err
	}
	if err := r.put(ctx, listingObject(l, ""), contentHTML, html, nil); err != nil {
		return err
	}
	f := r.feedOf(l, m.Title, entries)
	f.Self = r.cfg.Site.URL(l.FeedPath(page.PathRSS))
	rss, err := feed.RSS(f)
	if err != nil {
		return err
	}
	if err := r.put(ctx, listingObject(l, page.PathRSS), contentRSS, rss, nil); err != nil {
		return err
	}
	f.Self = r.cfg.Site.URL(l.FeedPath(page.PathAtom))
	atom, err := feed.Atom(f)
	if err != nil {
		return err
	}
	return r.put(ctx, listingObject(l, page.PathAtom), contentAtom, atom, nil)
}

func (r *Rendering) feedOf(l page.Listing, title string, entries []page.Entry) feed.Feed {
	site := r.cfg.Site
	f := feed.Feed{
		Title:       site.Name,
		Description: site.Description,
		Link:        site.URL(l.Path()),
		Language:    site.Language,
		Author:      site.Name,
		// An empty feed has no item to date it; a fixed time keeps its
		// bytes (and ETag) stable.
		Fallback: time.Unix(0, 0),
	}
	if l.Kind != page.KindHome {
		f.Title = title + " | " + site.Name
		f.Description = l.Kind.Label() + ": " + title
	}
	if f.Description == "" {
		f.Description = "The latest news from " + site.Name
	}
	for _, e := range entries {
		it := feed.Item{ID: e.ID, URL: e.URL, Title: e.Headline, Summary: e.Dek, Published: e.Published, Updated: e.Updated}
		for _, a := range e.Authors {
			it.Authors = append(it.Authors, feed.Author{Name: a.Name, URL: site.URL(page.Listing{Kind: page.KindAuthor, Slug: a.Slug}.Path())})
		}
		for _, t := range e.Tags {
			it.Categories = append(it.Categories, t.Name)
		}
		f.Items = append(f.Items, it)
	}
	return f
}

// untilStable runs render with the listing's meta, again while the meta's
// revision moved during the run (another event changed the listing), so
// the last writer always leaves output of the current listing. what names
// the output in the error after stableRetries.
func (r *Rendering) untilStable(ctx context.Context, listing, what string, render func(m listMeta, found bool) error) error {
	for range stableRetries {
		m, rev, found, err := getJSON[listMeta](ctx, r.index, listKey(listing))
		if err != nil {
			return err
		}
		if err := render(m, found); err != nil {
			return err
		}
		_, now, _, err := getJSON[listMeta](ctx, r.index, listKey(listing))
		if err != nil {
			return err
		}
		if now == rev {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", what, errConflict)
}

// renderDay writes the sitemap of the articles published on one UTC day,
// from the home listing's shards of that day.
func (r *Rendering) renderDay(ctx context.Context, day string) error {
	home := string(page.KindHome)
	return r.untilStable(ctx, home, "sitemap of "+day, func(listMeta, bool) error {
		entries, err := r.onDays(ctx, home, []string{day})
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return r.remove(ctx, dayKey(day)+".xml")
		}
		urls := make([]sitemap.URL, len(entries))
		for i, e := range entries {
			urls[i] = sitemap.URL{Loc: e.URL, LastMod: e.Updated}
		}
		files, err := sitemap.Chunks(dayKey(day), urls)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := r.put(ctx, f.Path, contentXML, f.Body, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// dayFiles are the sitemap files of a day with n articles.
func dayFiles(day string, n int) []string {
	if n <= sitemap.MaxURLs {
		return []string{dayKey(day) + ".xml"}
	}
	var out []string
	for i := 0; i*sitemap.MaxURLs < n; i++ {
		out = append(out, dayKey(day)+"-"+strconv.Itoa(i+1)+".xml")
	}
	return out
}

// renderSitemapIndex writes sitemap.xml: the listing pages' sitemap and
// one sitemap per day with articles. It changes only when a day gains its
// first article or loses its last, so it carries no lastmod: the day
// sitemaps date each article themselves.
func (r *Rendering) renderSitemapIndex(ctx context.Context) error {
	home := string(page.KindHome)
	return r.untilStable(ctx, home, "sitemap index", func(m listMeta, _ bool) error {
		refs := []sitemap.Ref{{Loc: r.cfg.Site.URL("/" + pagesSitemap + ".xml")}}
		for _, month := range m.months() {
			days, _, _, err := getJSON[monthDays](ctx, r.index, daysKey(home, month))
			if err != nil {
				return err
			}
			for _, d := range days.days() {
				for _, f := range dayFiles(d, days[d].N) {
					refs = append(refs, sitemap.Ref{Loc: r.cfg.Site.URL("/" + f)})
				}
			}
		}
		b, err := sitemap.Index(refs)
		if err != nil {
			return err
		}
		return r.put(ctx, sitemapKey, contentXML, b, nil)
	})
}

// renderPagesSitemap writes the sitemap of the listing pages. It changes
// only when a listing appears or disappears.
func (r *Rendering) renderPagesSitemap(ctx context.Context) error {
	lister, err := r.index.ListKeysFiltered(ctx, "list.>")
	if err != nil {
		return fmt.Errorf("listings: %w", err)
	}
	var paths []string
	for k := range lister.Keys() {
		if l, ok := page.ParseListingKey(strings.TrimPrefix(k, "list.")); ok {
			paths = append(paths, l.Path())
		}
	}
	if !slices.Contains(paths, "/") {
		paths = append(paths, "/")
	}
	slices.Sort(paths)
	urls := make([]sitemap.URL, 0, len(paths))
	for _, p := range paths {
		urls = append(urls, sitemap.URL{Loc: r.cfg.Site.URL(p)})
	}
	files, err := sitemap.Chunks(pagesSitemap, urls[:min(len(urls), sitemap.MaxURLs)])
	if err != nil {
		return err
	}
	return r.put(ctx, files[0].Path, contentXML, files[0].Body, nil)
}

// renderNews writes the Google News sitemap for now: the home listing's
// entries of the last three UTC days hold every article of the last 48
// hours.
func (r *Rendering) renderNews(ctx context.Context) error {
	home := string(page.KindHome)
	now := r.cfg.Now()
	days := []string{dayOf(now.Add(-48 * time.Hour)), dayOf(now.Add(-24 * time.Hour)), dayOf(now)}
	return r.untilStable(ctx, home, "news sitemap", func(listMeta, bool) error {
		entries, err := r.onDays(ctx, home, days)
		if err != nil {
			return err
		}
		articles := make([]sitemap.Article, len(entries))
		for i, e := range entries {
			articles[i] = sitemap.Article{URL: e.URL, Title: e.Headline, Language: e.Language, Published: e.Published}
		}
		files, err := sitemap.News(now, r.cfg.Site.BaseURL, newsKey, r.cfg.Site.Name, articles)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := r.put(ctx, f.Path, contentXML, f.Body, nil); err != nil {
				return err
			}
		}
		// Parts beyond the ones written are left from a busier moment.
		// files is one urlset, or an index and its parts 1..len(files)-1.
		first := 1
		if len(files) > 1 {
			first = len(files)
		}
		for i := first; ; i++ {
			key := strings.TrimSuffix(newsKey, ".xml") + "-" + strconv.Itoa(i) + ".xml"
			if _, err := r.site.GetInfo(ctx, key); errors.Is(err, jetstream.ErrObjectNotFound) {
				break
			} else if err != nil {
				return fmt.Errorf("site %s: %w", key, err)
			}
			if err := r.remove(ctx, key); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFixed writes what does not depend on articles, and a first empty
// home page and sitemaps on a new site.
func (r *Rendering) writeFixed(ctx context.Context) error {
	if err := r.put(ctx, strings.TrimPrefix(page.PathStylesheet, "/"), contentCSS, page.Stylesheet(), nil); err != nil {
		return err
	}
	if r.cfg.Site.LogoURL == "" {
		logo, err := page.DefaultLogo(r.cfg.Site.Name)
		if err != nil {
			return err
		}
		if err := r.put(ctx, strings.TrimPrefix(page.PathLogo, "/"), contentPNG, logo, nil); err != nil {
			return err
		}
	}
	robots := sitemap.Robots(r.cfg.Site.BaseURL, sitemapKey, newsKey)
	if err := r.put(ctx, robotsKey, contentText, robots, nil); err != nil {
		return err
	}
	t := newTouched()
	t.listings[string(page.KindHome)] = true
	t.news, t.pagesSitemap, t.sitemapIndex = true, true, true
	return r.render(ctx, t)
}
