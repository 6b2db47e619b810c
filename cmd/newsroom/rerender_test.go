package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/pkg/natstest"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/rendering"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var when = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// logEvents writes a small history into the NEWS stream: two articles, one
// of them revised and retracted, the other revised, and the rendered and
// shared events the pipeline wrote back then.
func logEvents(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(js, noop.NewTracerProvider())
	article := func(id, headline string, rev int64) *newsroomv1.ArticleEnriched {
		return &newsroomv1.ArticleEnriched{ArticleId: id, Revision: rev, OccurredAt: timestamppb.New(when), Article: &newsroomv1.Article{
			Id: id, Headline: headline, Body: "Body of " + headline, BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN,
			Section: "World", Language: "en", CreatedAt: timestamppb.New(when.Add(-time.Hour)), UpdatedAt: timestamppb.New(when.Add(time.Duration(rev) * time.Minute)),
			Bylines: []*newsroomv1.Byline{{Name: "Ana Reporter"}},
		}}
	}
	events := []struct {
		event string
		msg   interface {
			proto.Message
			GetArticleId() string
			GetRevision() int64
		}
	}{
		{bus.EventEnriched, article("kept", "Kept, first take", 1)},
		{bus.EventRendered, &newsroomv1.ArticleRendered{ArticleId: "kept", Revision: 1}},
		{bus.EventEnriched, article("gone", "Gone story", 1)},
		{bus.EventEnriched, article("kept", "Kept, final take", 2)},
		{bus.EventShared, &newsroomv1.ArticleShared{ArticleId: "kept", Revision: 2}},
		{bus.EventRetracted, &newsroomv1.ArticleRetracted{ArticleId: "gone", Revision: 2, Reason: "Could not be verified."}},
	}
	for _, e := range events {
		id, rev := e.msg.GetArticleId(), e.msg.GetRevision()
		if _, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(e.event, id), MsgID: bus.MsgID(id, rev, e.event), Message: e.msg}); err != nil {
			t.Fatal(err)
		}
	}
	// A malformed event: the rebuild skips it as the service dead-lettered it.
	if _, err := js.Publish(ctx, bus.Subject(bus.EventEnriched, "broken"), []byte("not protobuf \xff")); err != nil {
		t.Fatal(err)
	}
}

// checkSite reads the rebuilt site from the buckets and the log.
func checkSite(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	obj, err := js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		t.Fatal(err)
	}
	get := func(key string) (string, map[string]string) {
		t.Helper()
		b, err := obj.GetBytes(ctx, key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		info, err := obj.GetInfo(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), info.Metadata
	}
	page, meta := get("articles/kept")
	if !strings.Contains(page, "Kept, final take") || meta["revision"] != "2" || meta["status"] != "200" {
		t.Errorf("kept: revision %s status %s, final take shown: %v", meta["revision"], meta["status"], strings.Contains(page, "Kept, final take"))
	}
	notice, meta := get("articles/gone")
	if meta["status"] != "410" || !strings.Contains(notice, "Could not be verified.") {
		t.Errorf("gone: status %s", meta["status"])
	}
	for _, key := range []string{"index", "feed.xml", "atom.xml", "sections/world", "authors/ana-reporter", "sitemaps/articles-2026-03-10.xml"} {
		doc, _ := get(key)
		if !strings.Contains(doc, "/articles/kept") || strings.Contains(doc, "/articles/gone") {
			t.Errorf("%s: kept listed %v, gone listed %v", key, strings.Contains(doc, "/articles/kept"), strings.Contains(doc, "/articles/gone"))
		}
	}
	if doc, _ := get("index"); !strings.Contains(doc, "https://news.test/articles/kept") {
		t.Errorf("home does not use the configured public URL")
	}
	// The rebuild announced nothing: still the one rendered event of old.
	st, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(bus.EventSubjects(bus.EventRendered)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	if n != 1 {
		t.Errorf("%d rendered events in the log after the rebuild, want the 1 from before", n)
	}
}

// TestRerenderDataDir rebuilds the all-in-one's data directory with an
// embedded server, and refuses while the directory is locked.
func TestRerenderDataDir(t *testing.T) {
	dir := t.TempDir()
	ns, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	nc, js, err := bus.Connect("", "test", natsembed.ConnectOption(ns))
	if err != nil {
		t.Fatal(err)
	}
	logEvents(t, js)
	nc.Close()
	ns.Shutdown()
	ns.WaitForShutdown()

	env := envOf(map[string]string{"NEWSROOM_DATA_DIR": dir, "NEWSROOM_PUBLIC_URL": "https://news.test", "NEWSROOM_SITE_NAME": "The Test Times"})

	// While the all-in-one holds the directory, rerender refuses.
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := cli(context.Background(), []string{"rerender"}, env, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "in use") {
		t.Errorf("rerender on a locked data dir: exit %d, %q", code, errOut.String())
	}
	unlock()

	out.Reset()
	errOut.Reset()
	if code := cli(context.Background(), []string{"rerender"}, env, nil, &out, &errOut); code != 0 {
		t.Fatalf("rerender: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "from 5 events (1 malformed, skipped)") {
		t.Errorf("output: %s", out.String())
	}

	ns, err = natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, js, err = bus.Connect("", "check", natsembed.ConnectOption(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	checkSite(t, js)
}

// TestRerenderNATSURL rebuilds through NEWSROOM_NATS_URL, with -clean:
// after the index is emptied the site is rebuilt all the same.
func TestRerenderNATSURL(t *testing.T) {
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, "test")
	logEvents(t, js)
	env := envOf(map[string]string{"NEWSROOM_NATS_URL": s.ClientURL(), "NEWSROOM_PUBLIC_URL": "https://news.test"})
	for _, args := range [][]string{{"rerender"}, {"rerender", "-clean"}} {
		var out, errOut bytes.Buffer
		if code := cli(context.Background(), args, env, nil, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out.String(), errOut.String())
		}
		checkSite(t, js)
	}
	var out, errOut bytes.Buffer
	if code := cli(context.Background(), []string{"rerender", "extra"}, env, nil, &out, &errOut); code != 2 {
		t.Errorf("rerender with an argument: exit %d", code)
	}
}
