package rendering_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/rendering/internal/fixture"
)

// siteState is everything the rendering buckets hold: every index key's
// value, and every object's digest, headers and metadata.
type siteState struct {
	index   map[string]string
	objects map[string]string
}

func captureState(t *testing.T, js jetstream.JetStream) siteState {
	t.Helper()
	ctx := context.Background()
	st := siteState{index: map[string]string{}, objects: map[string]string{}}
	kv, err := js.KeyValue(ctx, rendering.IndexBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		st.index[k] = string(e.Value())
	}
	obj, err := js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := obj.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		meta := slices.Sorted(maps.Keys(i.Metadata))
		for n, k := range meta {
			meta[n] = k + "=" + i.Metadata[k]
		}
		st.objects[i.Name] = fmt.Sprintf("%s %s %v", i.Digest, i.Headers.Get("Content-Type"), meta)
	}
	return st
}

// diffState names what differs between two states, at most a few.
func diffState(want, got siteState) []string {
	var out []string
	for _, pair := range [][2]map[string]string{{want.index, got.index}, {want.objects, got.objects}} {
		w, g := pair[0], pair[1]
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if v, ok := g[k]; !ok {
				out = append(out, "missing "+k)
			} else if v != w[k] {
				out = append(out, fmt.Sprintf("%s: %.200s, want %.200s", k, v, w[k]))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				out = append(out, "extra "+k)
			}
		}
	}
	return out[:min(len(out), 8)]
}

// lastSeqs are the last sequences of the index's and the site's streams:
// unchanged means nothing was written.
func lastSeqs(t *testing.T, js jetstream.JetStream) [2]uint64 {
	t.Helper()
	var out [2]uint64
	for i, name := range []string{"KV_" + rendering.IndexBucket, "OBJ_" + rendering.SiteBucket} {
		s, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out[i] = info.State.LastSeq
	}
	return out
}

// TestRebuildMatchesTheService: a history of articles (new ones, revisions
// that move an article to another hour, section and tags, a stale
// revision arriving late, translations linked both ways, a retraction and
// a revision after it) is handled by the service one event at a time and
// written to the log. A rebuild from that log, which replays it against
// the index in memory, must leave exactly what the service left: over
// the unchanged site it writes nothing at all; from an emptied site it
// writes every index value and object the service wrote, byte for byte.
// With a new site name it rewrites the pages, and the index stays.
func TestRebuildMatchesTheService(t *testing.T) {
	s := newSite(t, t0)
	ctx := context.Background()
	pub := bus.NewPublisher(s.js, noop.NewTracerProvider())
	events := 0
	apply := func(req rendering.Request) {
		t.Helper()
		var (
			event, id string
			rev       int64
			msg       proto.Message
		)
		if req.Enriched != nil {
			event, id, rev, msg = bus.EventEnriched, req.Enriched.ArticleId, req.Enriched.Revision, req.Enriched
		} else {
			event, id, rev, msg = bus.EventRetracted, req.Retracted.ArticleId, req.Retracted.Revision, req.Retracted
		}
		if _, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(event, id), MsgID: bus.MsgID(id, rev, event), Message: msg}); err != nil {
			t.Fatal(err)
		}
		events++
		if _, err := s.r.Handle(ctx, req); err != nil {
			t.Fatalf("%s %s rev %d: %v", event, id, rev, err)
		}
	}
	enriched := func(a *newsroomv1.Article, rev int64) rendering.Request {
		return rendering.Request{Enriched: &newsroomv1.ArticleEnriched{
			ArticleId: a.Id, Revision: rev, OccurredAt: timestamppb.New(t0), Article: proto.Clone(a).(*newsroomv1.Article)}}
	}
	article := func(i int) *newsroomv1.Article {
		a := fixture.Article(s.base, i, t0.Add(-time.Duration(i*5)*time.Hour))
		// Enrichment says where each field came from: a map, which
		// protobuf encodes in a random order unless asked not to.
		a.Evidence = map[string]*newsroomv1.Evidence{}
		for _, f := range []string{"headline", "section", "tags", "language", "bylines", "images"} {
			a.Evidence[f] = &newsroomv1.Evidence{Source: "enrichment", Rule: f + "-rule", Confidence: 0.9}
		}
		return a
	}
	for i := range 40 {
		a := article(i)
		if i == 11 {
			a.Language = "es"
		}
		if i == 10 {
			a.Translations = []*newsroomv1.Translation{{Language: "es", ArticleId: article(11).Id, Label: "Leer en español"}}
		}
		apply(enriched(a, 1))
	}
	// Story 3 is revised: another hour, section and tags.
	moved := article(3)
	moved.Headline, moved.Section = "Story 3, revised", "Science"
	moved.CreatedAt = timestamppb.New(t0.Add(-90 * time.Minute))
	moved.Tags = []*newsroomv1.Tag{{Name: "space", Slug: "space"}}
	apply(enriched(moved, 2))
	// Story 5: revision 3, then revision 2 arriving late (never shown).
	late := article(5)
	late.Headline = "Story 5, third take"
	apply(enriched(late, 3))
	late.Headline = "Story 5, stale second take"
	apply(enriched(late, 2))
	// Story 7 is retracted; a revision after it never brings it back.
	apply(rendering.Request{Retracted: &newsroomv1.ArticleRetracted{ArticleId: article(7).Id, Revision: 2,
		OccurredAt: timestamppb.New(t0), Reason: "Could not be verified.", Editor: "desk"}})
	apply(enriched(article(7), 3))

	want := captureState(t, s.js)
	if !strings.Contains(want.index["article."+article(7).Id], `"gone":true`) || !strings.Contains(want.index["article."+article(5).Id], `"rev":3`) {
		t.Fatalf("the history did not leave what it should: %s / %s", want.index["article."+article(7).Id], want.index["article."+article(5).Id])
	}
	seqs := lastSeqs(t, s.js)

	st, err := s.r.Rebuild(ctx, rendering.RebuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != events || st.Kept != 0 {
		t.Errorf("rebuild read %d events (%d kept), want %d (0)", st.Events, st.Kept, events)
	}
	if d := diffState(want, captureState(t, s.js)); len(d) > 0 {
		t.Errorf("rebuild over the unchanged site changed it:\n%s", strings.Join(d, "\n"))
	}
	if now := lastSeqs(t, s.js); now != seqs {
		t.Errorf("rebuild over the unchanged site wrote: index and site streams at %v, were %v", now, seqs)
	}

	if _, err := s.r.Rebuild(ctx, rendering.RebuildOptions{Clean: true}); err != nil {
		t.Fatal(err)
	}
	if d := diffState(want, captureState(t, s.js)); len(d) > 0 {
		t.Errorf("clean rebuild differs from what the service wrote:\n%s", strings.Join(d, "\n"))
	}

	site := s.r.Site()
	site.Name = "The Daily Rebuilt"
	r2, err := rendering.New(ctx, rendering.Deps{JS: s.js}, rendering.Config{Site: site, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Rebuild(ctx, rendering.RebuildOptions{}); err != nil {
		t.Fatal(err)
	}
	got := captureState(t, s.js)
	if d := diffState(siteState{index: want.index}, siteState{index: got.index}); len(d) > 0 {
		t.Errorf("a new site name changed the index:\n%s", strings.Join(d, "\n"))
	}
	for _, path := range []string{"/articles/" + article(0).Id, "/articles/" + article(39).Id, "/", "/sections/science", "/tags/space/feed.xml"} {
		mustContain(t, path, s.body(path), "The Daily Rebuilt")
	}
	mustContain(t, "revised story", s.body("/articles/"+article(3).Id), "Story 3, revised")
	mustContain(t, "late revision", s.body("/articles/"+article(5).Id), "Story 5, third take")
	if code := s.status("/articles/" + article(7).Id); code != 410 {
		t.Errorf("retracted story: %d after the rebuild", code)
	}
	mustContain(t, "translation", s.body("/articles/"+article(10).Id), `hreflang="es"`)
}
