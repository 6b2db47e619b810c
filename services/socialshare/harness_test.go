package socialshare

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/socialshare/compose"
	"github.com/newsroom/newsroom/services/socialshare/fakes"
)

// harness is a real embedded nats-server plus a fake of every network.
type harness struct {
	t        *testing.T
	ns       *server.Server
	nc       *nats.Conn
	js       jetstream.JetStream
	pub      *bus.Publisher
	x        *fakes.X
	mastodon *fakes.Mastodon
	bluesky  *fakes.Bluesky
	linkedin *fakes.LinkedIn
	facebook *fakes.Meta
	threads  *fakes.Meta
	images   *httptest.Server
	spans    *tracetest.SpanRecorder
	tp       *sdktrace.TracerProvider
}

const (
	xToken       = "x-user-token"
	mastoToken   = "masto-token"
	bskyHandle   = "newsroom.example.org"
	bskyPassword = "app-pass-word-1234"
	liToken      = "li-token"
	liAuthor     = "urn:li:organization:5515715"
	fbToken      = "fb-page-token"
	fbPage       = "104000000000001"
	thToken      = "th-token"
	thUser       = "17841400000000001"
)

// pngBytes is a 1x1 PNG, the card thumbnail.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t}
	h.ns = natstest.Server(t, "")
	h.nc, h.js = natstest.Connect(t, h.ns, "socialshare-test")
	h.pub = bus.NewPublisher(h.js, noop.NewTracerProvider())
	h.x = fakes.NewX(xToken)
	h.mastodon = fakes.NewMastodon(mastoToken)
	h.bluesky = fakes.NewBluesky(bskyHandle, bskyPassword)
	h.linkedin = fakes.NewLinkedIn(liToken, liAuthor)
	h.facebook = fakes.NewFacebook(fbToken, fbPage)
	h.threads = fakes.NewThreads(thToken, thUser)
	h.images = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pngBytes)
	}))
	for _, s := range []*httptest.Server{h.x.Server, h.mastodon.Server, h.bluesky.Server, h.linkedin.Server, h.facebook.Server, h.threads.Server, h.images} {
		t.Cleanup(s.Close)
	}
	h.spans = tracetest.NewSpanRecorder()
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	return h
}

// config points every network at its fake, with short timeouts and
// backoffs so retries happen within the test.
func (h *harness) config() Config {
	return Config{
		Streams: bus.StreamOptions{Memory: true},
		Site:    "Newsroom",
		Credentials: Credentials{
			X:        XCredentials{BaseURL: h.x.URL, Token: xToken},
			Mastodon: MastodonCredentials{BaseURL: h.mastodon.URL, Token: mastoToken},
			Bluesky:  BlueskyCredentials{PDS: h.bluesky.URL, Identifier: bskyHandle, AppPassword: bskyPassword},
			LinkedIn: LinkedInCredentials{BaseURL: h.linkedin.URL, Token: liToken, Author: liAuthor},
			Facebook: FacebookCredentials{BaseURL: h.facebook.URL, PageID: fbPage, Token: fbToken},
			Threads:  ThreadsCredentials{BaseURL: h.threads.URL, UserID: thUser, Token: thToken},
		},
		PerMinute:   map[string]float64{compose.X: 6000, compose.Mastodon: 6000, compose.Bluesky: 6000, compose.LinkedIn: 6000, compose.Facebook: 6000, compose.Threads: 6000},
		RetryBase:   50 * time.Millisecond,
		RetryMax:    time.Second,
		InlineWait:  3 * time.Second,
		HTTPTimeout: 400 * time.Millisecond,
	}
}

func (h *harness) service(cfg Config) *Socialshare {
	h.t.Helper()
	s, err := New(context.Background(), Deps{JS: h.js, Tracer: h.tp, Logger: slog.New(slog.DiscardHandler)}, cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// run consumes with durable (socialshare's own, or another for replays)
// until the returned stop is called.
func (h *harness) run(s *Socialshare, durable string) (stop func()) {
	h.t.Helper()
	spec := ConsumerSpec()
	spec.Durable = durable
	spec.AckWait = 3 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, h.nc, spec, bus.RunOptions{Ready: ready, Concurrency: 2}) }()
	select {
	case <-ready:
	case err := <-done:
		h.t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("consumer not ready")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Errorf("run: %v", err)
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

func testArticle(id string) *newsroomv1.Article {
	return &newsroomv1.Article{
		Id:       id,
		Headline: "Parler Sues Amazon For Taking Down Its Servers",
		Dek:      "The social network says Amazon Web Services must give 30 days’ notice — “it will kill Parler’s business” 👩‍⚖️.",
		Section:  "Technology",
		Slug:     "parler-sues-amazon",
		Language: "en",
		Tags: []*newsroomv1.Tag{
			{Name: "Parler", Salience: 0.9}, {Name: "Amazon Web Services", Salience: 0.8}, {Name: "antitrust", Salience: 0.5},
		},
	}
}

// publishRendered stores a rendered event as the rendering stage would.
func (h *harness) publishRendered(a *newsroomv1.Article, rev int64) *newsroomv1.ArticleRendered {
	h.t.Helper()
	if len(a.Images) == 0 {
		a.Images = []*newsroomv1.Image{{Url: h.images.URL + "/media/" + a.Id + ".png"}}
	}
	ev := &newsroomv1.ArticleRendered{
		EventId: bus.MsgID(a.Id, rev, bus.EventRendered), ArticleId: a.Id, Revision: rev,
		OccurredAt: timestamppb.Now(), Article: a, Url: "https://news.example.org/articles/" + a.Id + "?ref=home",
	}
	if _, err := h.pub.Publish(context.Background(), bus.Event{Subject: bus.Subject(bus.EventRendered, a.Id), MsgID: ev.EventId, Message: ev}); err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func (h *harness) publishRetracted(id string, rev int64) {
	h.t.Helper()
	ev := &newsroomv1.ArticleRetracted{EventId: bus.MsgID(id, rev, bus.EventRetracted), ArticleId: id, Revision: rev,
		OccurredAt: timestamppb.Now(), Reason: "legal"}
	if _, err := h.pub.Publish(context.Background(), bus.Event{Subject: bus.Subject(bus.EventRetracted, id), MsgID: ev.EventId, Message: ev}); err != nil {
		h.t.Fatal(err)
	}
}

// waitShared waits for the shared event of the article's revision.
func (h *harness) waitShared(id string, rev int64, within time.Duration) *newsroomv1.ArticleShared {
	h.t.Helper()
	return h.waitEvent(bus.EventShared, id, rev, within)
}

// waitEvent waits for socialshare's event (shared or withdrawn) of the
// article's revision.
func (h *harness) waitEvent(event, id string, rev int64, within time.Duration) *newsroomv1.ArticleShared {
	h.t.Helper()
	var got *newsroomv1.ArticleShared
	h.eventually(within, event+" event of "+id, func() bool {
		st, err := h.js.Stream(context.Background(), bus.StreamName)
		if err != nil {
			return false
		}
		m, err := st.GetLastMsgForSubject(context.Background(), bus.Subject(event, id))
		if err != nil {
			return false
		}
		var ev newsroomv1.ArticleShared
		if err := proto.Unmarshal(m.Data, &ev); err != nil {
			h.t.Fatal(err)
		}
		if ev.Revision != rev {
			return false
		}
		got = &ev
		return true
	})
	return got
}

// deadLetters returns the reasons of socialshare's dead letters.
func (h *harness) deadLetters() []string {
	h.t.Helper()
	st, err := h.js.Stream(context.Background(), bus.DLQStreamName)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatal(err)
		}
		if m.Subject == bus.DLQSubject(Name) {
			out = append(out, m.Header.Get(bus.HeaderDLQReason))
		}
	}
	return out
}

func (h *harness) eventually(within time.Duration, what string, ok func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remote counts every post each network ever accepted for the article
// (deleted ones too), and live ones, straight from the fakes.
type remote struct{ made, live int }

func (h *harness) remote(id string) map[string]remote {
	link := "/articles/" + id + "?"
	out := map[string]remote{}
	add := func(n string, has bool, deleted bool) {
		if !has {
			return
		}
		r := out[n]
		r.made++
		if !deleted {
			r.live++
		}
		out[n] = r
	}
	for _, p := range h.x.Tweets() {
		add(compose.X, strings.Contains(p.Text, link) && !strings.HasPrefix(p.Text, "Correction"), p.Deleted)
	}
	for _, p := range h.mastodon.Statuses() {
		add(compose.Mastodon, strings.Contains(p.Text, link) && p.InReplyToID == "", p.Deleted)
	}
	for _, p := range h.bluesky.Posts() {
		add(compose.Bluesky, strings.Contains(string(mustJSON(p.Record)), link) && p.Record["reply"] == nil, p.Deleted)
	}
	for _, p := range h.linkedin.Posts() {
		add(compose.LinkedIn, strings.Contains(p.Source, link), p.Deleted)
	}
	for _, p := range h.facebook.Posts() {
		add(compose.Facebook, strings.Contains(p.Link, link) && p.ParentID == "", p.Deleted)
	}
	for _, p := range h.threads.Posts() {
		add(compose.Threads, strings.Contains(p.Message, link) && p.ParentID == "", p.Deleted)
	}
	return out
}

// assertOnePostEach: every network holds exactly one post of the article.
// assertOneReplyEach: every network that replies holds exactly one
// reply, of all the harness's articles, under a post.
func (h *harness) assertOneReplyEach() {
	h.t.Helper()
	replies := map[string]int{}
	for _, p := range h.x.Tweets() {
		if p.InReplyTo != "" && !p.Deleted {
			replies[compose.X]++
		}
	}
	for _, p := range h.mastodon.Statuses() {
		if p.InReplyToID != "" {
			replies[compose.Mastodon]++
		}
	}
	for _, p := range h.bluesky.Posts() {
		if p.Record["reply"] != nil {
			replies[compose.Bluesky]++
		}
	}
	for _, p := range h.facebook.Posts() {
		if p.ParentID != "" {
			replies[compose.Facebook]++
		}
	}
	for _, p := range h.threads.Posts() {
		if p.ParentID != "" {
			replies[compose.Threads]++
		}
	}
	for _, n := range []string{compose.X, compose.Mastodon, compose.Bluesky, compose.Facebook, compose.Threads} {
		if replies[n] != 1 {
			h.t.Errorf("%s: %d correction replies, want 1", n, replies[n])
		}
	}
}

func (h *harness) assertOnePostEach(id string) {
	h.t.Helper()
	got := h.remote(id)
	for _, n := range compose.Networks {
		if got[n].made != 1 || got[n].live != 1 {
			h.t.Errorf("%s: %d posts made, %d live; want exactly 1", n, got[n].made, got[n].live)
		}
	}
}
