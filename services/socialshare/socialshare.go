// Package socialshare posts rendered articles to social networks exactly
// once: it consumes news.article.rendered.<id> and
// news.article.retracted.<id>, checks and writes its share ledger (a KV
// bucket it owns) before any post, and publishes news.article.shared.<id>
// before acking.
package socialshare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/kithttp"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/compose"
)

// Name is the service name: its durable consumer, its telemetry name.
const Name = "socialshare"

// LedgerBucket is the share ledger, owned by socialshare.
const LedgerBucket = "socialshare_ledger"

// Config of the socialshare service.
type Config struct {
	// Networks to post to; defaults to compose.Networks.
	Networks []string
	Streams  bus.StreamOptions
	Now      func() time.Time
}

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
}

// Socialshare is the running stage.
type Socialshare struct {
	cfg    Config
	deps   Deps
	pub    *bus.Publisher
	ledger jetstream.KeyValue
	tracer trace.Tracer
}

// New ensures the streams and the ledger.
func New(ctx context.Context, d Deps, cfg Config) (*Socialshare, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Networks) == 0 {
		cfg.Networks = compose.Networks
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if err := bus.EnsureStreams(ctx, d.JS, cfg.Streams); err != nil {
		return nil, err
	}
	st := jetstream.FileStorage
	if cfg.Streams.Memory {
		st = jetstream.MemoryStorage
	}
	kv, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: LedgerBucket, Description: "socialshare: one entry per article and network, written before any post",
		History: 10, Storage: st, Replicas: max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("socialshare: ledger bucket: %w", err)
	}
	return &Socialshare{cfg: cfg, deps: d, pub: bus.NewPublisher(d.JS, d.Tracer), ledger: kv,
		tracer: d.Tracer.Tracer("github.com/newsroom/newsroom/services/socialshare")}, nil
}

// ConsumerSpec is socialshare's durable consumer.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, FilterSubjects: []string{
		bus.EventSubjects(bus.EventRendered), bus.EventSubjects(bus.EventRetracted)}}
}

// Run consumes rendered and retracted articles until ctx ends.
func (s *Socialshare) Run(ctx context.Context, nc *nats.Conn, opts bus.RunOptions) error {
	spec := ConsumerSpec()
	sub := bus.NewSubscriber(Name, s.pub, s.Handle, Decode, s.publishShared,
		bus.SubscriberSpec(spec), bus.SubscriberLogger(s.deps.Logger), bus.SubscriberTracerProvider(s.deps.Tracer))
	if nc != nil {
		stop, err := bus.WatchMaxDeliveries(ctx, nc, s.pub, Name, s.deps.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts.Logger = s.deps.Logger
	return bus.Run(ctx, s.deps.JS, spec, sub, opts)
}

// Request is one event socialshare acts on: exactly one field is set.
type Request struct {
	Rendered  *newsroomv1.ArticleRendered
	Retracted *newsroomv1.ArticleRetracted
}

// Decode reads a rendered or retracted event.
func Decode(_ context.Context, msg jetstream.Msg) (Request, error) {
	event, id, ok := bus.ParseSubject(msg.Subject())
	if !ok {
		return Request{}, fmt.Errorf("subject %q is not an article event", msg.Subject())
	}
	switch event {
	case bus.EventRendered:
		var ev newsroomv1.ArticleRendered
		if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
			return Request{}, fmt.Errorf("ArticleRendered: %w", err)
		}
		if ev.ArticleId != id || ev.Article == nil || ev.Url == "" {
			return Request{}, fmt.Errorf("ArticleRendered on %s: article %q, url %q", msg.Subject(), ev.ArticleId, ev.Url)
		}
		return Request{Rendered: &ev}, nil
	case bus.EventRetracted:
		var ev newsroomv1.ArticleRetracted
		if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
			return Request{}, fmt.Errorf("ArticleRetracted: %w", err)
		}
		return Request{Retracted: &ev}, nil
	}
	return Request{}, fmt.Errorf("socialshare does not handle %q events", event)
}

// Entry is the ledger's record of one article on one network.
type Entry struct {
	ArticleID string    `json:"article_id"`
	Network   string    `json:"network"`
	Revision  int64     `json:"revision"`
	Status    string    `json:"status"`
	Text      string    `json:"text"`
	Link      string    `json:"link"`
	RemoteID  string    `json:"remote_id,omitempty"`
	RemoteURL string    `json:"remote_url,omitempty"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Ledger statuses.
const (
	StatusDryRun    = "dry_run"
	StatusPosted    = "posted"
	StatusRetracted = "retracted"
)

func ledgerKey(id, network string) string { return id + "." + network }

// Handle shares a rendered article on every network that has no ledger
// entry for it yet; redelivery and replays find the entries and post
// nothing.
func (s *Socialshare) Handle(ctx context.Context, req Request) (*newsroomv1.ArticleShared, error) {
	if req.Retracted != nil {
		return nil, s.retract(ctx, req.Retracted)
	}
	ev := req.Rendered
	out := &newsroomv1.ArticleShared{
		EventId:    bus.MsgID(ev.ArticleId, ev.Revision, bus.EventShared),
		ArticleId:  ev.ArticleId,
		Revision:   ev.Revision,
		OccurredAt: timestamppb.New(s.cfg.Now()),
		AcceptedAt: ev.AcceptedAt,
	}
	for _, network := range s.cfg.Networks {
		e, err := s.share(ctx, ev, network)
		if err != nil {
			return nil, err
		}
		out.Shares = append(out.Shares, &newsroomv1.Share{
			Network: network, Status: shareStatus(e.Status), Text: e.Text, Link: e.Link,
			RemoteId: e.RemoteID, RemoteUrl: e.RemoteURL, Attempts: int32(e.Attempts), LastError: e.LastError,
		})
	}
	return out, nil
}

// share records the network's post for the article, once. With no network
// client configured the post is a dry run: composed and recorded only.
func (s *Socialshare) share(ctx context.Context, ev *newsroomv1.ArticleRendered, network string) (Entry, error) {
	ctx, span := s.tracer.Start(ctx, "share "+network, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("newsroom.network", network), attribute.String("newsroom.article_id", ev.ArticleId)))
	defer span.End()
	key := ledgerKey(ev.ArticleId, network)
	if cur, err := s.ledger.Get(ctx, key); err == nil {
		var e Entry
		if err := json.Unmarshal(cur.Value(), &e); err != nil {
			return Entry{}, fmt.Errorf("ledger %s: %w", key, err)
		}
		span.SetAttributes(attribute.String("newsroom.share.outcome", "already-recorded"))
		return e, nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, fmt.Errorf("ledger %s: %w", key, err)
	}
	post := compose.Compose(network, ev.Article, ev.Url)
	e := Entry{
		ArticleID: ev.ArticleId, Network: network, Revision: ev.Revision, Status: StatusDryRun,
		Text: post.Text, Link: post.Link, UpdatedAt: s.cfg.Now().UTC(),
	}
	data, _ := json.Marshal(e)
	if _, err := s.ledger.Create(ctx, key, data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another instance recorded it first: theirs stands.
			return s.share(ctx, ev, network)
		}
		return Entry{}, fmt.Errorf("ledger %s: %w", key, err)
	}
	span.SetAttributes(attribute.String("newsroom.share.outcome", e.Status))
	return e, nil
}

func shareStatus(s string) newsroomv1.ShareStatus {
	switch s {
	case StatusDryRun:
		return newsroomv1.ShareStatus_SHARE_STATUS_DRY_RUN
	case StatusPosted:
		return newsroomv1.ShareStatus_SHARE_STATUS_POSTED
	case StatusRetracted:
		return newsroomv1.ShareStatus_SHARE_STATUS_DELETED
	}
	return newsroomv1.ShareStatus_SHARE_STATUS_UNSPECIFIED
}

func (s *Socialshare) retract(ctx context.Context, ev *newsroomv1.ArticleRetracted) error {
	for _, network := range s.cfg.Networks {
		key := ledgerKey(ev.ArticleId, network)
		cur, err := s.ledger.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ledger %s: %w", key, err)
		}
		var e Entry
		if err := json.Unmarshal(cur.Value(), &e); err != nil {
			return fmt.Errorf("ledger %s: %w", key, err)
		}
		if e.Status == StatusRetracted {
			continue
		}
		e.Status, e.UpdatedAt = StatusRetracted, s.cfg.Now().UTC()
		data, _ := json.Marshal(e)
		if _, err := s.ledger.Update(ctx, key, data, cur.Revision()); err != nil {
			return fmt.Errorf("ledger %s: %w", key, err)
		}
	}
	return nil
}

func (s *Socialshare) publishShared(ctx context.Context, ev *newsroomv1.ArticleShared) error {
	if ev == nil {
		return nil
	}
	_, err := s.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventShared, ev.ArticleId), MsgID: ev.EventId, Message: ev})
	return err
}

// Shares lists the ledger entries of an article.
func (s *Socialshare) Shares(ctx context.Context, id string) ([]Entry, error) {
	var out []Entry
	for _, network := range s.cfg.Networks {
		cur, err := s.ledger.Get(ctx, ledgerKey(id, network))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var e Entry
		if err := json.Unmarshal(cur.Value(), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Handler serves GET /v1/articles/{id}/shares.
func (s *Socialshare) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/articles/{id}/shares", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if bus.ValidateArticleID(id) != nil {
			http.NotFound(w, r)
			return
		}
		entries, err := s.Shares(r.Context(), id)
		if err != nil {
			kithttp.ErrorEncoder(r.Context(), err, w)
			return
		}
		if entries == nil {
			entries = []Entry{}
		}
		_ = kithttp.JSON(w, http.StatusOK, map[string]any{"id": id, "shares": entries})
	})
	return mux
}
