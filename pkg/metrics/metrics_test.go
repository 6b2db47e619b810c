package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/natstest"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// TestStageMetricsMove runs a real consumer against a real JetStream server
// and watches every stage metric move: backlog before consuming, then
// latency, submit-to-stage latency, a redelivery and a dead letter.
func TestStageMetricsMove(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, "metrics-test")
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{Memory: true}); err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(js, noop.NewTracerProvider())
	spec := bus.ConsumerSpec{Durable: "stage", FilterSubjects: []string{bus.EventSubjects(bus.EventSubmitted)}, AckWait: 5 * time.Second}
	if _, err := bus.EnsureConsumer(ctx, js, spec); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.WatchConsumer("stage", js, "stage")
	h := m.Handler()

	accepted := time.Now().Add(-2 * time.Second)
	for _, id := range []string{"steady", "flaky", "poison"} {
		ev := &newsroomv1.ArticleSubmitted{EventId: id, ArticleId: id, Revision: 1,
			Article: &newsroomv1.Article{Id: id, Headline: id}, AcceptedAt: timestamppb.New(accepted)}
		if _, err := pub.Publish(ctx, bus.Event{Subject: bus.Subject(bus.EventSubmitted, id), MsgID: id, Message: ev}); err != nil {
			t.Fatal(err)
		}
	}
	consumer := map[string]string{"service": "stage", "consumer": "stage"}
	fams := scrape(t, h)
	if got := value(fams, metrics.ConsumerPending, consumer); got != 3 {
		t.Errorf("pending before consuming = %v, want 3", got)
	}
	if got := value(fams, metrics.ConsumerInfoUp, consumer); got != 1 {
		t.Errorf("consumer_info_up = %v, want 1", got)
	}

	var mu sync.Mutex
	tries := map[string]int{}
	endpoint := func(_ context.Context, ev *newsroomv1.ArticleSubmitted) (struct{}, error) {
		mu.Lock()
		defer mu.Unlock()
		tries[ev.ArticleId]++
		switch {
		case ev.ArticleId == "poison":
			return struct{}{}, bus.Permanent(errors.New("cannot be processed"))
		case ev.ArticleId == "flaky" && tries["flaky"] == 1:
			return struct{}{}, errors.New("dependency down")
		}
		return struct{}{}, nil
	}
	decode := func(_ context.Context, msg jetstream.Msg) (*newsroomv1.ArticleSubmitted, error) {
		var ev newsroomv1.ArticleSubmitted
		return &ev, proto.Unmarshal(msg.Data(), &ev)
	}
	sub := bus.NewSubscriber("stage", pub, endpoint, decode, func(context.Context, struct{}) error { return nil },
		bus.SubscriberSpec(spec), bus.SubscriberBackoff(func(uint64) time.Duration { return 10 * time.Millisecond }))
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, js, spec, sub, bus.RunOptions{Finalizer: m.Observer("stage")}) }()

	stage := map[string]string{"service": "stage", "event": "submitted"}
	with := func(kv ...string) map[string]string {
		l := map[string]string{"service": "stage", "event": "submitted"}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return l
	}
	fams = waitFor(t, h, func(f map[string]*dto.MetricFamily) bool {
		return value(f, metrics.MessagesTotal, with("outcome", "ack")) == 2 &&
			value(f, metrics.MessagesTotal, with("outcome", "dead_letter")) == 1 &&
			value(f, metrics.ConsumerPending, consumer) == 0 &&
			value(f, metrics.ConsumerAckPending, consumer) == 0
	})
	checks := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"every settled message timed", metrics.StageProcessingSeconds, stage, 4},
		{"the nak timed", metrics.StageProcessingSeconds, with("outcome", "nak"), 1},
		{"acked messages measured from acceptance", metrics.SubmitToStageSeconds, stage, 2},
		{"one redelivery", metrics.RedeliveriesTotal, stage, 1},
		{"one permanent dead letter", metrics.DeadLettersTotal, with("reason", "permanent"), 1},
		{"dead letter stored", metrics.DeadLettersStored, map[string]string{"service": "stage"}, 1},
		{"nothing pending", metrics.ConsumerPending, consumer, 0},
	}
	for _, c := range checks {
		if got := value(fams, c.metric, c.labels); got != c.want {
			t.Errorf("%s: %s%v = %v, want %v", c.name, c.metric, c.labels, got, c.want)
		}
	}
	if sum := histogramSum(fams, metrics.SubmitToStageSeconds, stage); sum < 4 {
		t.Errorf("submit-to-stage latency sum = %.3fs, want ≥ 4s (two messages accepted 2s before)", sum)
	}

	m.ShareAttempt("mastodon", metrics.SharePosted)
	m.ShareAttempt("mastodon", metrics.SharePosted)
	m.ShareAttempts().With("network", "bluesky", "outcome", metrics.ShareRateLimited).Add(1)
	fams = scrape(t, h)
	if got := value(fams, metrics.ShareAttemptsTotal, map[string]string{"network": "mastodon", "outcome": "posted"}); got != 2 {
		t.Errorf("mastodon posted attempts = %v, want 2", got)
	}
	if got := value(fams, metrics.ShareAttemptsTotal, map[string]string{"network": "bluesky", "outcome": "rate_limited"}); got != 1 {
		t.Errorf("bluesky rate-limited attempts = %v, want 1", got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestConsumerLookupFailure keeps the scrape working when the consumer is
// gone: consumer_info_up says so.
func TestConsumerLookupFailure(t *testing.T) {
	s := natstest.Server(t, "")
	_, js := natstest.Connect(t, s, "metrics-test")
	m := metrics.New()
	m.WatchConsumer("ghost", js, "ghost")
	fams := scrape(t, m.Handler())
	if got := value(fams, metrics.ConsumerInfoUp, map[string]string{"service": "ghost"}); got != 0 {
		t.Errorf("consumer_info_up for a missing consumer = %v, want 0", got)
	}
	if _, ok := fams[metrics.ConsumerPending]; ok {
		t.Errorf("pending reported for a consumer that does not exist")
	}
}

func TestNilSetIsSafe(t *testing.T) {
	var m *metrics.Set
	m.ShareAttempt("x", metrics.SharePosted)
	m.Observe("x", bus.Result{})
	m.WatchConsumer("x", nil, "x")
	if m.Observer("x") != nil {
		t.Error("a nil Set gave an observer")
	}
}

func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func waitFor(t *testing.T, h http.Handler, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		fams := scrape(t, h)
		if ok(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatal("metrics did not reach the expected state in 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// value sums the series of name whose labels include want: a counter's or
// gauge's value, a histogram's sample count.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
	for _, m := range series(fams, name, want) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func histogramSum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
	for _, m := range series(fams, name, want) {
		sum += m.Histogram.GetSampleSum()
	}
	return sum
}

func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	f, ok := fams[name]
	if !ok {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}
