package rendering_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/rendering/page"
)

// clock is an injectable, settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// site is a rendering service on a real embedded JetStream server, served
// by an httptest server whose URL is the site's base URL. /media/ serves
// test photos, as an image host would.
type site struct {
	t     testing.TB
	nc    *nats.Conn
	js    jetstream.JetStream
	r     *rendering.Rendering
	srv   *httptest.Server
	base  string
	clock *clock
}

func newSite(t testing.TB, now time.Time) *site {
	t.Helper()
	s := natstest.Server(t, "")
	nc, js := natstest.Connect(t, s, "rendering-test")
	st := &site{t: t, nc: nc, js: js, clock: &clock{t: now}}
	var h http.Handler = http.NotFoundHandler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /media/{name}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(photo(t))
	})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { h.ServeHTTP(w, req) }))
	st.srv = httptest.NewServer(mux)
	t.Cleanup(st.srv.Close)
	st.base = st.srv.URL
	ctx := context.Background()
	r, err := rendering.New(ctx, rendering.Deps{JS: js}, rendering.Config{
		Site: page.Site{Name: "The Daily Test", BaseURL: st.base, Language: "en", XHandle: "@dailytest",
			SameAs: []string{"https://social.example/@dailytest"}, Description: "News for testers."},
		Now: st.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	st.r = r
	h = r.Handler()
	return st
}

var (
	photoOnce  sync.Once
	photoBytes []byte
)

// photo is a JPEG that looks enough like a photograph for a screenshot:
// a sky-to-ground gradient with a dark rectangle (a phone) in front.
func photo(t testing.TB) []byte {
	photoOnce.Do(func() {
		img := image.NewRGBA(image.Rect(0, 0, 1200, 675))
		for y := 0; y < 675; y++ {
			for x := 0; x < 1200; x++ {
				c := color.RGBA{uint8(40 + y/6), uint8(70 + y/5), uint8(140 + y/8), 255}
				if x > 480 && x < 720 && y > 120 && y < 600 {
					c = color.RGBA{20, 20, 24, 255}
					if x > 500 && x < 700 && y > 150 && y < 560 {
						c = color.RGBA{200, 60, 60, 255}
					}
				}
				img.Set(x, y, c)
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
			panic(err)
		}
		photoBytes = buf.Bytes()
	})
	return photoBytes
}

// enrich handles an enriched event for a revision of a directly, as the
// consumer would deliver it.
func (s *site) enrich(a *newsroomv1.Article, rev int64) *newsroomv1.ArticleRendered {
	s.t.Helper()
	ev, err := s.r.Handle(context.Background(), rendering.Request{Enriched: &newsroomv1.ArticleEnriched{
		EventId: bus.MsgID(a.Id, rev, bus.EventEnriched), ArticleId: a.Id, Revision: rev,
		OccurredAt: timestamppb.New(s.clock.Now()), Article: a,
	}})
	if err != nil {
		s.t.Fatalf("enriched %s rev %d: %v", a.Id, rev, err)
	}
	return ev
}

func (s *site) retract(id string, rev int64, reason string) {
	s.t.Helper()
	_, err := s.r.Handle(context.Background(), rendering.Request{Retracted: &newsroomv1.ArticleRetracted{
		EventId: bus.MsgID(id, rev, bus.EventRetracted), ArticleId: id, Revision: rev,
		OccurredAt: timestamppb.New(s.clock.Now()), Reason: reason, Editor: "desk",
	}})
	if err != nil {
		s.t.Fatalf("retract %s: %v", id, err)
	}
}

// get fetches a path of the site (without gzip, unless asked).
func (s *site) get(path string, header ...string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res, string(b)
}

// body fetches a path that must answer 200.
func (s *site) body(path string) string {
	s.t.Helper()
	res, b := s.get(path)
	if res.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, b)
	}
	return b
}

func (s *site) status(path string) int {
	s.t.Helper()
	res, _ := s.get(path)
	return res.StatusCode
}

func mustContain(t testing.TB, what, doc string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(doc, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

func mustNotContain(t testing.TB, what, doc string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(doc, w) {
			t.Errorf("%s still contains %q", what, w)
		}
	}
}
