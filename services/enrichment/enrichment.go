// Package enrichment is the stage between ingest and rendering: it consumes
// news.article.submitted.<id>, cleans and labels the article (package
// enrich), records authors in its registry, and publishes
// news.article.enriched.<id> before acking.
package enrichment

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment/enrich"
)

// Name is the service name: its durable consumer, its telemetry name.
const Name = "enrichment"

// AuthorsBucket is the author registry, owned by enrichment.
const AuthorsBucket = "enrichment_authors"

// Config of the enrichment service.
type Config struct {
	Streams bus.StreamOptions
	Now     func() time.Time
	// PublicURL is the site's public base URL: author profile URLs are
	// <PublicURL>/authors/<slug>. Empty gives site-relative URLs.
	PublicURL string
}

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
}

// Enrichment is the running stage.
type Enrichment struct {
	cfg     Config
	deps    Deps
	pub     *bus.Publisher
	authors *Registry
}

// New ensures the streams and the author registry.
func New(ctx context.Context, d Deps, cfg Config) (*Enrichment, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider()
	}
	if err := bus.EnsureStreams(ctx, d.JS, cfg.Streams); err != nil {
		return nil, err
	}
	st := jetstream.FileStorage
	if cfg.Streams.Memory {
		st = jetstream.MemoryStorage
	}
	kv, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: AuthorsBucket, Description: "enrichment: author registry (slug → profile)",
		History: 5, Storage: st, Replicas: max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("enrichment: authors bucket: %w", err)
	}
	return &Enrichment{cfg: cfg, deps: d, pub: bus.NewPublisher(d.JS, d.Tracer), authors: NewRegistry(kv, cfg.PublicURL)}, nil
}

// ConsumerSpec is enrichment's durable consumer.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, FilterSubjects: []string{bus.EventSubjects(bus.EventSubmitted)}}
}

// Run consumes submitted articles until ctx ends.
func (e *Enrichment) Run(ctx context.Context, nc *nats.Conn, opts bus.RunOptions) error {
	spec := ConsumerSpec()
	sub := bus.NewSubscriber(Name, e.pub, e.Enrich, DecodeSubmitted, e.publishEnriched,
		bus.SubscriberSpec(spec), bus.SubscriberLogger(e.deps.Logger), bus.SubscriberTracerProvider(e.deps.Tracer))
	if nc != nil {
		stop, err := bus.WatchMaxDeliveries(ctx, nc, e.pub, Name, e.deps.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts.Logger = e.deps.Logger
	return bus.Run(ctx, e.deps.JS, spec, sub, opts)
}

// DecodeSubmitted reads an ArticleSubmitted and checks it against its subject.
func DecodeSubmitted(_ context.Context, msg jetstream.Msg) (*newsroomv1.ArticleSubmitted, error) {
	_, id, ok := bus.ParseSubject(msg.Subject())
	if !ok {
		return nil, fmt.Errorf("subject %q is not an article event", msg.Subject())
	}
	var ev newsroomv1.ArticleSubmitted
	if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
		return nil, fmt.Errorf("ArticleSubmitted: %w", err)
	}
	switch {
	case ev.ArticleId != id:
		return nil, fmt.Errorf("event for article %q on the subject of %q", ev.ArticleId, id)
	case ev.Article == nil:
		return nil, fmt.Errorf("ArticleSubmitted %s has no article", id)
	case ev.Revision < 1:
		return nil, fmt.Errorf("ArticleSubmitted %s has revision %d", id, ev.Revision)
	}
	ev.Article.Id = id
	return &ev, nil
}

// Authors is the author registry.
func (e *Enrichment) Authors() *Registry { return e.authors }

// Enrich is the stage's endpoint: the pure enrichment (the same code the
// CLI runs), then the author registry. Input enrichment cannot read is a
// permanent failure (dead letter); a registry error is retried.
func (e *Enrichment) Enrich(ctx context.Context, ev *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
	a, err := enrich.Article(ev.Article)
	if err != nil {
		return nil, bus.Permanent(fmt.Errorf("enrich %s r%d: %w", ev.ArticleId, ev.Revision, err))
	}
	if err := e.authors.Resolve(ctx, ev.ArticleId, a.Bylines); err != nil {
		return nil, fmt.Errorf("enrich %s r%d: %w", ev.ArticleId, ev.Revision, err)
	}
	return &newsroomv1.ArticleEnriched{
		EventId:    bus.MsgID(ev.ArticleId, ev.Revision, bus.EventEnriched),
		ArticleId:  ev.ArticleId,
		Revision:   ev.Revision,
		OccurredAt: timestamppb.New(e.cfg.Now()),
		Article:    a,
		AcceptedAt: ev.AcceptedAt,
	}, nil
}

func (e *Enrichment) publishEnriched(ctx context.Context, ev *newsroomv1.ArticleEnriched) error {
	_, err := e.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventEnriched, ev.ArticleId), MsgID: ev.EventId, Message: ev})
	return err
}
