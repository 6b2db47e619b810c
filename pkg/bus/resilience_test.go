package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// runStage runs a consumer loop over submitted events with the given spec
// and run options until the test ends.
func (e env) runStage(t *testing.T, spec bus.ConsumerSpec, o bus.RunOptions, ep bus.Endpoint[*newsroomv1.ArticleSubmitted, *newsroomv1.ArticleEnriched]) {
	t.Helper()
	spec.Durable = "stage"
	spec.FilterSubjects = []string{bus.EventSubjects(bus.EventSubmitted)}
	enc := func(ctx context.Context, out *newsroomv1.ArticleEnriched) error {
		_, err := e.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventEnriched, out.ArticleId),
			MsgID: bus.MsgID(out.ArticleId, out.Revision, "enriched"), Message: out})
		return err
	}
	sub := bus.NewSubscriber("stage", e.pub, ep, decodeSubmitted, enc, bus.SubscriberSpec(spec))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	o.Ready = ready
	go func() { done <- bus.Run(ctx, e.js, spec, sub, o) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// deliveries counts how often each article reached the endpoint.
type deliveries struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *deliveries) add(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[id]++
}

func (d *deliveries) get(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[id]
}

// TestQueuedMessagesAreKeptInProgress: with one worker, messages wait
// behind a handler slower than AckWait. They are in hand too: none may be
// redelivered and handled twice.
func TestQueuedMessagesAreKeptInProgress(t *testing.T) {
	e := newEnv(t)
	const ackWait = 600 * time.Millisecond
	var seen deliveries
	e.runStage(t, bus.ConsumerSpec{AckWait: ackWait, MaxDeliver: 5}, bus.RunOptions{Concurrency: 1},
		func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
			seen.add(in.ArticleId)
			if in.ArticleId == "slow" {
				time.Sleep(3 * ackWait)
			}
			return passThrough(ctx, in)
		})
	ids := []string{"slow", "q1", "q2", "q3"}
	for _, id := range ids {
		e.submit(t, id, 1)
	}
	waitFor(t, "four enriched", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.>") == 4 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	for _, id := range ids {
		if n := seen.get(id); n != 1 {
			t.Errorf("%s handled %d times, want 1", id, n)
		}
	}
}

// TestRunOptionsAckWait: RunOptions.AckWait (NEWSROOM_ACK_WAIT) sets the
// consumer's AckWait, and a Subscriber built from a spec with the default
// 30s keeps slow work in progress at the shorter interval.
func TestRunOptionsAckWait(t *testing.T) {
	e := newEnv(t)
	const ackWait = 1 * time.Second
	var seen deliveries
	e.runStage(t, bus.ConsumerSpec{}, bus.RunOptions{AckWait: ackWait},
		func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
			seen.add(in.ArticleId)
			time.Sleep(3 * ackWait)
			return passThrough(ctx, in)
		})
	c, err := e.js.Consumer(context.Background(), bus.StreamName, "stage")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.CachedInfo().Config.AckWait; got != ackWait {
		t.Fatalf("consumer AckWait %v, want %v", got, ackWait)
	}
	e.submit(t, "slow", 1)
	waitFor(t, "enriched", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.slow") == 1 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if n := seen.get("slow"); n != 1 {
		t.Fatalf("slow message handled %d times, want 1", n)
	}
}

// TestFullStreamHoldsTheMessage: a stage whose event the full stream
// refuses keeps its message (no nak, no dead letter) and publishes once an
// operator makes room.
func TestFullStreamHoldsTheMessage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stream, err := e.js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	var seen deliveries
	gate := make(chan struct{})
	e.runStage(t, bus.ConsumerSpec{AckWait: time.Second, MaxDeliver: 2}, bus.RunOptions{},
		func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
			seen.add(in.ArticleId)
			if in.ArticleId == "held" {
				<-gate // until the stream is full
			}
			return passThrough(ctx, in)
		})

	// Fill the stream exactly while "held" is being handled.
	e.submit(t, "held", 1)
	waitFor(t, "held in the endpoint", func() bool { return seen.get("held") == 1 })
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxBytes = int64(info.State.Bytes)
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	ev := &newsroomv1.ArticleSubmitted{ArticleId: "refused", Revision: 1, Article: &newsroomv1.Article{Id: "refused", Headline: "Headline refused"}}
	_, err = e.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventSubmitted, "refused"), MsgID: "refused", Message: ev})
	if !bus.IsStreamFull(err) {
		t.Fatalf("publish to the full stream: %v, want an error IsStreamFull recognises", err)
	}
	close(gate)

	// Longer than MaxDeliver × AckWait: a nak-based retry would be dead
	// letters by now.
	time.Sleep(3 * time.Second)
	if n := count(t, e.js, bus.DLQStreamName, ">"); n != 0 {
		t.Fatalf("%d dead letters while the stream was full", n)
	}
	if n := count(t, e.js, bus.StreamName, "news.article.enriched.held"); n != 0 {
		t.Fatalf("enriched event stored in a full stream")
	}
	cfg.MaxBytes = -1
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "held article enriched", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.held") == 1 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if n := seen.get("held"); n != 1 {
		t.Errorf("held message handled %d times, want 1", n)
	}
	if n := count(t, e.js, bus.DLQStreamName, ">"); n != 0 {
		t.Errorf("%d dead letters", n)
	}
}

func TestIsStreamFullIgnoresOtherErrors(t *testing.T) {
	for _, err := range []error{
		nil,
		context.DeadlineExceeded,
		&jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "message size exceeds maximum allowed"},
		&jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeStreamWrongLastSequence, Description: "wrong last sequence: 3"},
	} {
		if bus.IsStreamFull(err) {
			t.Errorf("IsStreamFull(%v) = true", err)
		}
	}
}
