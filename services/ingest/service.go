// Package ingest is the editor's door: it validates submissions, stores each
// revision as an ArticleSubmitted event on the NEWS stream (answering only
// after the PubAck), and keeps the status view that every later event
// updates.
package ingest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/pkg/slug"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Name is the service name: its durable consumer, its telemetry name.
const Name = "ingest"

// Service is what editors can do.
type Service interface {
	Submit(ctx context.Context, req SubmitRequest) (SubmitResponse, error)
	Status(ctx context.Context, id string) (Status, error)
}

// SubmitRequest is one revision as decoded from the transport.
type SubmitRequest struct {
	Article *newsroomv1.Article
	// Create is true for POST (the id must be new), false for PUT.
	Create bool
	Editor string
}

// SubmitResponse answers a stored revision.
type SubmitResponse struct {
	ID        string `json:"id"`
	Revision  int64  `json:"revision"`
	StatusURL string `json:"status_url"`
	URL       string `json:"url"`
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
}

// Deps are the connections the service uses.
type Deps struct {
	JS     jetstream.JetStream
	Tracer trace.TracerProvider
	Logger *slog.Logger
}

type service struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	pub    *bus.Publisher
	status jetstream.KeyValue
	log    *slog.Logger
}

// StatusBucket is the KV bucket of the status view, owned by ingest.
const StatusBucket = "ingest_status"

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
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.APIURL == "" {
		cfg.APIURL = cfg.PublicURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if err := bus.EnsureStreams(ctx, d.JS, cfg.Streams); err != nil {
		return nil, err
	}
	stream, err := d.JS.Stream(ctx, bus.StreamName)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	kv, err := d.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StatusBucket,
		Description: "ingest: status view of every article, rebuilt from the NEWS log",
		History:     1,
		Storage:     storage(cfg.Streams),
		Replicas:    max(cfg.Streams.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: status bucket: %w", err)
	}
	svc := &service{
		cfg: cfg, js: d.JS, stream: stream, status: kv,
		pub: bus.NewPublisher(d.JS, d.Tracer), log: d.Logger,
	}
	return &Ingest{svc: svc, deps: d, auth: cfg.Tokens}, nil
}

func storage(o bus.StreamOptions) jetstream.StorageType {
	if o.Memory {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// ErrNotFound is returned for an unknown article.
var ErrNotFound = errors.New("article not found")

func (s *service) Submit(ctx context.Context, req SubmitRequest) (SubmitResponse, error) {
	a := req.Article
	if a.Id == "" {
		a.Id = newID(a.Headline, s.cfg.Now())
	}
	subject := bus.Subject(bus.EventSubmitted, a.Id)

	// The log is the source of truth: the last submitted event of this
	// article gives its revision, and publishing with that sequence as the
	// expected last one makes concurrent revisions conflict instead of
	// overwriting each other.
	var lastSeq uint64
	var rev int64 = 1
	last, err := s.stream.GetLastMsgForSubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		if !req.Create {
			return SubmitResponse{}, problem.New(http.StatusNotFound, "not-found", "Article not found",
				fmt.Sprintf("No article %q; create it with POST /v1/articles.", a.Id))
		}
	case err != nil:
		return SubmitResponse{}, unavailable(err)
	default:
		if req.Create {
			return SubmitResponse{}, problem.New(http.StatusConflict, "exists", "Article already exists",
				fmt.Sprintf("Article %q exists; send a new revision with PUT /v1/articles/%s.", a.Id, a.Id),
				problem.FieldError{Field: "/id", Detail: "already taken"})
		}
		var prev newsroomv1.EventHeader
		if err := proto.Unmarshal(last.Data, &prev); err != nil {
			return SubmitResponse{}, fmt.Errorf("ingest: decode last revision of %s: %w", a.Id, err)
		}
		lastSeq = last.Sequence
		rev = prev.Revision + 1
	}

	now := s.cfg.Now()
	a.Url = s.PageURL(a.Id)
	a.Editor = req.Editor
	a.UpdatedAt = timestamppb.New(now)
	if a.CreatedAt == nil {
		a.CreatedAt = a.UpdatedAt
	}
	ev := &newsroomv1.ArticleSubmitted{
		EventId:    bus.MsgID(a.Id, rev, bus.EventSubmitted),
		ArticleId:  a.Id,
		Revision:   rev,
		OccurredAt: timestamppb.New(now),
		Article:    a,
		AcceptedAt: timestamppb.New(now),
	}
	ack, err := s.pub.PublishExpect(ctx, bus.Event{Subject: subject, MsgID: ev.EventId, Message: ev}, lastSeq)
	switch {
	case errors.Is(err, bus.ErrConflict):
		return SubmitResponse{}, problem.New(http.StatusConflict, "conflict", "Concurrent revision",
			fmt.Sprintf("Another revision of %q was stored first; fetch its status and resubmit.", a.Id))
	case err != nil:
		return SubmitResponse{}, unavailable(err)
	case ack.Duplicate:
		// Same article, revision and stage already stored by someone else.
		return SubmitResponse{}, problem.New(http.StatusConflict, "conflict", "Concurrent revision",
			fmt.Sprintf("Revision %d of %q was already stored.", rev, a.Id))
	}
	// The PubAck makes the revision durable; the status view follows. A
	// failure here is repaired by the status consumer replaying the event.
	if err := s.recordSubmitted(ctx, ev); err != nil {
		s.log.WarnContext(ctx, "status view not updated at submit; the status consumer will", "article_id", a.Id, "err", err)
	}
	return SubmitResponse{
		ID: a.Id, Revision: rev, URL: a.Url,
		StatusURL: s.cfg.APIURL + "/v1/articles/" + a.Id,
	}, nil
}

// PageURL is where rendering publishes an article.
func (s *service) PageURL(id string) string { return s.cfg.PublicURL + "/articles/" + id }

func unavailable(err error) error {
	d := problem.New(http.StatusServiceUnavailable, "unavailable", "Not stored",
		"The article could not be stored durably and was not accepted; retry later.")
	d.RetryAfter = 5
	return fmt.Errorf("%w (%v)", d, err)
}

func (s *service) Status(ctx context.Context, id string) (Status, error) {
	st, _, err := s.getStatus(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Status{}, problem.New(http.StatusNotFound, "not-found", "Article not found", fmt.Sprintf("No article %q.", id))
	}
	if err != nil {
		return Status{}, unavailable(err)
	}
	return st.view(), nil
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
