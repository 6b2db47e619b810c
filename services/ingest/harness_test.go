package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/natstest"
	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// Tokens of the test editors: desk may do everything, reader only read,
// wire only submit.
const (
	deskToken   = "desk-token-0123456789abcdef"
	readerToken = "reader-token-0123456789abcdef"
	wireToken   = "wire-token-0123456789abcdef"
)

func testTokens(t testing.TB) *apiauth.Tokens {
	t.Helper()
	tokens, err := apiauth.ParseTokenFile(strings.NewReader(
		"desk:" + apiauth.HashToken(deskToken) + ":*\n" +
			"reader:" + apiauth.HashToken(readerToken) + ":read\n" +
			"wire:" + apiauth.HashToken(wireToken) + ":submit\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// fakeClock is the injected clock of scheduling tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is ingest running against a real embedded nats-server.
type env struct {
	t       testing.TB
	dir     string
	srv     *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	ing     *Ingest
	h       http.Handler
	metrics *metrics.Set
	cancel  context.CancelFunc
	done    chan error
	cfg     Config
}

// startEnv starts a server on dir ("" for a fresh one) and ingest with
// cfg (tokens, URLs and a quick release check filled in).
func startEnv(t testing.TB, dir string, cfg Config) *env {
	t.Helper()
	return startEnvWith(t, dir, cfg, false)
}

// startEnvWith can leave the consumers off (noRun): the API alone.
func startEnvWith(t testing.TB, dir string, cfg Config, noRun bool) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e := &env{t: t, dir: dir}
	e.srv = natstest.Server(t, dir)
	e.nc, e.js = natstest.Connect(t, e.srv, Name)
	if cfg.Tokens == nil {
		cfg.Tokens = testTokens(t)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "https://news.example.com"
	}
	if cfg.ReleaseCheck == 0 {
		cfg.ReleaseCheck = 50 * time.Millisecond
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = -1
	}
	e.cfg = cfg
	e.metrics = metrics.New()
	ing, err := New(context.Background(), Deps{JS: e.js, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: e.metrics}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.ing, e.h = ing, ing.Handler()
	if noRun {
		return e
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	ready := make(chan struct{})
	go func() { e.done <- ing.Run(ctx, e.nc, bus.RunOptions{Ready: ready}) }()
	select {
	case <-ready:
	case err := <-e.done:
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("consumers not ready")
	}
	t.Cleanup(e.stop)
	return e
}

// stop ends ingest and its server, as a process exit would.
func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	if err := <-e.done; err != nil && !errors.Is(err, context.Canceled) {
		e.t.Errorf("run: %v", err)
	}
	e.nc.Close()
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// do sends a request through the real HTTP handler. Every response is
// checked against the OpenAPI document.
func (e *env) do(method, path, token, contentType string, body []byte, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	checkAgainstOpenAPI(e.t, req, rec)
	return rec
}

func (e *env) submit(contentType string, body []byte, header ...string) SubmitResponse {
	e.t.Helper()
	rec := e.do("POST", "/v1/articles", deskToken, contentType, body, header...)
	if rec.Code != http.StatusAccepted {
		e.t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	return decodeJSON[SubmitResponse](e.t, rec)
}

func (e *env) status(id string) Status {
	e.t.Helper()
	rec := e.do("GET", "/v1/articles/"+id, readerToken, "", nil)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("status %s: %d %s", id, rec.Code, rec.Body)
	}
	return decodeJSON[Status](e.t, rec)
}

// eventually waits for the status of id to satisfy ok.
func (e *env) eventually(id string, ok func(Status) bool) Status {
	e.t.Helper()
	var st Status
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		rec := e.do("GET", "/v1/articles/"+id, readerToken, "", nil)
		if rec.Code == http.StatusOK {
			st = decodeJSON[Status](e.t, rec)
			if ok(st) {
				return st
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	e.t.Fatalf("status of %s never reached the expected state; last:\n%s", id, b)
	return st
}

// events reads every message of the article's subjects of one kind.
func (e *env) events(kind, id string) []*jetstream.RawStreamMsg {
	e.t.Helper()
	ctx := context.Background()
	stream, err := e.js.Stream(ctx, bus.StreamName)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	subject := bus.Subject(kind, id)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			e.t.Fatal(err)
		}
		if m.Subject == subject || (id == "*" && strings.HasPrefix(m.Subject, "news.article."+kind+".")) {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) submitted(id string) []*newsroomv1.ArticleSubmitted {
	e.t.Helper()
	var out []*newsroomv1.ArticleSubmitted
	for _, m := range e.events(bus.EventSubmitted, id) {
		var ev newsroomv1.ArticleSubmitted
		if err := proto.Unmarshal(m.Data, &ev); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, &ev)
	}
	return out
}

// publish stores an event as another service would.
func (e *env) publish(ev bus.Event) {
	e.t.Helper()
	if _, err := bus.NewPublisher(e.js, noop.NewTracerProvider()).Publish(context.Background(), ev); err != nil {
		e.t.Fatal(err)
	}
}

// stages publishes what enrichment, rendering and socialshare publish for
// a revision (the events of their contract), so the status view can be
// checked without those services.
func (e *env) stages(id string, rev int64, shares ...*newsroomv1.Share) {
	e.t.Helper()
	ctx := context.Background()
	pub := bus.NewPublisher(e.js, noop.NewTracerProvider())
	now := timestamppb.Now()
	a := &newsroomv1.Article{Id: id, Headline: "Enriched headline", Language: "en",
		Evidence: map[string]*newsroomv1.Evidence{"language": {Source: "detector", Rule: "trigrams", Confidence: 0.97}},
		Bylines:  []*newsroomv1.Byline{{Name: "Emmanuel Alejandro Rondón", Organization: "El American", Evidence: &newsroomv1.Evidence{Source: "bio-line", Confidence: 0.8, Excerpt: "is a journalist at El American"}}},
		Images:   []*newsroomv1.Image{{Url: "https://e.com/a.jpg", Credit: "EFE", Evidence: &newsroomv1.Evidence{Source: "caption", Rule: "credit-in-parentheses", Confidence: 0.9}}},
		Tags:     []*newsroomv1.Tag{{Name: "Parler", Type: newsroomv1.TagType_TAG_TYPE_ORGANIZATION, Evidence: &newsroomv1.Evidence{Source: "entities", Confidence: 0.9}}},
	}
	for _, ev := range []bus.Event{
		{Subject: bus.Subject(bus.EventEnriched, id), MsgID: bus.MsgID(id, rev, bus.EventEnriched),
			Message: &newsroomv1.ArticleEnriched{ArticleId: id, Revision: rev, OccurredAt: now, Article: a}},
		{Subject: bus.Subject(bus.EventRendered, id), MsgID: bus.MsgID(id, rev, bus.EventRendered),
			Message: &newsroomv1.ArticleRendered{ArticleId: id, Revision: rev, OccurredAt: now, Url: "https://news.example.com/articles/" + id}},
		{Subject: bus.Subject(bus.EventShared, id), MsgID: bus.MsgID(id, rev, bus.EventShared),
			Message: &newsroomv1.ArticleShared{ArticleId: id, Revision: rev, OccurredAt: now, Shares: shares}},
	} {
		if _, err := pub.Publish(ctx, ev); err != nil {
			e.t.Fatal(err)
		}
	}
}

func decodeJSON[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, rec.Body)
	}
	return v
}

func decodeProblem(t testing.TB, rec *httptest.ResponseRecorder) problem.Details {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("%d answered with %q, not a problem document: %s", rec.Code, ct, rec.Body)
	}
	return decodeJSON[problem.Details](t, rec)
}

func sharedFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{testtool.SharedDir(t)}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seedPaste(t testing.TB) []byte { return sharedFile(t, "fixtures", "seed-article.txt") }

func ninjsSample(t testing.TB) []byte {
	return sharedFile(t, "conformance", "ninjs", "examples", "2.1-tt_text_image_2.json")
}

func htmlPage(t testing.TB) []byte {
	t.Helper()
	return gunzip(t, sharedFile(t, "eval", "naeb-dev", "html", "00c7f15fb635c360a44f126d4694369c.html.gz"))
}

func gunzip(t testing.TB, gz []byte) []byte {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
