// Package ingest is the editor's door: it validates submissions, stores each
// revision as an event on the NEWS stream (answering only after the
// PubAck), holds scheduled and embargoed revisions until their time, takes
// articles down, and keeps the status view that every later event updates.
//
// The log is the article's only record. Every write of ingest (a revision,
// a held revision, a retraction) is a compare-and-set on the last sequence
// of all the article's subjects, so concurrent writers, and a release racing
// a new revision or a retraction, can never reorder an article's history.
package ingest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/ingest/formats"
)

// Name is the service name: its durable consumer, its telemetry name.
const Name = "ingest"

// Service is what editors can do.
type Service interface {
	Submit(ctx context.Context, req SubmitRequest) (SubmitResponse, error)
	Retract(ctx context.Context, req RetractRequest) (RetractResponse, error)
	Status(ctx context.Context, id string) (Status, error)
	List(ctx context.Context, req ListRequest) (ListResponse, error)
}

// SubmitRequest is one revision as decoded from the transport.
type SubmitRequest struct {
	Article *newsroomv1.Article
	// Create is true for POST (the id must be new), false for PUT.
	Create bool
	Editor string
	// IfMatch, when positive, is the revision the editor last saw: the
	// revision is refused if the article has moved on.
	IfMatch int64
}

// SubmitResponse answers a stored revision.
type SubmitResponse struct {
	ID       string `json:"id"`
	Revision int64  `json:"revision"`
	// State is "processing", or "scheduled" until ReleaseAt.
	State     string     `json:"state"`
	ReleaseAt *time.Time `json:"release_at,omitempty"`
	StatusURL string     `json:"status_url"`
	URL       string     `json:"url"`
}

// RetractRequest takes an article down.
type RetractRequest struct {
	ID     string
	Reason string
	Editor string
}

// RetractResponse answers a stored retraction.
type RetractResponse struct {
	ID          string    `json:"id"`
	Revision    int64     `json:"revision"`
	State       string    `json:"state"`
	RetractedAt time.Time `json:"retracted_at"`
	Reason      string    `json:"reason"`
	StatusURL   string    `json:"status_url"`
}

// Config of the ingest service.
type Config struct {
	// PublicURL is the site's base URL, where pages are published.
	PublicURL string
	// APIURL is the base of status URLs; defaults to PublicURL.
	APIURL string
	// Tokens the API accepts; required.
	Tokens  *apiauth.Tokens
	Streams bus.StreamOptions
	// Now is the clock; tests inject one.
	Now func() time.Time
	// MaxBodyBytes caps a submission (default formats.MaxBodyBytes); it is
	// lowered to what the NATS server accepts in one message.
	MaxBodyBytes int
	// RatePerSecond and RateBurst limit each token's requests (defaults 20
	// and 40); a negative rate disables the limit.
	RatePerSecond float64
	RateBurst     int
	// IdempotencyTTL is how long an Idempotency-Key is remembered (24h).
	IdempotencyTTL time.Duration
	// IdempotencyWait is how long a retry waits for the first request with
	// its key to finish before answering 409 (10s).
	IdempotencyWait time.Duration
	// ReleaseCheck is the longest a held revision waits before its time is
	// checked again against Now (1m). Tests with a fake clock shorten it.
	ReleaseCheck time.Duration
	// Metrics receive request counts and latencies; nil discards them.
	Metrics *Metrics
}

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
	// Metrics counts and times the API's answers by route and status
	// (metrics.APIRequestsTotal, APIRequestSeconds); nil records nothing.
	Metrics *metrics.Set
}

type service struct {
	cfg         Config
	js          jetstream.JetStream
	stream      jetstream.Stream
	pub         *bus.Publisher
	status      jetstream.KeyValue
	idempotency jetstream.KeyValue
	log         *slog.Logger
	// list is this instance's copy of the status view's summaries.
	list summaries
}

// Buckets ingest owns.
const (
	// StatusBucket is the KV bucket of the status view.
	StatusBucket = "ingest_status"
	// IdempotencyBucket remembers Idempotency-Keys and their responses.
	IdempotencyBucket = "ingest_idempotency"
)

// New ensures the streams and buckets ingest owns and returns the service.
func New(ctx context.Context, d Deps, cfg Config) (*Ingest, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tokens == nil {
		return nil, errors.New("ingest: no API tokens configured")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.APIURL == "" {
		cfg.APIURL = cfg.PublicURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.MaxBodyBytes <= 0 || cfg.MaxBodyBytes > formats.MaxBodyBytes {
		cfg.MaxBodyBytes = formats.MaxBodyBytes
	}
	// A revision travels as one NATS message: leave room for the event's
	// other fields and headers, so a large body gets 413, not a failed
	// publish.
	if nc := d.JS.Conn(); nc != nil {
		if limit := int(nc.MaxPayload()) - 64<<10; limit > 0 && limit < cfg.MaxBodyBytes {
			cfg.MaxBodyBytes = limit
		}
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = 20
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 40
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = 24 * time.Hour
	}
	if cfg.IdempotencyWait <= 0 {
		cfg.IdempotencyWait = 10 * time.Second
	}
	if cfg.ReleaseCheck <= 0 {
		cfg.ReleaseCheck = time.Minute
	}
	if cfg.Metrics == nil {
		cfg.Metrics = DiscardMetrics()
	}
	if err := bus.EnsureStreams(ctx, d.JS, cfg.Streams); err != nil {
		return nil, err
	}
	stream, err := d.JS.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	status, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StatusBucket,
		Description: "ingest: status view of every article, rebuilt from the NEWS log",
		History:     1,
		Storage:     storage(cfg.Streams),
		Replicas:    max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: status bucket: %w", err)
	}
	idem, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      IdempotencyBucket,
		Description: "ingest: Idempotency-Keys of editor requests and their first responses",
		History:     1,
		TTL:         cfg.IdempotencyTTL,
		Storage:     storage(cfg.Streams),
		Replicas:    max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: idempotency bucket: %w", err)
	}
	svc := &service{
		cfg: cfg, js: d.JS, stream: stream, status: status, idempotency: idem,
		pub: bus.NewPublisher(d.JS, d.Tracer), log: d.Logger,
	}
	return &Ingest{svc: svc, deps: d, auth: cfg.Tokens, limiter: newTokenLimiter(cfg.RatePerSecond, cfg.RateBurst)}, nil
}

func storage(o bus.StreamOptions) jetstream.StorageType {
	if o.Memory {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// articleLog is what the log says about one article, read before a write.
type articleLog struct {
	// lastSeq is the stream sequence of the article's last event of any
	// kind: the compare-and-set point of every write.
	lastSeq uint64
	// revision is the highest revision ingest stored (released or held);
	// released the highest published as submitted.
	revision, released int64
	// latest is the article of the highest revision.
	latest *newsroomv1.ArticleSubmitted
	// own holds the last event of each of ingest's kinds: the retraction
	// for a write, all three for a status.
	own ownEvents
}

func (l articleLog) exists() bool { return l.lastSeq != 0 }

// articleSubjects is the filter of every event of one article.
func articleSubjects(id string) string { return bus.Subject("*", id) }

// readLog reads the article's last events, for a write: each must be
// readable.
func (s *service) readLog(ctx context.Context, id string) (articleLog, error) {
	return s.readLogWith(ctx, id, false)
}

// readLogWith is readLog; with skip, for a status, an unreadable event is
// left out (a stage's dead letter reports it) and the rest is shown.
func (s *service) readLogWith(ctx context.Context, id string, skip bool) (articleLog, error) {
	var l articleLog
	last, err := s.stream.GetLastMsgForSubject(ctx, articleSubjects(id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("read log of %s: %w", id, err)
	}
	l.lastSeq = last.Sequence
	for _, event := range []string{bus.EventSubmitted, bus.EventScheduled} {
		m, err := s.lastOf(ctx, event, id, last)
		if err != nil {
			return l, err
		}
		if m == nil {
			continue
		}
		var ev newsroomv1.ArticleSubmitted
		if err := proto.Unmarshal(m.Data, &ev); err != nil {
			if skip {
				continue
			}
			return l, fmt.Errorf("decode %s of %s: %w", m.Subject, id, err)
		}
		if event == bus.EventSubmitted {
			l.released, l.own.submitted = ev.Revision, &ev
		} else {
			l.own.scheduled = &ev
		}
		if ev.Revision > l.revision {
			l.revision, l.latest = ev.Revision, &ev
		}
	}
	m, err := s.lastOf(ctx, bus.EventRetracted, id, last)
	if err != nil {
		return l, err
	}
	if m != nil {
		var ev newsroomv1.ArticleRetracted
		if err := proto.Unmarshal(m.Data, &ev); err != nil {
			if !skip {
				return l, fmt.Errorf("decode %s of %s: %w", m.Subject, id, err)
			}
		} else {
			l.own.retracted = &ev
		}
	}
	return l, nil
}

// lastOf is the last event of a kind, or nil; last (the article's last
// event of any kind) saves a lookup when it is that one.
func (s *service) lastOf(ctx context.Context, event, id string, last *jetstream.RawStreamMsg) (*jetstream.RawStreamMsg, error) {
	subject := bus.Subject(event, id)
	if last.Subject == subject {
		return last, nil
	}
	m, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read log of %s: %w", id, err)
	}
	return m, nil
}

// maxWriteAttempts bounds compare-and-set retries: other stages' events of
// the same article move its last sequence too.
const maxWriteAttempts = 16

// releaseTime is when a revision may be published: the later of its
// publish and embargo times.
func releaseTime(a *newsroomv1.Article) time.Time {
	var t time.Time
	for _, ts := range []*timestamppb.Timestamp{a.GetPublishAt(), a.GetEmbargoUntil()} {
		if ts != nil && ts.AsTime().After(t) {
			t = ts.AsTime()
		}
	}
	return t
}

func (s *service) Submit(ctx context.Context, req SubmitRequest) (SubmitResponse, error) {
	a := req.Article
	if a == nil {
		return SubmitResponse{}, problem.New(http.StatusBadRequest, "invalid", "No article", "The request holds no article.")
	}
	// A create expects an empty log (an id made here has one): the
	// compare-and-set below (last sequence 0) proves it, so the first
	// attempt needs no read of the log. If the id is taken, the write
	// fails and the second attempt reads the log and says so.
	if a.Id == "" {
		a.Id = newID(a.Headline, s.cfg.Now())
	}
	fresh := req.Create
	id := a.Id
	now := s.cfg.Now()
	a.Url = s.PageURL(id)
	a.Editor = req.Editor
	a.UpdatedAt = timestamppb.New(now)
	if a.Correction != nil && a.Correction.At == nil {
		a.Correction.At = timestamppb.New(now)
	}
	release := releaseTime(a)
	held := release.After(now)

	var seenRevision int64 = -1
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		var l articleLog
		if !fresh || attempt > 0 {
			var err error
			if l, err = s.readLog(ctx, id); err != nil {
				return SubmitResponse{}, unavailable(err)
			}
		}
		if perr := submitAllowed(req, l, id); perr != nil {
			return SubmitResponse{}, perr
		}
		if seenRevision >= 0 && l.revision != seenRevision {
			return SubmitResponse{}, problem.New(http.StatusConflict, "conflict", "Concurrent revision",
				fmt.Sprintf("Revision %d of %q was stored while this one was; fetch its status and resubmit.", l.revision, id))
		}
		seenRevision = l.revision
		rev := l.revision + 1
		// Revision 1's creation time stays the article's.
		if l.latest.GetArticle().GetCreatedAt() != nil {
			a.CreatedAt = l.latest.Article.CreatedAt
		} else {
			a.CreatedAt = timestamppb.New(now)
		}
		event := bus.EventSubmitted
		if held {
			event = bus.EventScheduled
		}
		ev := &newsroomv1.ArticleSubmitted{
			EventId:    bus.MsgID(id, rev, event),
			ArticleId:  id,
			Revision:   rev,
			OccurredAt: timestamppb.New(now),
			Article:    a,
			AcceptedAt: timestamppb.New(now),
		}
		buf := eventBuffers.Get().(*[]byte)
		data, err := proto.MarshalOptions{}.MarshalAppend((*buf)[:0], ev)
		if err != nil {
			eventBuffers.Put(buf)
			return SubmitResponse{}, fmt.Errorf("encode revision %d of %s: %w", rev, id, err)
		}
		if size := len(data); size > s.maxEventBytes() {
			eventBuffers.Put(buf)
			return SubmitResponse{}, problem.New(http.StatusRequestEntityTooLarge, "too-large", "Article too large",
				fmt.Sprintf("The article encodes to %d bytes; one revision may take at most %d. Shorten the body or its lists.", size, s.maxEventBytes()),
				problem.FieldError{Field: "body", Detail: "too large once encoded"})
		}
		_, err = s.pub.PublishExpectFor(ctx, bus.Event{Subject: bus.Subject(event, id), MsgID: ev.EventId, Message: ev, Data: data}, l.lastSeq, articleSubjects(id))
		// The client copied the event into its connection's buffer: the
		// encoding can be reused once the publish returns.
		if cap(data) <= maxPooledEvent {
			*buf = data[:0]
		}
		eventBuffers.Put(buf)
		if errors.Is(err, bus.ErrConflict) {
			continue
		}
		if err != nil {
			return SubmitResponse{}, unavailable(err)
		}
		// The PubAck makes the revision durable, and the status reads it
		// from the log (statusOf): nothing else to write.
		resp := SubmitResponse{ID: id, Revision: rev, State: "processing", URL: a.Url, StatusURL: s.statusURL(id)}
		if held {
			resp.State, resp.ReleaseAt = "scheduled", &release
		}
		return resp, nil
	}
	return SubmitResponse{}, busy(id)
}

// eventBuffers hold encodings of submitted events between requests: most
// of a submission's bytes, which need not be garbage for each request.
var eventBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledEvent: a larger encoding (a rare, very long article) is left to
// the collector rather than kept.
const maxPooledEvent = 256 << 10

func submitAllowed(req SubmitRequest, l articleLog, id string) *problem.Details {
	switch {
	case req.Create && l.exists():
		return problem.New(http.StatusConflict, "exists", "Article already exists",
			fmt.Sprintf("Article %q exists; send a new revision with PUT /v1/articles/%s.", id, id),
			problem.FieldError{Field: "/id", Detail: "already taken"})
	case !req.Create && l.revision == 0:
		return notFound(id, "create it with POST /v1/articles")
	case l.own.retracted != nil:
		return problem.New(http.StatusConflict, "retracted", "Article retracted",
			fmt.Sprintf("Article %q was retracted (%s); it takes no new revisions. Submit a new article instead.", id, l.own.retracted.Reason))
	case req.IfMatch > 0 && req.IfMatch != l.revision:
		return problem.New(http.StatusPreconditionFailed, "precondition-failed", "Article has moved on",
			fmt.Sprintf("If-Match names revision %d but the article is at revision %d; fetch its status and resubmit.", req.IfMatch, l.revision),
			problem.FieldError{Field: "If-Match", Detail: fmt.Sprintf("current revision is %d", l.revision)})
	}
	return nil
}

func (s *service) Retract(ctx context.Context, req RetractRequest) (RetractResponse, error) {
	id := req.ID
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		l, err := s.readLog(ctx, id)
		if err != nil {
			return RetractResponse{}, unavailable(err)
		}
		switch {
		case l.revision == 0:
			return RetractResponse{}, notFound(id, "nothing to retract")
		case l.own.retracted != nil:
			return RetractResponse{}, problem.New(http.StatusConflict, "retracted", "Already retracted",
				fmt.Sprintf("Article %q was retracted at %s: %s", id, l.own.retracted.OccurredAt.AsTime().Format(time.RFC3339), l.own.retracted.Reason))
		}
		now := s.cfg.Now()
		ev := &newsroomv1.ArticleRetracted{
			EventId:    bus.MsgID(id, l.revision, bus.EventRetracted),
			ArticleId:  id,
			Revision:   l.revision,
			OccurredAt: timestamppb.New(now),
			Reason:     req.Reason,
			Editor:     req.Editor,
		}
		_, err = s.pub.PublishExpectFor(ctx, bus.Event{Subject: bus.Subject(bus.EventRetracted, id), MsgID: ev.EventId, Message: ev}, l.lastSeq, articleSubjects(id))
		if errors.Is(err, bus.ErrConflict) {
			continue
		}
		if err != nil {
			return RetractResponse{}, unavailable(err)
		}
		return RetractResponse{ID: id, Revision: l.revision, State: "retracted", RetractedAt: now,
			Reason: req.Reason, StatusURL: s.statusURL(id)}, nil
	}
	return RetractResponse{}, busy(id)
}

// errNotDue asks for the held revision to be looked at again later.
var errNotDue = errors.New("held until its release time")

// release publishes a held revision when its time has come, unless a newer
// revision or a retraction has superseded it. It is the endpoint of the
// release consumer; redelivery with a delay is the timer, so a held
// revision survives any restart.
func (s *service) release(ctx context.Context, held *newsroomv1.ArticleSubmitted) (struct{}, error) {
	id := held.ArticleId
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		l, err := s.readLog(ctx, id)
		if err != nil {
			return struct{}{}, err
		}
		if l.own.retracted != nil || l.released >= held.Revision || l.revision > held.Revision {
			s.log.InfoContext(ctx, "held revision superseded; not released", "article_id", id, "revision", held.Revision)
			return struct{}{}, nil
		}
		now := s.cfg.Now()
		if due := releaseTime(held.Article); due.After(now) {
			return struct{}{}, bus.RetryAfter(errNotDue, min(due.Sub(now), s.cfg.ReleaseCheck))
		}
		ev := &newsroomv1.ArticleSubmitted{
			EventId:    bus.MsgID(id, held.Revision, bus.EventSubmitted),
			ArticleId:  id,
			Revision:   held.Revision,
			OccurredAt: timestamppb.New(now),
			Article:    held.Article,
			AcceptedAt: held.AcceptedAt,
		}
		_, err = s.pub.PublishExpectFor(ctx, bus.Event{Subject: bus.Subject(bus.EventSubmitted, id), MsgID: ev.EventId, Message: ev}, l.lastSeq, articleSubjects(id))
		if errors.Is(err, bus.ErrConflict) {
			continue
		}
		if err != nil {
			return struct{}{}, err
		}
		s.log.InfoContext(ctx, "held revision released", "article_id", id, "revision", held.Revision)
		return struct{}{}, nil
	}
	return struct{}{}, fmt.Errorf("release %s revision %d: the log kept moving", id, held.Revision)
}

// maxEventBytes is the largest event the bus carries, less room for its
// headers.
func (s *service) maxEventBytes() int {
	if nc := s.js.Conn(); nc != nil && nc.MaxPayload() > 0 {
		return int(nc.MaxPayload()) - 16<<10
	}
	return s.cfg.MaxBodyBytes
}

// PageURL is where rendering publishes an article.
func (s *service) PageURL(id string) string { return s.cfg.PublicURL + "/articles/" + id }

func (s *service) statusURL(id string) string { return s.cfg.APIURL + "/v1/articles/" + id }

func notFound(id, hint string) *problem.Details {
	return problem.New(http.StatusNotFound, "not-found", "Article not found", fmt.Sprintf("No article %q; %s.", id, hint))
}

func unavailable(err error) error {
	d := problem.New(http.StatusServiceUnavailable, "unavailable", "Not stored",
		"The request could not be stored durably and was not accepted; retry later.")
	d.RetryAfter = 5
	return fmt.Errorf("%w (%v)", d, err)
}

func busy(id string) error {
	d := problem.New(http.StatusServiceUnavailable, "busy", "Article busy",
		fmt.Sprintf("Article %q changed on every attempt to store this request; retry shortly.", id))
	d.RetryAfter = 1
	return d
}

// newID makes an article id from the headline's first words and a random
// suffix: readable in URLs and logs, unique without coordination.
func newID(headline string, now time.Time) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	var b [8]byte
	_, _ = rand.Read(b[:])
	suffix := make([]byte, len(b))
	for i, c := range b {
		suffix[i] = alphabet[int(c)%len(alphabet)]
	}
	prefix := slug.Make(headline, 48)
	if prefix == "" {
		prefix = now.UTC().Format("20060102")
	}
	return prefix + "-" + string(suffix)
}
