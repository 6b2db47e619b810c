// Package socialshare posts rendered articles to social networks exactly
// once: it consumes news.article.rendered.<id> and
// news.article.retracted.<id>, writes its share ledger (a KV bucket it
// owns) before any call to a network, reconciles after an unknown outcome
// instead of posting again, and publishes news.article.shared.<id> before
// acking. Permanent failures go to news.dlq.socialshare with the reason and
// show as FAILED in the shared event and the shares API.
package socialshare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/kithttp"
	"github.com/newsroom/newsroom/pkg/metrics"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/networks"
	"github.com/newsroom/newsroom/services/socialshare/networks/bluesky"
	"github.com/newsroom/newsroom/services/socialshare/networks/facebook"
	"github.com/newsroom/newsroom/services/socialshare/networks/linkedin"
	"github.com/newsroom/newsroom/services/socialshare/networks/mastodon"
	"github.com/newsroom/newsroom/services/socialshare/networks/threads"
	"github.com/newsroom/newsroom/services/socialshare/networks/x"
)

// Name is the service name: its durable consumer, its telemetry name.
const Name = "socialshare"

// LedgerBucket is the share ledger, owned by socialshare.
const LedgerBucket = "socialshare_ledger"

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
	// Metrics counts share attempts by network and outcome; nil counts
	// nothing.
	Metrics *metrics.Set
}

// Socialshare is the running stage.
type Socialshare struct {
	cfg      Config
	deps     Deps
	pub      *bus.Publisher
	ledger   ledger
	tracer   trace.Tracer
	composer *compose.Composer
	clients  map[string]networks.Client

	rulesMu sync.Mutex
	rules   map[string]cachedRules

	// afterPost, in tests, runs after a network accepted a post and before
	// the ledger records it: an error there is a crash at the worst time.
	afterPost func(network string, r networks.Remote) error
}

type cachedRules struct {
	rules compose.Rules
	until time.Time
}

// New ensures the streams and the ledger and builds the network clients.
func New(ctx context.Context, d Deps, cfg Config) (*Socialshare, error) {
	cfg = cfg.withDefaults()
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	for _, n := range cfg.Networks {
		if _, err := compose.RulesFor(n); err != nil {
			return nil, fmt.Errorf("socialshare: %w", err)
		}
	}
	composer, err := compose.New(cfg.Templates)
	if err != nil {
		return nil, fmt.Errorf("socialshare: %w", err)
	}
	if err := bus.EnsureStreams(ctx, d.JS, cfg.Streams); err != nil {
		return nil, err
	}
	st := jetstream.FileStorage
	if cfg.Streams.Memory {
		st = jetstream.MemoryStorage
	}
	kv, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: LedgerBucket, Description: "socialshare: one entry per article, network and post, written before any call",
		History: 10, Storage: st, Replicas: max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("socialshare: ledger bucket: %w", err)
	}
	s := &Socialshare{cfg: cfg, deps: d, pub: bus.NewPublisher(d.JS, d.Tracer), ledger: ledger{kv},
		tracer:   d.Tracer.Tracer("github.com/newsroom/newsroom/services/socialshare"),
		composer: composer, clients: map[string]networks.Client{}, rules: map[string]cachedRules{}}
	for _, n := range cfg.Networks {
		if c, ok := cfg.Clients[n]; ok && c != nil {
			s.clients[n] = c
		} else if c := s.buildClient(n); c != nil {
			s.clients[n] = c
		}
		mode := "dry run"
		if s.clients[n] != nil {
			mode = "posting"
		}
		d.Logger.Info("network", "network", n, "mode", mode)
	}
	return s, nil
}

// buildClient makes the network's client from its credentials, or nil.
func (s *Socialshare) buildClient(n string) networks.Client {
	rate := defaultPerMinute[n]
	if r, ok := s.cfg.PerMinute[n]; ok {
		rate = r
	}
	h := &networks.HTTP{Client: &http.Client{Timeout: s.cfg.HTTPTimeout}, Bucket: networks.NewBucket(rate, 2),
		MaxWait: s.cfg.InlineWait}
	cr := s.cfg.Credentials
	switch n {
	case compose.X:
		if cr.X.Token != "" {
			return x.New(cr.X.BaseURL, cr.X.Token, h)
		}
	case compose.Mastodon:
		if cr.Mastodon.Token != "" && cr.Mastodon.BaseURL != "" {
			return mastodon.New(cr.Mastodon.BaseURL, cr.Mastodon.Token, h)
		}
	case compose.Bluesky:
		if cr.Bluesky.Identifier != "" && cr.Bluesky.AppPassword != "" {
			return bluesky.New(cr.Bluesky.PDS, cr.Bluesky.Identifier, cr.Bluesky.AppPassword, h)
		}
	case compose.LinkedIn:
		if cr.LinkedIn.Token != "" && cr.LinkedIn.Author != "" {
			return linkedin.New(cr.LinkedIn.BaseURL, cr.LinkedIn.Token, cr.LinkedIn.Author, cr.LinkedIn.Version, h)
		}
	case compose.Facebook:
		if cr.Facebook.Token != "" && cr.Facebook.PageID != "" {
			return facebook.New(cr.Facebook.BaseURL, cr.Facebook.PageID, cr.Facebook.Token, h)
		}
	case compose.Threads:
		if cr.Threads.Token != "" && cr.Threads.UserID != "" {
			return threads.New(cr.Threads.BaseURL, cr.Threads.UserID, cr.Threads.Token, h)
		}
	}
	return nil
}

// ConsumerSpec is socialshare's durable consumer. Waiting for a
// publication time, a network's delay or a rate-limit reset releases the
// message with a delay, and each release is a delivery: MaxDeliver leaves
// room for them, while failed posts are bounded by Config.MaxAttempts.
func ConsumerSpec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Name, MaxDeliver: 100, FilterSubjects: []string{
		bus.EventSubjects(bus.EventRendered), bus.EventSubjects(bus.EventRetracted)}}
}

// Run consumes rendered and retracted articles until ctx ends.
func (s *Socialshare) Run(ctx context.Context, nc *nats.Conn, opts bus.RunOptions) error {
	return s.run(ctx, nc, ConsumerSpec(), opts)
}

func (s *Socialshare) run(ctx context.Context, nc *nats.Conn, spec bus.ConsumerSpec, opts bus.RunOptions) error {
	sub := bus.NewSubscriber(Name, s.pub, s.Handle, Decode, s.publishShared,
		bus.SubscriberSpec(spec), bus.SubscriberLogger(s.deps.Logger), bus.SubscriberTracerProvider(s.deps.Tracer),
		bus.SubscriberBefore(withMsg))
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

type msgKey struct{}

// withMsg keeps the delivered message in the context, so a permanent
// failure can be dead-lettered with the original message.
func withMsg(ctx context.Context, m jetstream.Msg) context.Context {
	return context.WithValue(ctx, msgKey{}, m)
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
		if ev.ArticleId != id {
			return Request{}, fmt.Errorf("ArticleRetracted on %s: article %q", msg.Subject(), ev.ArticleId)
		}
		return Request{Retracted: &ev}, nil
	}
	return Request{}, fmt.Errorf("socialshare does not handle %q events", event)
}

// Outcome is the event a handled message leads to: EventShared once a
// rendered revision reached a final state on every network, EventWithdrawn
// once every post of a retracted article was dealt with. Both carry an
// ArticleShared, the networks' final states.
type Outcome struct {
	Event string
	*newsroomv1.ArticleShared
}

// Handle shares a rendered article on every network, or withdraws a
// retracted one. Networks are handled side by side; the event is
// published once every network reached a final state for the revision,
// and the message comes back later while any is waiting (publication
// time, a network's delay, a retry).
func (s *Socialshare) Handle(ctx context.Context, req Request) (*Outcome, error) {
	event := bus.EventShared
	var (
		ev  *newsroomv1.ArticleShared
		err error
	)
	if req.Retracted != nil {
		event = bus.EventWithdrawn
		ev, err = s.retract(ctx, req.Retracted)
	} else {
		ev, err = s.share(ctx, req.Rendered)
	}
	if err != nil || ev == nil {
		return nil, err
	}
	return &Outcome{Event: event, ArticleShared: ev}, nil
}

// share posts a rendered revision on every network.
func (s *Socialshare) share(ctx context.Context, ev *newsroomv1.ArticleRendered) (*newsroomv1.ArticleShared, error) {
	results := make([]outcome, len(s.cfg.Networks))
	var wg sync.WaitGroup
	for i, n := range s.cfg.Networks {
		wg.Go(func() { results[i] = s.shareNetwork(ctx, ev, n) })
	}
	wg.Wait()

	var errs []error
	var wait time.Duration
	var waiting []string
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.wait > 0 {
			waiting = append(waiting, s.cfg.Networks[i])
			if wait == 0 || r.wait < wait {
				wait = r.wait
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("share article %s: %w", ev.ArticleId, errors.Join(errs...))
	}
	if wait > 0 {
		return nil, bus.RetryAfter(fmt.Errorf("share article %s: %s not done yet", ev.ArticleId, strings.Join(waiting, ", ")), wait)
	}
	if err := s.deadLetterFailures(ctx, ev.ArticleId, bus.Subject(bus.EventRendered, ev.ArticleId), ev); err != nil {
		return nil, err
	}
	out := &newsroomv1.ArticleShared{
		EventId:    bus.MsgID(ev.ArticleId, ev.Revision, bus.EventShared),
		ArticleId:  ev.ArticleId,
		Revision:   ev.Revision,
		OccurredAt: timestamppb.New(s.cfg.Now()),
		AcceptedAt: ev.AcceptedAt,
	}
	for _, r := range results {
		out.Shares = append(out.Shares, r.entry.share())
	}
	return out, nil
}

func (s *Socialshare) publishShared(ctx context.Context, o *Outcome) error {
	if o == nil || o.ArticleShared == nil {
		return nil
	}
	_, err := s.pub.Publish(ctx, bus.Event{Subject: bus.Subject(o.Event, o.ArticleId), MsgID: o.EventId, Message: o.ArticleShared})
	return err
}

// deadLetterFailures sends the message to news.dlq.socialshare once,
// naming every network whose post failed for good, and marks those
// entries so a redelivery does not send it again.
func (s *Socialshare) deadLetterFailures(ctx context.Context, id, subject string, ev proto.Message) error {
	keys, err := s.ledger.keys(ctx, id)
	if err != nil {
		return err
	}
	type failed struct {
		key string
		e   Entry
		rev uint64
	}
	var fs []failed
	var reasons []string
	for _, k := range keys {
		e, rev, ok, err := s.ledger.get(ctx, k)
		if err != nil {
			return err
		}
		if ok && (e.Status == StatusFailed || e.Status == StatusDeleteFailed) && !e.DeadLettered {
			fs = append(fs, failed{k, e, rev})
			reasons = append(reasons, fmt.Sprintf("%s %s: %s", e.Network, e.Kind, e.LastError))
		}
	}
	if len(fs) == 0 {
		return nil
	}
	reason := fmt.Sprintf("article %s: %s", id, strings.Join(reasons, "; "))
	var hdr nats.Header
	var data []byte
	var delivered, seq uint64
	if m, ok := ctx.Value(msgKey{}).(jetstream.Msg); ok {
		subject, hdr, data = m.Subject(), m.Headers(), m.Data()
		if md, err := m.Metadata(); err == nil {
			delivered, seq = md.NumDelivered, md.Sequence.Stream
		}
	} else if data, err = proto.Marshal(ev); err != nil {
		return err
	}
	if err := bus.DeadLetter(ctx, s.pub, Name, subject, hdr, data, delivered, seq, reason); err != nil {
		return fmt.Errorf("dead letter for %s: %w", id, err)
	}
	s.deps.Logger.WarnContext(ctx, "share failed for good", "article_id", id, "reason", reason, "dlq", bus.DLQSubject(Name))
	for _, f := range fs {
		f.e.DeadLettered = true
		if _, err := s.ledger.update(ctx, f.key, f.e, f.rev); err != nil && !errors.Is(err, errConflict) {
			return err
		}
	}
	return nil
}

// Shares lists the ledger entries of an article: per network its post,
// then its corrections.
func (s *Socialshare) Shares(ctx context.Context, id string) ([]Entry, error) {
	keys, err := s.ledger.keys(ctx, id)
	if err != nil {
		return nil, err
	}
	byNetwork := map[string][]Entry{}
	for _, k := range keys {
		e, _, ok, err := s.ledger.get(ctx, k)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		e.Post = nil // text and link are enough for readers
		if e.Kind == KindPost {
			byNetwork[e.Network] = append([]Entry{e}, byNetwork[e.Network]...)
		} else {
			byNetwork[e.Network] = append(byNetwork[e.Network], e)
		}
	}
	out := []Entry{}
	for _, n := range compose.Networks {
		out = append(out, byNetwork[n]...)
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
		_ = kithttp.JSON(w, http.StatusOK, map[string]any{"id": id, "shares": entries})
	})
	return mux
}
