package bus_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natstest"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

func TestValidateArticleID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"parler-sues-amazon-k3x9", true},
		{"a", true},
		{"2026_11_27-x", true},
		{"", false},
		{"has.dot", false},
		{"star*", false},
		{"gt>", false},
		{"with space", false},
		{"tab\tid", false},
		{"line\r\nNats-Msg-Id: x", false},
		{"Upper", false},
		{"-leading", false},
		{"trailing-", false},
		{"_leading", false},
		{"trailing_", false},
		{"in--ner__x", true},
		{"ümlaut", false},
		{strings.Repeat("a", bus.MaxArticleIDLen), true},
		{strings.Repeat("a", bus.MaxArticleIDLen+1), false},
	} {
		err := bus.ValidateArticleID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateArticleID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestSubjects(t *testing.T) {
	s := bus.Subject(bus.EventEnriched, "abc-1")
	if s != "news.article.enriched.abc-1" {
		t.Fatalf("Subject = %q", s)
	}
	ev, id, ok := bus.ParseSubject(s)
	if !ok || ev != bus.EventEnriched || id != "abc-1" {
		t.Fatalf("ParseSubject(%q) = %q %q %v", s, ev, id, ok)
	}
	for _, bad := range []string{"news.article.enriched", "news.dlq.x", "news.article.enriched.a.b", "other.article.x.y"} {
		if _, _, ok := bus.ParseSubject(bad); ok {
			t.Errorf("ParseSubject(%q) accepted", bad)
		}
	}
	if p := bus.SubjectPattern(s); p != "news.article.enriched.*" {
		t.Errorf("SubjectPattern = %q", p)
	}
}

func TestMsgID(t *testing.T) {
	a := bus.MsgID("x", 1, "enriched")
	if a != bus.MsgID("x", 1, "enriched") {
		t.Fatal("MsgID not deterministic")
	}
	for _, other := range []string{bus.MsgID("x", 2, "enriched"), bus.MsgID("x", 1, "rendered"), bus.MsgID("x1", 1, "enriched")} {
		if other == a {
			t.Fatal("MsgID collides across article, revision or stage")
		}
	}
}

func TestHeaderCarrierKeepsLowerCase(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	h := nats.Header{}
	bus.Propagator.Inject(ctx, bus.HeaderCarrier(h))
	if _, ok := h["traceparent"]; !ok {
		t.Fatalf("traceparent not set lower case: %v", h)
	}
	if _, ok := h["Traceparent"]; ok {
		t.Fatal("traceparent canonicalised")
	}
	// A producer that canonicalised the key is still understood.
	h2 := nats.Header{"Traceparent": h["traceparent"]}
	got := bus.HeaderCarrier(h2).Get("traceparent")
	if got != h["traceparent"][0] {
		t.Fatalf("Get fallback = %q", got)
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := uint64(1); n < 20; n++ {
		d := bus.Backoff(n)
		if d < prev || d > 30*time.Second {
			t.Fatalf("Backoff(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
	if bus.Backoff(1) != 250*time.Millisecond || bus.Backoff(20) != 30*time.Second {
		t.Fatalf("Backoff bounds: %v %v", bus.Backoff(1), bus.Backoff(20))
	}
}

// env is a server, the streams and a publisher.
type env struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	pub *bus.Publisher
}

func newEnv(t *testing.T) env {
	t.Helper()
	s := natstest.Server(t, "")
	nc, js := natstest.Connect(t, s, "test")
	if err := bus.EnsureStreams(context.Background(), js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	// Twice: creating the streams must be idempotent.
	if err := bus.EnsureStreams(context.Background(), js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return env{nc: nc, js: js, pub: bus.NewPublisher(js, noop.NewTracerProvider())}
}

func (e env) submit(t *testing.T, id string, rev int64) {
	t.Helper()
	ev := &newsroomv1.ArticleSubmitted{EventId: bus.MsgID(id, rev, "submitted"), ArticleId: id, Revision: rev,
		Article: &newsroomv1.Article{Id: id, Headline: "Headline " + id}}
	if _, err := e.pub.Publish(context.Background(), bus.Event{Subject: bus.Subject(bus.EventSubmitted, id), MsgID: ev.EventId, Message: ev}); err != nil {
		t.Fatal(err)
	}
}

func decodeSubmitted(_ context.Context, m jetstream.Msg) (*newsroomv1.ArticleSubmitted, error) {
	var ev newsroomv1.ArticleSubmitted
	if err := proto.Unmarshal(m.Data(), &ev); err != nil {
		return nil, err
	}
	if ev.ArticleId == "" {
		return nil, errors.New("no article id")
	}
	return &ev, nil
}

// stage runs a consumer "stage" over submitted events with endpoint e,
// publishing news.article.enriched.<id> as its own event.
func (e env) stage(t *testing.T, spec bus.ConsumerSpec, ep bus.Endpoint[*newsroomv1.ArticleSubmitted, *newsroomv1.ArticleEnriched], opts ...bus.SubscriberOption) (stop func()) {
	t.Helper()
	if spec.Durable == "" {
		spec.Durable = "stage"
	}
	spec.FilterSubjects = []string{bus.EventSubjects(bus.EventSubmitted)}
	enc := func(ctx context.Context, out *newsroomv1.ArticleEnriched) error {
		_, err := e.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventEnriched, out.ArticleId),
			MsgID: bus.MsgID(out.ArticleId, out.Revision, "enriched"), Message: out})
		return err
	}
	sub := bus.NewSubscriber("stage", e.pub, ep, decodeSubmitted, enc, append([]bus.SubscriberOption{bus.SubscriberSpec(spec)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, e.js, spec, sub, bus.RunOptions{Ready: ready}) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func passThrough(_ context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
	return &newsroomv1.ArticleEnriched{ArticleId: in.ArticleId, Revision: in.Revision, Article: in.Article}, nil
}

// waitFor polls cond until it holds or 15s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(t *testing.T, js jetstream.JetStream, stream, subject string) int {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}

func consumerIdle(t *testing.T, js jetstream.JetStream, durable string) bool {
	t.Helper()
	c, err := js.Consumer(context.Background(), bus.StreamName, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.NumPending == 0 && info.NumAckPending == 0
}

func TestStagePublishesThenAcks(t *testing.T) {
	e := newEnv(t)
	e.stage(t, bus.ConsumerSpec{}, passThrough)
	for _, id := range []string{"a", "b", "c"} {
		e.submit(t, id, 1)
	}
	waitFor(t, "three enriched events", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.>") == 3 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if n := count(t, e.js, bus.DLQStreamName, ">"); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
}

func TestMalformedMessageIsDeadLetteredAndOthersFlow(t *testing.T) {
	e := newEnv(t)
	e.stage(t, bus.ConsumerSpec{}, passThrough)
	e.submit(t, "before", 1)
	// Not a protobuf ArticleSubmitted: a wrong wire type on field 1.
	if _, err := e.js.Publish(context.Background(), "news.article.submitted.poison", []byte{0x0f, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	e.submit(t, "after", 1)
	waitFor(t, "one dead letter", func() bool { return count(t, e.js, bus.DLQStreamName, bus.DLQSubject("stage")) == 1 })
	waitFor(t, "both good articles enriched", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.>") == 2 })

	dlq, err := e.js.Stream(context.Background(), bus.DLQStreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := dlq.GetLastMsgForSubject(context.Background(), bus.DLQSubject("stage"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get(bus.HeaderDLQSubject); got != "news.article.submitted.poison" {
		t.Errorf("dead letter subject header = %q", got)
	}
	if got := m.Header.Get(bus.HeaderDLQReason); !strings.Contains(got, "decode") {
		t.Errorf("dead letter reason = %q, want the decode error", got)
	}
	if got := m.Header.Get(bus.HeaderDLQService); got != "stage" {
		t.Errorf("dead letter service = %q", got)
	}
	if string(m.Data) != "\x0f\xff\xff" {
		t.Errorf("dead letter body = %q, want the original bytes", m.Data)
	}
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
}

func TestTransientFailureIsRetriedThenSucceeds(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	e.stage(t, bus.ConsumerSpec{MaxDeliver: 5}, func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
		if calls.Add(1) < 3 {
			return nil, errors.New("dependency down")
		}
		return passThrough(ctx, in)
	}, bus.SubscriberBackoff(func(uint64) time.Duration { return 10 * time.Millisecond }))
	e.submit(t, "flaky", 1)
	waitFor(t, "enriched after retries", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.>") == 1 })
	if calls.Load() != 3 {
		t.Errorf("endpoint called %d times, want 3", calls.Load())
	}
	if n := count(t, e.js, bus.DLQStreamName, ">"); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
}

func TestPersistentFailureIsDeadLetteredOnLastDelivery(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	e.stage(t, bus.ConsumerSpec{MaxDeliver: 3}, func(context.Context, *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
		calls.Add(1)
		return nil, errors.New("always down")
	}, bus.SubscriberBackoff(func(uint64) time.Duration { return 10 * time.Millisecond }))
	e.submit(t, "doomed", 1)
	waitFor(t, "dead letter", func() bool { return count(t, e.js, bus.DLQStreamName, ">") == 1 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if calls.Load() != 3 {
		t.Errorf("endpoint called %d times, want MaxDeliver=3", calls.Load())
	}
	dlq, _ := e.js.Stream(context.Background(), bus.DLQStreamName)
	m, err := dlq.GetLastMsgForSubject(context.Background(), bus.DLQSubject("stage"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Header.Get(bus.HeaderDLQReason); !strings.Contains(r, "failed 3 deliveries") || !strings.Contains(r, "always down") {
		t.Errorf("reason = %q", r)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	e.stage(t, bus.ConsumerSpec{MaxDeliver: 5}, func(context.Context, *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
		calls.Add(1)
		return nil, bus.Permanent(errors.New("contract violation"))
	})
	e.submit(t, "bad", 1)
	waitFor(t, "dead letter", func() bool { return count(t, e.js, bus.DLQStreamName, ">") == 1 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if calls.Load() != 1 {
		t.Errorf("endpoint called %d times, want 1", calls.Load())
	}
}

func TestPanicIsDeadLetteredNotFatal(t *testing.T) {
	e := newEnv(t)
	e.stage(t, bus.ConsumerSpec{}, func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
		if in.ArticleId == "boom" {
			panic("bug")
		}
		return passThrough(ctx, in)
	})
	e.submit(t, "boom", 1)
	e.submit(t, "fine", 1)
	waitFor(t, "dead letter", func() bool { return count(t, e.js, bus.DLQStreamName, ">") == 1 })
	waitFor(t, "fine enriched", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.fine") == 1 })
}

func TestSlowHandlerKeepsItsMessage(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	spec := bus.ConsumerSpec{AckWait: 600 * time.Millisecond, MaxDeliver: 5}
	e.stage(t, spec, func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
		calls.Add(1)
		time.Sleep(3 * spec.AckWait) // longer than AckWait: only InProgress keeps it
		return passThrough(ctx, in)
	})
	e.submit(t, "slow", 1)
	waitFor(t, "enriched", func() bool { return count(t, e.js, bus.StreamName, "news.article.enriched.>") == 1 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if calls.Load() != 1 {
		t.Fatalf("slow message delivered %d times, want 1 (InProgress not sent?)", calls.Load())
	}
}

func TestRedeliveredStageIsDeduplicated(t *testing.T) {
	e := newEnv(t)
	// The first attempt publishes its event and then fails before the ack,
	// as a crash between publish and ack would: the redelivery publishes
	// again and the stream keeps one event.
	var calls atomic.Int32
	spec := bus.ConsumerSpec{Durable: "stage", FilterSubjects: []string{bus.EventSubjects(bus.EventSubmitted)}}
	enc := func(ctx context.Context, out *newsroomv1.ArticleEnriched) error {
		_, err := e.pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventEnriched, out.ArticleId),
			MsgID: bus.MsgID(out.ArticleId, out.Revision, "enriched"), Message: out})
		if err == nil && calls.Add(1) == 1 {
			return errors.New("crash after publish")
		}
		return err
	}
	sub := bus.NewSubscriber("stage", e.pub, passThrough, decodeSubmitted, enc, bus.SubscriberSpec(spec),
		bus.SubscriberBackoff(func(uint64) time.Duration { return 10 * time.Millisecond }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, e.js, spec, sub, bus.RunOptions{}) }()
	defer func() { cancel(); <-done }()
	e.submit(t, "once", 1)
	waitFor(t, "second attempt", func() bool { return calls.Load() == 2 })
	waitFor(t, "consumer drained", func() bool { return consumerIdle(t, e.js, "stage") })
	if n := count(t, e.js, bus.StreamName, "news.article.enriched.once"); n != 1 {
		t.Fatalf("%d enriched events stored, want 1", n)
	}
}

func TestShutdownFinishesInFlightWork(t *testing.T) {
	e := newEnv(t)
	started := make(chan struct{})
	var once sync.Once
	stop := e.stage(t, bus.ConsumerSpec{}, func(ctx context.Context, in *newsroomv1.ArticleSubmitted) (*newsroomv1.ArticleEnriched, error) {
		once.Do(func() { close(started) })
		time.Sleep(300 * time.Millisecond)
		return passThrough(ctx, in)
	})
	e.submit(t, "inflight", 1)
	<-started
	stop() // drains: the message in hand is finished and acked
	if n := count(t, e.js, bus.StreamName, "news.article.enriched.inflight"); n != 1 {
		t.Fatalf("in-flight message not finished on shutdown: %d events", n)
	}
	if !consumerIdle(t, e.js, "stage") {
		t.Fatal("in-flight message not acked on shutdown")
	}
}

func TestTraceContextCrossesTheBus(t *testing.T) {
	e := newEnv(t)
	producerRec, consumerRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	producerTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(producerRec))
	consumerTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(consumerRec))
	e.stage(t, bus.ConsumerSpec{}, passThrough, bus.SubscriberTracerProvider(consumerTP))

	pub := bus.NewPublisher(e.js, producerTP)
	ctx, root := producerTP.Tracer("t").Start(context.Background(), "POST /v1/articles")
	ev := &newsroomv1.ArticleSubmitted{ArticleId: "traced", Revision: 1, Article: &newsroomv1.Article{Id: "traced"}}
	if _, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventSubmitted, "traced"), MsgID: "m1", Message: ev}); err != nil {
		t.Fatal(err)
	}
	root.End()
	waitFor(t, "process span", func() bool { return len(consumerRec.Ended()) > 0 })

	var publish, process sdktrace.ReadOnlySpan
	for _, s := range producerRec.Ended() {
		if s.Name() == "publish news.article.submitted.*" {
			publish = s
		}
	}
	for _, s := range consumerRec.Ended() {
		if s.Name() == "process news.article.submitted.*" {
			process = s
		}
	}
	if publish == nil || process == nil {
		t.Fatalf("spans missing: publish=%v process=%v", publish, process)
	}
	if publish.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Error("publish span is not a child of the request span")
	}
	if process.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Error("process span is in another trace")
	}
	if process.Parent().SpanID() != publish.SpanContext().SpanID() {
		t.Error("process span is not a child of the publish span")
	}
}

func TestWatchMaxDeliveriesDeadLettersAbandonedMessages(t *testing.T) {
	e := newEnv(t)
	stop, err := bus.WatchMaxDeliveries(context.Background(), e.nc, e.pub, "crashy", noopLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	spec := bus.ConsumerSpec{Durable: "crashy", FilterSubjects: []string{bus.EventSubjects(bus.EventSubmitted)},
		AckWait: 200 * time.Millisecond, MaxDeliver: 2}
	cons, err := bus.EnsureConsumer(context.Background(), e.js, spec)
	if err != nil {
		t.Fatal(err)
	}
	e.submit(t, "abandoned", 1)
	// A handler that dies on every delivery never settles the message. The
	// third pull finds it over MaxDeliver, and the server advises.
	for i := 0; i < 3; i++ {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
		}
	}
	waitFor(t, "dead letter from the advisory", func() bool { return count(t, e.js, bus.DLQStreamName, bus.DLQSubject("crashy")) == 1 })
	dlq, _ := e.js.Stream(context.Background(), bus.DLQStreamName)
	m, err := dlq.GetLastMsgForSubject(context.Background(), bus.DLQSubject("crashy"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(bus.HeaderDLQSubject) != "news.article.submitted.abandoned" {
		t.Errorf("dead letter headers: %v", m.Header)
	}
}

func TestPublishExpectDetectsConcurrentWriter(t *testing.T) {
	e := newEnv(t)
	subj := bus.Subject(bus.EventSubmitted, "cas")
	ev := &newsroomv1.ArticleSubmitted{ArticleId: "cas", Revision: 1}
	ack, err := e.pub.PublishExpect(context.Background(), bus.Event{Subject: subj, MsgID: "r1", Message: ev}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A second "first revision" must conflict.
	_, err = e.pub.PublishExpect(context.Background(), bus.Event{Subject: subj, MsgID: "r1-other", Message: ev}, 0)
	if !errors.Is(err, bus.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	if _, err := e.pub.PublishExpect(context.Background(), bus.Event{Subject: subj, MsgID: "r2", Message: ev}, ack.Sequence); err != nil {
		t.Fatalf("revision after the right sequence: %v", err)
	}
}

func noopLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
