package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
	"github.com/newsroom/newsroom/pkg/telemetry"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// syncBuffer is a log sink several workers write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAcceptedAtTravels: ingest's acceptance time goes from the event's
// accepted_at into a header, from a consumed message into the events a
// stage publishes (even an event type without the field), and into the
// consumer loop's Result; the stage's log lines carry the article's trace
// and id.
func TestAcceptedAtTravels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, "bus-test")
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{Memory: true}); err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	pub := bus.NewPublisher(js, tp)
	accepted := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

	ev := &newsroomv1.ArticleSubmitted{EventId: "e1", ArticleId: "a-1", Revision: 1,
		Article: &newsroomv1.Article{Id: "a-1"}, AcceptedAt: timestamppb.New(accepted)}
	if _, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventSubmitted, "a-1"), MsgID: "e1", Message: ev}); err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream.GetLastMsgForSubject(ctx, bus.Subject(bus.EventSubmitted, "a-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := raw.Header.Get(bus.HeaderAcceptedAt); got != "2026-03-01T12:00:00.123456789Z" {
		t.Fatalf("%s from the event's accepted_at = %q", bus.HeaderAcceptedAt, got)
	}

	logs := &syncBuffer{}
	logger := telemetry.NewLogger(logs, "stage", "debug")
	spec := bus.ConsumerSpec{Durable: "stage", FilterSubjects: []string{bus.EventSubjects(bus.EventSubmitted)}}
	var once sync.Once
	endpoint := func(ctx context.Context, ev *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleRetracted, error) {
		var err error
		once.Do(func() { err = errors.New("first try fails") })
		// ArticleRetracted has no accepted_at: the header must come from ctx.
		return &newsroomv1.ArticleRetracted{EventId: "r1", ArticleId: ev.ArticleId, Revision: ev.Revision}, err
	}
	decode := func(_ context.Context, msg jetstream.Msg) (*newsroomv1.ArticleSubmitted, error) {
		var ev newsroomv1.ArticleSubmitted
		return &ev, proto.Unmarshal(msg.Data(), &ev)
	}
	encode := func(ctx context.Context, out *newsroomv1.ArticleRetracted) error {
		_, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventRetracted, out.ArticleId), MsgID: out.EventId, Message: out})
		return err
	}
	sub := bus.NewSubscriber("stage", pub, endpoint, decode, encode, bus.SubscriberSpec(spec),
		bus.SubscriberLogger(logger), bus.SubscriberBackoff(func(uint64) time.Duration { return 10 * time.Millisecond }))
	results := make(chan bus.Result, 4)
	done := make(chan error, 1)
	go func() {
		done <- bus.Run(ctx, js, spec, sub, bus.RunOptions{Logger: logger, Finalizer: func(_ context.Context, r bus.Result) { results <- r }})
	}()

	var got []bus.Result
	for len(got) < 2 {
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(10 * time.Second):
			t.Fatalf("RunOptions.Finalizer saw %d results, want 2 (a nak, then an ack)", len(got))
		}
	}
	if got[0].Outcome != bus.OutcomeNaked || got[1].Outcome != bus.OutcomeAcked {
		t.Errorf("outcomes %s, %s; want nak, ack", got[0].Outcome, got[1].Outcome)
	}
	for _, r := range got {
		if !r.AcceptedAt.Equal(accepted) || r.ArticleID != "a-1" {
			t.Errorf("Result %s: accepted %v article %q; want %v a-1", r.Outcome, r.AcceptedAt, r.ArticleID, accepted)
		}
	}
	if got[1].Deliveries != 2 {
		t.Errorf("second result: %d deliveries, want 2", got[1].Deliveries)
	}

	raw, err = stream.GetLastMsgForSubject(ctx, bus.Subject(bus.EventRetracted, "a-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := raw.Header.Get(bus.HeaderAcceptedAt); got != "2026-03-01T12:00:00.123456789Z" {
		t.Errorf("%s copied from the consumed message = %q", bus.HeaderAcceptedAt, got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var retried bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if !strings.Contains(line, "a-1") {
			continue
		}
		for _, k := range []string{"trace_id", "span_id", "article_id"} {
			if s, _ := rec[k].(string); s == "" {
				t.Errorf("article log line without %s: %s", k, line)
			}
		}
		retried = retried || rec["msg"] == "message will be retried"
	}
	if !retried {
		t.Errorf("no retry logged; logs:\n%s", logs)
	}
}
