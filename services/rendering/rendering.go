// Package rendering publishes the newspaper: it consumes
// news.article.enriched.<id> and news.article.retracted.<id>, writes pages
// into the JetStream Object Store bucket it owns, serves them, and
// publishes news.article.rendered.<id> before acking.
package rendering

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
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
	Now     func() time.Time
}

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
}

// Rendering is the running stage.
type Rendering struct {
	cfg  Config
	deps Deps
	pub  *bus.Publisher
	site jetstream.ObjectStore
}

// New ensures the streams and the site bucket.
func New(ctx context.Context, d Deps, cfg Config) (*Rendering, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if cfg.Site.Language == "" {
		cfg.Site.Language = "en"
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
	return &Rendering{cfg: cfg, deps: d, pub: bus.NewPublisher(d.JS, d.Tracer), site: obj}, nil
}

// ConsumerSpec is rendering's durable consumer.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, FilterSubjects: []string{
		bus.EventSubjects(bus.EventEnriched), bus.EventSubjects(bus.EventRetracted)}}
}

// Run consumes enriched and retracted articles until ctx ends.
func (r *Rendering) Run(ctx context.Context, nc *nats.Conn, opts bus.RunOptions) error {
	spec := ConsumerSpec()
	sub := bus.NewSubscriber(Name, r.pub, r.Handle, Decode, r.publishRendered,
		bus.SubscriberSpec(spec), bus.SubscriberLogger(r.deps.Logger), bus.SubscriberTracerProvider(r.deps.Tracer))
	if nc != nil {
		stop, err := bus.WatchMaxDeliveries(ctx, nc, r.pub, Name, r.deps.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts.Logger = r.deps.Logger
	return bus.Run(ctx, r.deps.JS, spec, sub, opts)
}

// Request is one event rendering acts on: exactly one field is set.
type Request struct {
	Enriched  *newsroomv1.ArticleEnriched
	Retracted *newsroomv1.ArticleRetracted
}

// Decode reads an enriched or retracted event.
func Decode(_ context.Context, msg jetstream.Msg) (Request, error) {
	event, id, ok := bus.ParseSubject(msg.Subject())
	if !ok {
		return Request{}, fmt.Errorf("subject %q is not an article event", msg.Subject())
	}
	switch event {
	case bus.EventEnriched:
		var ev newsroomv1.ArticleEnriched
		if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
			return Request{}, fmt.Errorf("ArticleEnriched: %w", err)
		}
		if ev.ArticleId != id || ev.Article == nil || ev.Revision < 1 {
			return Request{}, fmt.Errorf("ArticleEnriched on %s: article %q revision %d", msg.Subject(), ev.ArticleId, ev.Revision)
		}
		ev.Article.Id = id
		return Request{Enriched: &ev}, nil
	case bus.EventRetracted:
		var ev newsroomv1.ArticleRetracted
		if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
			return Request{}, fmt.Errorf("ArticleRetracted: %w", err)
		}
		if ev.ArticleId != id {
			return Request{}, fmt.Errorf("ArticleRetracted on %s names %q", msg.Subject(), ev.ArticleId)
		}
		return Request{Retracted: &ev}, nil
	}
	return Request{}, fmt.Errorf("rendering does not handle %q events", event)
}

// pageKey is the object holding an article's current page.
func pageKey(id string) string { return "articles/" + id }

// pageState is what the current page object says of itself.
type pageState struct {
	revision  int64
	retracted bool
}

func (r *Rendering) current(ctx context.Context, id string) (pageState, error) {
	info, err := r.site.GetInfo(ctx, pageKey(id))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return pageState{}, nil
	}
	if err != nil {
		return pageState{}, err
	}
	rev, _ := strconv.ParseInt(info.Metadata["revision"], 10, 64)
	return pageState{revision: rev, retracted: info.Metadata["status"] == "410"}, nil
}

// Handle renders or takes down a page. It returns the rendered event to
// publish, or nil when there is nothing new to announce (a stale revision,
// a retraction).
func (r *Rendering) Handle(ctx context.Context, req Request) (*newsroomv1.ArticleRendered, error) {
	if req.Retracted != nil {
		return nil, r.takeDown(ctx, req.Retracted)
	}
	ev := req.Enriched
	a := ev.Article
	cur, err := r.current(ctx, a.Id)
	if err != nil {
		return nil, fmt.Errorf("page of %s: %w", a.Id, err)
	}
	if cur.retracted || cur.revision > ev.Revision {
		// Never resurrect a retracted page or replace a newer revision.
		return nil, nil
	}
	html, err := page.Article(r.cfg.Site, a, ev.Revision)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if err := r.putPage(ctx, a.Id, html, ev.Revision, http.StatusOK); err != nil {
		return nil, err
	}
	return &newsroomv1.ArticleRendered{
		EventId:    bus.MsgID(a.Id, ev.Revision, bus.EventRendered),
		ArticleId:  a.Id,
		Revision:   ev.Revision,
		OccurredAt: timestamppb.New(r.cfg.Now()),
		Article:    a,
		AcceptedAt: ev.AcceptedAt,
		Url:        a.Url,
		ObjectKey:  pageKey(a.Id),
	}, nil
}

func (r *Rendering) takeDown(ctx context.Context, ev *newsroomv1.ArticleRetracted) error {
	html, err := page.Gone(r.cfg.Site, ev.ArticleId, ev.Reason)
	if err != nil {
		return bus.Permanent(err)
	}
	cur, err := r.current(ctx, ev.ArticleId)
	if err != nil {
		return err
	}
	return r.putPage(ctx, ev.ArticleId, html, max(cur.revision, ev.Revision), http.StatusGone)
}

func (r *Rendering) putPage(ctx context.Context, id string, html []byte, rev int64, status int) error {
	_, err := r.site.Put(ctx, jetstream.ObjectMeta{
		Name:    pageKey(id),
		Headers: nats.Header{"Content-Type": []string{"text/html; charset=utf-8"}},
		Metadata: map[string]string{
			"revision": strconv.FormatInt(rev, 10),
			"status":   strconv.Itoa(status),
		},
	}, bytes.NewReader(html))
	if err != nil {
		return fmt.Errorf("store page of %s: %w", id, err)
	}
	return nil
}

func (r *Rendering) publishRendered(ctx context.Context, ev *newsroomv1.ArticleRendered) error {
	if ev == nil {
		return nil
	}
	_, err := r.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventRendered, ev.ArticleId), MsgID: ev.EventId, Message: ev})
	return err
}

// Handler serves the site.
func (r *Rendering) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /articles/{id}", func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		if bus.ValidateArticleID(id) != nil {
			http.NotFound(w, req)
			return
		}
		r.serveObject(w, req, pageKey(id))
	})
	return mux
}

func (r *Rendering) serveObject(w http.ResponseWriter, req *http.Request, key string) {
	res, err := r.site.Get(req.Context(), key)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		http.NotFound(w, req)
		return
	}
	if err != nil {
		http.Error(w, "site storage unavailable", http.StatusServiceUnavailable)
		return
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		http.Error(w, "site storage unavailable", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(res)
	if err != nil {
		http.Error(w, "site storage unavailable", http.StatusServiceUnavailable)
		return
	}
	if ct := info.Headers.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("ETag", `"`+info.Digest+`"`)
	if status, _ := strconv.Atoi(info.Metadata["status"]); status != 0 && status != http.StatusOK {
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	http.ServeContent(w, req, "", info.ModTime, bytes.NewReader(body))
}
