// Package rendering publishes the newspaper: it consumes
// news.article.enriched.<id> and news.article.retracted.<id>, renders the
// article's page and every listing, feed and sitemap the event touches into
// the JetStream Object Store bucket it owns, and serves the site. It
// publishes news.article.rendered.<id> as soon as the article's page is
// live, and acks once everything listing it is written too.
//
// What the site holds is remembered in the KV bucket rendering_index (see
// IndexBucket), so an event re-renders only what it touches, and a stale
// or late event never replaces a newer page nor brings back a retracted one.
package rendering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering/page"
)

// Name is the service name: its durable consumer, its telemetry name.
const Name = "rendering"

// SiteBucket is the Object Store bucket of the published site.
const SiteBucket = "rendering_site"

// Config of the rendering service.
type Config struct {
	Site    page.Site
	Streams bus.StreamOptions
	// Now is the clock (the News sitemap's 48 hours are counted from it).
	Now func() time.Time
	// ListingSize is how many articles a listing page and its feeds show;
	// defaults to 30.
	ListingSize int
	// NewsRefresh is how often Run re-renders the News sitemap so that
	// articles leave it 48 hours after publication even when no event
	// arrives; defaults to 5 minutes.
	NewsRefresh time.Duration
}

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
}

// Rendering is the running stage.
type Rendering struct {
	cfg   Config
	deps  Deps
	pub   *bus.Publisher
	site  jetstream.ObjectStore
	index *indexKV
	pages *page.Renderer

	// batch, when set, collects what events touch instead of rendering it
	// at once: a rebuild renders each listing once at the end.
	mu    sync.Mutex
	batch *touched
}

// New ensures the streams, the site bucket and the index, and writes the
// site's fixed files (stylesheet, logo, robots.txt) and, on a new site, an
// empty home page, feeds and sitemaps.
func New(ctx context.Context, d Deps, cfg Config) (*Rendering, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ListingSize <= 0 {
		cfg.ListingSize = 30
	}
	if cfg.NewsRefresh <= 0 {
		cfg.NewsRefresh = 5 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider()
	}
	if cfg.Site.Language == "" {
		cfg.Site.Language = "en"
	}
	if cfg.Site.Name == "" {
		cfg.Site.Name = "Newsroom"
	}
	if err := cfg.Site.Check(); err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	if err := bus.EnsureStreams(ctx, d.JS, cfg.Streams); err != nil {
		return nil, err
	}
	st := jetstream.FileStorage
	if cfg.Streams.Memory {
		st = jetstream.MemoryStorage
	}
	obj, err := d.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: SiteBucket, Description: "rendering: the published site (pages, feeds, sitemaps)",
		Storage: st, Replicas: max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("rendering: site bucket: %w", err)
	}
	kv, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: IndexBucket, Description: "rendering: what the site holds and which listing lists what",
		History: 1, Storage: st, Replicas: max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("rendering: index bucket: %w", err)
	}
	r := &Rendering{cfg: cfg, deps: d, pub: bus.NewPublisher(d.JS, d.Tracer), site: obj, index: newIndexKV(kv), pages: page.New(cfg.Site)}
	if err := r.writeFixed(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// ConsumerSpec is rendering's durable consumer.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, FilterSubjects: []string{
		bus.EventSubjects(bus.EventEnriched), bus.EventSubjects(bus.EventRetracted)}}
}

// Run consumes enriched and retracted articles until ctx ends, and keeps
// the News sitemap current as time passes.
func (r *Rendering) Run(ctx context.Context, nc *nats.Conn, opts bus.RunOptions) error {
	spec := ConsumerSpec()
	sub := bus.NewSubscriber(Name, r.pub, r.serve, Decode, r.announce,
		bus.SubscriberSpec(spec), bus.SubscriberLogger(r.deps.Logger), bus.SubscriberTracerProvider(r.deps.Tracer))
	if nc != nil {
		stop, err := bus.WatchMaxDeliveries(ctx, nc, r.pub, Name, r.deps.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		t := time.NewTicker(r.cfg.NewsRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.renderNews(ctx); err != nil && ctx.Err() == nil {
					r.deps.Logger.Warn("news sitemap refresh", "err", err)
				}
			}
		}
	})
	opts.Logger = r.deps.Logger
	return bus.Run(ctx, r.deps.JS, spec, sub, opts)
}

// Site is the identity the service renders with.
func (r *Rendering) Site() page.Site { return r.cfg.Site }

// RefreshNews re-renders the News sitemap for the current time, so that
// articles older than 48 hours leave it; Run does it every NewsRefresh.
func (r *Rendering) RefreshNews(ctx context.Context) error { return r.renderNews(ctx) }

// Batch runs fn, whose handle takes each event into the index but collects
// the article pages, listings, feeds, sitemaps and translation pages the
// events touch, and renders each of those once when fn returns. handle
// never publishes a rendered event: a rebuild announces nothing, so
// nothing is shared again. Events must not arrive through Run meanwhile.
func (r *Rendering) Batch(ctx context.Context, fn func(handle func(Request) error) error) error {
	r.mu.Lock()
	if r.batch != nil {
		r.mu.Unlock()
		return errors.New("rendering: a batch is already running")
	}
	r.batch = newTouched()
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.batch = nil
		r.mu.Unlock()
	}()
	if err := fn(func(req Request) error {
		_, err := r.Handle(ctx, req)
		return err
	}); err != nil {
		return err
	}
	r.mu.Lock()
	t := r.batch
	r.batch = newTouched()
	r.mu.Unlock()
	return r.render(ctx, t)
}

func (r *Rendering) batching() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batch != nil
}

// Request is one event rendering acts on: exactly one field is set.
type Request struct {
	Enriched  *newsroomv1.ArticleEnriched
	Retracted *newsroomv1.ArticleRetracted
}

// Decode reads an enriched or retracted event.
func Decode(_ context.Context, msg jetstream.Msg) (Request, error) {
	return decode(msg.Subject(), msg.Data())
}

func decode(subject string, data []byte) (Request, error) {
	event, id, ok := bus.ParseSubject(subject)
	if !ok {
		return Request{}, fmt.Errorf("subject %q is not an article event", subject)
	}
	switch event {
	case bus.EventEnriched:
		var ev newsroomv1.ArticleEnriched
		if err := proto.Unmarshal(data, &ev); err != nil {
			return Request{}, fmt.Errorf("ArticleEnriched of %s: %w", id, err)
		}
		if ev.ArticleId != id || ev.Article == nil || ev.Revision < 1 {
			return Request{}, fmt.Errorf("ArticleEnriched on %s: article %q revision %d", subject, ev.ArticleId, ev.Revision)
		}
		ev.Article.Id = id
		return Request{Enriched: &ev}, nil
	case bus.EventRetracted:
		var ev newsroomv1.ArticleRetracted
		if err := proto.Unmarshal(data, &ev); err != nil {
			return Request{}, fmt.Errorf("ArticleRetracted of %s: %w", id, err)
		}
		if ev.ArticleId != id {
			return Request{}, fmt.Errorf("ArticleRetracted on %s names %q", subject, ev.ArticleId)
		}
		return Request{Retracted: &ev}, nil
	}
	return Request{}, fmt.Errorf("rendering does not handle %q events", event)
}

// Handle renders or takes down a page and everything listing it. It
// returns the rendered event to publish, or nil when there is nothing new
// to announce (a stale revision, a retracted article, a retraction).
func (r *Rendering) Handle(ctx context.Context, req Request) (*newsroomv1.ArticleRendered, error) {
	d, err := r.serve(ctx, req)
	if err != nil {
		return nil, err
	}
	return d.ev, r.complete(ctx, d)
}

// done is an event whose article page is live: the rendered event to
// announce, and the rest of its work — the listings, feeds and sitemaps,
// the index record, its translations' pages — which must be done before
// the message is acked. The service publishes the event first, so that
// "rendered" (and the social posts it starts) waits for the page only,
// not for the dozens of objects listing it; a crash before the rest is
// done means a redelivery, which does it again.
type done struct {
	req  Request
	ev   *newsroomv1.ArticleRendered
	rest func(ctx context.Context) error
}

// serve does an event up to its article page.
func (r *Rendering) serve(ctx context.Context, req Request) (done, error) {
	for attempt := 0; ; attempt++ {
		d := done{req: req}
		var err error
		if req.Retracted != nil {
			err = r.retract(ctx, req.Retracted)
		} else {
			d.ev, d.rest, err = r.publish(ctx, req.Enriched)
		}
		// Another instance changed this article's record meanwhile (a
		// redelivery racing the first delivery, a retraction racing a
		// revision): do it again on what it wrote.
		if errors.Is(err, errConflict) && attempt < 5 {
			continue
		}
		return d, err
	}
}

// complete does the rest of an event served, again from the start should
// another instance change the article's record meanwhile.
func (r *Rendering) complete(ctx context.Context, d done) error {
	for attempt := 0; ; attempt++ {
		if d.rest == nil {
			return nil
		}
		err := d.rest(ctx)
		if !errors.Is(err, errConflict) || attempt >= 5 {
			return err
		}
		if d, err = r.serve(ctx, d.req); err != nil {
			return err
		}
	}
}

// announce is the service's EncodeFunc: the rendered event as soon as the
// page is live, then the rest, all before the ack.
func (r *Rendering) announce(ctx context.Context, d done) error {
	if err := r.publishRendered(ctx, d.ev); err != nil {
		return err
	}
	return r.complete(ctx, d)
}

// publish renders one enriched revision's page, and returns its event and
// what remains to be done.
func (r *Rendering) publish(ctx context.Context, ev *newsroomv1.ArticleEnriched) (*newsroomv1.ArticleRendered, func(context.Context) error, error) {
	a := ev.Article
	id := a.Id
	rec, recRev, _, err := getJSON[record](ctx, r.index, recordKey(id))
	if err != nil {
		return nil, nil, fmt.Errorf("article %s: %w", id, err)
	}
	stamp(a, ev, r.cfg.Now())
	entry := page.EntryOf(r.cfg.Site, a)
	if rec.Gone {
		// Never resurrect a retracted article. A revision that raced the
		// retraction may have listed it already: take it out again.
		_, err := r.unlist(ctx, id, &record{Listings: keys(entry.Listings()), Slot: slotOf(entry.Published)}, &rec)
		return nil, nil, err
	}
	if rec.Revision > ev.Revision {
		// A stale revision never replaces a newer page.
		return nil, nil, nil
	}
	cur, err := r.pageMeta(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	newRec := record{Revision: ev.Revision, Entry: &entry, Listings: keys(entry.Listings()), Slot: slotOf(entry.Published)}
	for _, tr := range a.Translations {
		if tr != nil && tr.ArticleId != "" && tr.ArticleId != id && bus.ValidateArticleID(tr.ArticleId) == nil && !slices.Contains(newRec.Translations, tr.ArticleId) {
			newRec.Translations = append(newRec.Translations, tr.ArticleId)
		}
	}
	slices.Sort(newRec.Translations)

	// Translations: both ends of every link, so hreflang is reciprocal.
	siblingsBefore, err := r.cluster(ctx, id, rec.Translations)
	if err != nil {
		return nil, nil, err
	}
	for _, to := range rec.Translations {
		if !slices.Contains(newRec.Translations, to) {
			if err := r.setXref(ctx, to, id, false); err != nil {
				return nil, nil, fmt.Errorf("article %s: %w", id, err)
			}
		}
	}
	for _, to := range newRec.Translations {
		if err := r.setXref(ctx, to, id, true); err != nil {
			return nil, nil, fmt.Errorf("article %s: %w", id, err)
		}
	}
	var (
		linked   []string
		rendered bool
	)
	if r.batching() {
		// A batch renders the page at its end, once every event is in the
		// index: with all its translations, without a page in between.
		p := newTouched()
		p.pages[id] = pending{article: a, revision: ev.Revision}
		if err := r.flush(ctx, p); err != nil {
			return nil, nil, err
		}
	} else if linked, rendered, err = r.renderArticleOver(ctx, cur, a, ev.Revision, newRec.Translations); err != nil {
		return nil, nil, err
	}
	rest := func(ctx context.Context) error {
		// The source, which pages are rendered again from (a translation
		// linked later), once the page is announced: until it is written,
		// a sibling that renders this page again finds the older revision
		// and leaves the newer page as it is, and this event renders it
		// again below if its cluster changed. The source of the revision
		// on the page stays when an older one comes late (a rebuild
		// replays every revision).
		if cur.revision <= ev.Revision {
			if err := r.saveSource(ctx, a); err != nil {
				return err
			}
		}
		// Listings: out of the old ones (or the old day), into the new ones.
		t := newTouched()
		for _, l := range rec.Listings {
			if rec.Slot != newRec.Slot || !slices.Contains(newRec.Listings, l) {
				if err := r.placeAndTouch(ctx, t, l, rec.Slot, id, nil); err != nil {
					return fmt.Errorf("article %s: %w", id, err)
				}
			}
		}
		for _, l := range newRec.Listings {
			if err := r.placeAndTouch(ctx, t, l, newRec.Slot, id, &entry); err != nil {
				return fmt.Errorf("article %s: %w", id, err)
			}
		}
		if err := r.flush(ctx, t); err != nil {
			return err
		}
		if _, err := putJSON(ctx, r.index, recordKey(id), newRec, recRev); err != nil {
			return fmt.Errorf("article %s: %w", id, err)
		}
		// The translations' pages read this record for their hreflang
		// links, so they are rendered once it is written. A crash before
		// they are means a redelivery of the same revision, which renders
		// them again. The cluster is read again now that the record is
		// written: a translation handled at the same moment (another
		// worker, another instance) may have missed this record, and this
		// page may have missed it; of two such events at least one sees
		// the other's record here, and it renders both pages again.
		siblingsAfter, err := r.cluster(ctx, id, newRec.Translations)
		if err != nil {
			return err
		}
		siblings := newTouched()
		for _, s := range append(siblingsBefore, siblingsAfter...) {
			siblings.articles[s] = true
		}
		if rendered && !slices.Equal(linked, siblingsAfter) {
			siblings.articles[id] = true
		}
		return r.flush(ctx, siblings)
	}
	return &newsroomv1.ArticleRendered{
		EventId:    bus.MsgID(id, ev.Revision, bus.EventRendered),
		ArticleId:  id,
		Revision:   ev.Revision,
		OccurredAt: timestamppb.New(r.cfg.Now()),
		Article:    a,
		AcceptedAt: ev.AcceptedAt,
		Url:        entry.URL,
		ObjectKey:  articleKey(id),
	}, rest, nil
}

// stamp fills the times an article page needs from the event when the
// article lacks them.
func stamp(a *newsroomv1.Article, ev *newsroomv1.ArticleEnriched, now time.Time) {
	fallback := ev.AcceptedAt
	if fallback == nil {
		fallback = ev.OccurredAt
	}
	if fallback == nil {
		fallback = timestamppb.New(now)
	}
	if a.CreatedAt == nil {
		a.CreatedAt = fallback
	}
	if a.UpdatedAt == nil {
		a.UpdatedAt = a.CreatedAt
	}
}

// retract takes an article down: a 410 notice on its URL, and out of every
// listing, feed and sitemap.
func (r *Rendering) retract(ctx context.Context, ev *newsroomv1.ArticleRetracted) error {
	id := ev.ArticleId
	rec, recRev, _, err := getJSON[record](ctx, r.index, recordKey(id))
	if err != nil {
		return fmt.Errorf("article %s: %w", id, err)
	}
	gone := rec
	gone.Gone = true
	gone.Revision = max(rec.Revision, ev.Revision)
	gone.Listings, gone.Slot, gone.Translations = nil, "", nil
	if !rec.Gone {
		gone.Reason = ev.Reason
		gone.GoneAt = ev.OccurredAt.AsTime()
		if ev.OccurredAt == nil {
			gone.GoneAt = r.cfg.Now()
		}
	}
	siblings, err := r.unlist(ctx, id, &rec, &gone)
	if err != nil {
		return err
	}
	if !rec.Gone {
		if _, err := putJSON(ctx, r.index, recordKey(id), gone, recRev); err != nil {
			return fmt.Errorf("article %s: %w", id, err)
		}
	}
	// Its translations drop their hreflang link to it once the record
	// says it is gone.
	return r.flush(ctx, siblings)
}

// unlist takes id out of what was listed under `from`, renders the 410
// notice from `gone`, and re-renders every listing, feed and sitemap that
// changed. It returns the translations whose pages must drop their link
// to id once its record says it is gone.
func (r *Rendering) unlist(ctx context.Context, id string, from, gone *record) (*touched, error) {
	t := newTouched()
	for _, l := range from.Listings {
		if err := r.placeAndTouch(ctx, t, l, from.Slot, id, nil); err != nil {
			return nil, fmt.Errorf("article %s: %w", id, err)
		}
	}
	siblings := newTouched()
	ids, err := r.cluster(ctx, id, from.Translations)
	if err != nil {
		return nil, err
	}
	for _, s := range ids {
		siblings.articles[s] = true
	}
	// Its links to its translations go; the links to it from others stay
	// in the index but name a gone article, which cluster skips.
	for _, to := range from.Translations {
		if err := r.setXref(ctx, to, id, false); err != nil {
			return nil, fmt.Errorf("article %s: %w", id, err)
		}
	}
	if err := r.renderGone(ctx, id, gone); err != nil {
		return nil, err
	}
	return siblings, r.flush(ctx, t)
}

func (r *Rendering) placeAndTouch(ctx context.Context, t *touched, listing, slot, id string, e *page.Entry) error {
	changed, err := r.place(ctx, listing, slot, id, e)
	if err != nil {
		return err
	}
	t.listings[listing] = true
	if listing == string(page.KindHome) {
		t.days[slot[:8]] = true
		t.news = true
		// The sitemap index lists the days; it changes only with them.
		t.sitemapIndex = t.sitemapIndex || changed.day
	}
	if changed.set {
		t.pagesSitemap = true
	}
	return nil
}

func keys(ls []page.Listing) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Key()
	}
	return out
}

func (r *Rendering) publishRendered(ctx context.Context, ev *newsroomv1.ArticleRendered) error {
	if ev == nil {
		return nil
	}
	_, err := r.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventRendered, ev.ArticleId), MsgID: ev.EventId, Message: ev})
	return err
}
