package faults_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// TestPoisonMessages publishes messages no stage can read into the middle
// of the load: bytes that are not protobuf on each stage's input, and an
// event that names another article than its subject. Each ends on the
// dead letters of exactly the services that consume it (ingest's status
// view reads the events after submission), once, and the articles around
// them flow.
func TestPoisonMessages(t *testing.T) {
	start := time.Now()
	s := startStack(t, stackOptions{})
	l := startLoad(t, s.loadConfig("deadletters", 150))
	l.waitAccepted(t, 10, time.Minute)

	garbage := []byte("\xff\xfe not a protobuf event")
	wrongID, err := proto.Marshal(&newsroomv1.ArticleSubmitted{EventId: "x", ArticleId: "someone-else", Revision: 1,
		Article: &newsroomv1.Article{Id: "someone-else", Headline: "Misrouted", Body: "A body."}})
	if err != nil {
		t.Fatal(err)
	}
	poison := []struct {
		id, event string
		data      []byte
		// consumer is the stage whose input the event is.
		consumer string
	}{
		{"poison-1", bus.EventSubmitted, garbage, localstack.Enrichment},
		{"poison-2", bus.EventEnriched, garbage, localstack.Rendering},
		{"poison-3", bus.EventRendered, garbage, localstack.Socialshare},
		{"poison-4", bus.EventSubmitted, wrongID, localstack.Enrichment},
	}
	want := map[string][]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range poison {
		if _, err := s.js.Publish(ctx, bus.Subject(p.event, p.id), p.data); err != nil {
			t.Fatal(err)
		}
		want[p.consumer] = append(want[p.consumer], p.id)
		if p.event != bus.EventSubmitted {
			want[localstack.Ingest] = append(want[localstack.Ingest], p.id)
		}
	}
	before, _, _ := l.snapshot()
	l.waitAccepted(t, len(before)+10, time.Minute)
	l.Stop()

	accepted, refused, unanswered := l.snapshot()
	rep := assertLedger(t, s.js, expectations{accepted: accepted, nets: s.nets, poison: want}, 90*time.Second)
	t.Logf("%d poison messages; %d articles answered 202, %d refused, %d dropped; ledger: %s; %s in all",
		len(poison), len(accepted), len(refused), unanswered, rep, time.Since(start).Round(time.Second))
}
