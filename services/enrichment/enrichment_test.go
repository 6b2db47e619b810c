package enrichment_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
	"github.com/newsroom/newsroom/services/enrichment"
)

const publicURL = "https://news.example"

// start runs the enrichment service against a real embedded nats-server.
func start(t *testing.T) (jetstream.JetStream, *enrichment.Enrichment, *bus.Publisher) {
	t.Helper()
	s := natstest.Server(t, "")
	nc, js := natstest.Connect(t, s, enrichment.Name)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := enrichment.New(ctx, enrichment.Deps{JS: js}, enrichment.Config{PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, nc, bus.RunOptions{Ready: ready, Concurrency: 2}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("consumer not ready")
	}
	_, pjs := natstest.Connect(t, s, "editor")
	return js, svc, bus.NewPublisher(pjs, noop.NewTracerProvider())
}

// next waits for the next message on subject.
func next(t *testing.T, js jetstream.JetStream, stream, subject string) jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := c.Next(jetstream.FetchMaxWait(30 * time.Second))
	if err != nil {
		t.Fatalf("waiting for %s: %v", subject, err)
	}
	return msg
}

func submit(t *testing.T, pub *bus.Publisher, id string, rev int64, a *newsroomv1.Article) {
	t.Helper()
	ev := &newsroomv1.ArticleSubmitted{EventId: bus.MsgID(id, rev, bus.EventSubmitted), ArticleId: id, Revision: rev,
		OccurredAt: timestamppb.Now(), Article: a}
	if _, err := pub.Publish(context.Background(), bus.Event{Subject: bus.Subject(bus.EventSubmitted, id), MsgID: ev.EventId, Message: ev}); err != nil {
		t.Fatal(err)
	}
}

// TestServiceEnrichesAndDeadLetters is acceptance 4's component test: a
// submitted paste comes out as ArticleEnriched with its author in the
// registry; a malformed message goes to the dead-letter subject and does
// not block the articles behind it.
func TestServiceEnrichesAndDeadLetters(t *testing.T) {
	js, svc, pub := start(t)
	body, err := os.ReadFile(filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt"))
	if err != nil {
		t.Fatal(err)
	}

	// Poison first: it must not hold up the good article behind it.
	if _, err := pub.PublishRaw(context.Background(), bus.Subject(bus.EventSubmitted, "bad-1"), "bad-1", "application/protobuf", []byte("\xff\xffnot a protobuf"), nil); err != nil {
		t.Fatal(err)
	}
	submit(t, pub, "seed-1", 1, &newsroomv1.Article{Body: string(body), BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT})

	msg := next(t, js, bus.StreamName, bus.Subject(bus.EventEnriched, "seed-1"))
	var ev newsroomv1.ArticleEnriched
	if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ArticleId != "seed-1" || ev.Revision != 1 || ev.EventId != bus.MsgID("seed-1", 1, bus.EventEnriched) {
		t.Errorf("event ids: %s r%d %s", ev.ArticleId, ev.Revision, ev.EventId)
	}
	a := ev.Article
	if a.Headline != "Parler Sues Amazon For Taking Down Its Servers" || a.BodyFormat != newsroomv1.BodyFormat_BODY_FORMAT_MARKDOWN || len(a.Tags) == 0 {
		t.Errorf("not enriched: %q %v %d tags", a.Headline, a.BodyFormat, len(a.Tags))
	}
	if len(a.Bylines) != 1 {
		t.Fatalf("bylines %v", a.Bylines)
	}
	b := a.Bylines[0]
	if b.Slug != "emmanuel-rondon" || b.Url != publicURL+"/authors/emmanuel-rondon" || b.Bio == "" {
		t.Errorf("byline not filled from the registry: %+v", b)
	}
	rec, err := svc.Authors().Lookup(context.Background(), "emmanuel-rondon")
	if err != nil || rec.Name != "Emmanuel Alejandro Rondón" || rec.Organization != "El American" {
		t.Errorf("registry record %+v, %v", rec, err)
	}

	dl := next(t, js, bus.DLQStreamName, bus.DLQSubject(enrichment.Name))
	if got := dl.Headers().Get(bus.HeaderDLQSubject); got != bus.Subject(bus.EventSubmitted, "bad-1") {
		t.Errorf("dead letter from %q", got)
	}
	if dl.Headers().Get(bus.HeaderDLQReason) == "" || string(dl.Data()) != "\xff\xffnot a protobuf" {
		t.Errorf("dead letter reason %q, data %q", dl.Headers().Get(bus.HeaderDLQReason), dl.Data())
	}

	// A binary body decodes but cannot be enriched: dead letter too.
	submit(t, pub, "bin-1", 1, &newsroomv1.Article{Body: "\x00\x01\x02binary", BodyFormat: newsroomv1.BodyFormat_BODY_FORMAT_TEXT})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, bus.DLQStreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.DLQSubject(enrichment.Name)}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := c.Next(jetstream.FetchMaxWait(30 * time.Second))
		if err != nil {
			t.Fatalf("no dead letter for the binary body: %v", err)
		}
		if m.Headers().Get(bus.HeaderDLQSubject) == bus.Subject(bus.EventSubmitted, "bin-1") {
			break
		}
	}
}

// TestRegistryAcrossSpellingsAndInstances: one person, several spellings,
// two instances writing at once and redelivery: one record, one slug, and
// no write when nothing is new.
func TestRegistryAcrossSpellingsAndInstances(t *testing.T) {
	s := natstest.Server(t, "")
	ctx := context.Background()
	var regs []*enrichment.Registry
	for _, name := range []string{"enrichment-a", "enrichment-b"} {
		_, js := natstest.Connect(t, s, name)
		svc, err := enrichment.New(ctx, enrichment.Deps{JS: js}, enrichment.Config{PublicURL: publicURL + "/"})
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, svc.Authors())
	}
	spellings := []string{"Emmanuel Alejandro Rondón", "emmanuel rondon", "Emmanuel A. Rondón", "EMMANUEL RONDÓN", "Emmanuel Rondón"}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(spellings))
	for i := range 2 {
		for _, sp := range spellings {
			wg.Go(func() {
				bl := []*newsroomv1.Byline{{Name: sp}}
				if err := regs[i].Resolve(ctx, "a1", bl); err != nil {
					errs <- err
					return
				}
				if bl[0].Slug != "emmanuel-rondon" || bl[0].Url != publicURL+"/authors/emmanuel-rondon" {
					errs <- errors.New("slug " + bl[0].Slug + " url " + bl[0].Url)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rec, err := regs[0].Lookup(ctx, "emmanuel-rondon")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != "Emmanuel Alejandro Rondón" || len(rec.Spellings) != len(spellings) {
		t.Errorf("record %+v", rec)
	}

	// Redelivery: the same byline again writes nothing.
	_, js := natstest.Connect(t, s, "probe")
	kv, err := js.KeyValue(ctx, enrichment.AuthorsBucket)
	if err != nil {
		t.Fatal(err)
	}
	before, err := kv.Get(ctx, "emmanuel-rondon")
	if err != nil {
		t.Fatal(err)
	}
	if err := regs[1].Resolve(ctx, "a1", []*newsroomv1.Byline{{Name: "emmanuel rondon"}}); err != nil {
		t.Fatal(err)
	}
	after, err := kv.Get(ctx, "emmanuel-rondon")
	if err != nil {
		t.Fatal(err)
	}
	if after.Revision() != before.Revision() {
		t.Errorf("an unchanged author was written again: revision %d → %d", before.Revision(), after.Revision())
	}

	// A bio learnt later fills the record once; organisations are not people.
	bl := []*newsroomv1.Byline{{Name: "Jane Doe", Bio: "Jane Doe is a reporter."}, {Name: "EFE", IsOrganization: true}}
	if err := regs[0].Resolve(ctx, "a2", bl); err != nil {
		t.Fatal(err)
	}
	bl2 := []*newsroomv1.Byline{{Name: "Jane  DOE"}}
	if err := regs[1].Resolve(ctx, "a3", bl2); err != nil {
		t.Fatal(err)
	}
	if bl2[0].Bio != "Jane Doe is a reporter." || bl[1].Slug != "" {
		t.Errorf("bio from the registry %q; organisation slug %q", bl2[0].Bio, bl[1].Slug)
	}
}
