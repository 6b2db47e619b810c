package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
)

// The relays move each message through four durable consumers, each
// republishing it to the next event's subject on the NEWS stream and
// acking after the PubAck: the pipeline's shape (submitted → enriched →
// rendered → shared, and one more hop) with no work at any hop.
const hops = 4

// relayWorkers is how many messages each hop has in flight: the
// platform's default concurrency (bus.RunOptions), so that the raw relay
// and the platform's relay differ only in the platform.
const relayWorkers = 4

func hopEvent(k int) string { return fmt.Sprintf("hop%d", k) }

type relayKind int

const (
	// rawRelay uses only the nats.go jetstream API: Consume, PublishMsg, Ack.
	rawRelay relayKind = iota
	// busRelay is the same with pkg/bus: Run, a Subscriber with no-op
	// decode, endpoint and encode, and Publisher.PublishRaw, with the
	// metrics finalizer the all-in-one installs.
	busRelay
)

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// startRelay starts the four hops on env, each with its own connection.
func startRelay(ctx context.Context, env *natsEnv, kind relayKind) (stop func(), err error) {
	var stops []func()
	stopAll := func() {
		for _, s := range stops {
			s()
		}
	}
	set := metrics.New()
	for k := 1; k <= hops; k++ {
		_, js, err := env.connect(fmt.Sprintf("hop%d", k))
		if err != nil {
			stopAll()
			return nil, err
		}
		var s func()
		if kind == rawRelay {
			s, err = startRawHop(ctx, js, hopEvent(k-1), hopEvent(k))
		} else {
			s, err = startBusHop(ctx, js, hopEvent(k-1), hopEvent(k), set)
		}
		if err != nil {
			stopAll()
			return nil, err
		}
		stops = append(stops, s)
	}
	return stopAll, nil
}

func hopSpec(in, out string) bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: "relay-" + out, FilterSubjects: []string{bus.EventSubjects(in)}}
}

func startRawHop(ctx context.Context, js jetstream.JetStream, in, out string) (stop func(), err error) {
	spec := hopSpec(in, out)
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName, spec.Config())
	if err != nil {
		return nil, err
	}
	work := make(chan jetstream.Msg, 16)
	var wg sync.WaitGroup
	for range relayWorkers {
		wg.Go(func() {
			for m := range work {
				subj := m.Subject()
				id := subj[strings.LastIndexByte(subj, '.')+1:]
				next := nats.NewMsg(bus.Subject(out, id))
				next.Data = m.Data()
				next.Header.Set(bus.HeaderContentType, m.Headers().Get(bus.HeaderContentType))
				next.Header.Set(bus.HeaderAcceptedAt, m.Headers().Get(bus.HeaderAcceptedAt))
				next.Header.Set(jetstream.MsgIDHeader, bus.MsgID(id, 1, out))
				if _, err := js.PublishMsg(ctx, next); err != nil {
					_ = m.Nak()
					continue
				}
				_ = m.Ack()
			}
		})
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { work <- m }, jetstream.PullMaxMessages(64))
	if err != nil {
		close(work)
		wg.Wait()
		return nil, err
	}
	return func() {
		cc.Drain()
		<-cc.Closed()
		close(work)
		wg.Wait()
	}, nil
}

type hopReq struct {
	id   string
	data []byte
}

func startBusHop(ctx context.Context, js jetstream.JetStream, in, out string, set *metrics.Set) (stop func(), err error) {
	spec := hopSpec(in, out)
	tp := noop.NewTracerProvider()
	pub := bus.NewPublisher(js, tp)
	decode := func(_ context.Context, m jetstream.Msg) (hopReq, error) {
		_, id, ok := bus.ParseSubject(m.Subject())
		if !ok {
			return hopReq{}, errors.New("not an article subject")
		}
		return hopReq{id: id, data: m.Data()}, nil
	}
	endpoint := func(_ context.Context, r hopReq) (hopReq, error) { return r, nil }
	encode := func(ctx context.Context, r hopReq) error {
		_, err := pub.PublishRaw(ctx, bus.Subject(out, r.id), bus.MsgID(r.id, 1, out), contentTypeSubmitted, r.data, nil)
		return err
	}
	sub := bus.NewSubscriber(spec.Durable, pub, endpoint, decode, encode,
		bus.SubscriberSpec(spec), bus.SubscriberLogger(discardLogger), bus.SubscriberTracerProvider(tp))
	rctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- bus.Run(rctx, js, spec, sub, bus.RunOptions{Ready: ready, Logger: discardLogger, Finalizer: set.Observer(spec.Durable)})
	}()
	select {
	case <-ready:
	case err := <-errc:
		cancel()
		return nil, err
	}
	return func() { cancel(); <-errc }, nil
}

// measureRelayRate loads n messages on the first subject, then starts the
// relay and times until all n reached the last one.
func measureRelayRate(ctx context.Context, tmp string, p payloads, n int, kind relayKind) (float64, error) {
	env, err := startNATS(tmp)
	if err != nil {
		return 0, err
	}
	defer env.close()
	nc, js, err := env.connect("producer")
	if err != nil {
		return 0, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return 0, err
	}
	if err := publishAsync(ctx, js, hopEvent(0), "t", n, p); err != nil {
		return 0, err
	}
	arr, err := watchArrivals(nc, bus.EventSubjects(hopEvent(hops)), n)
	if err != nil {
		return 0, err
	}
	defer arr.stop()
	start := time.Now()
	stop, err := startRelay(ctx, env, kind)
	if err != nil {
		return 0, err
	}
	defer stop()
	if err := wait(ctx, arr.done, 5*time.Minute, "relay"); err != nil {
		return 0, fmt.Errorf("%w (%d of %d arrived)", err, arr.count(), n)
	}
	return float64(n) / arr.last.Sub(start).Seconds(), nil
}

// latency is the p50 and p99 of one open-loop run.
type latency struct {
	rate     float64
	n        int
	p50, p99 time.Duration
	// samples are the n latencies p50 and p99 are of.
	samples []time.Duration
}

// pool adds another run's samples at the same rate and recomputes the
// percentiles over all of them.
func (l *latency) pool(run latency) {
	l.rate, l.n = run.rate, l.n+run.n
	l.samples = append(l.samples, run.samples...)
	l.p50, l.p99 = percentile(l.samples, 50), percentile(l.samples, 99)
}

// measureRelayLatency publishes at a steady rate for d (open loop: each
// message at its own time, whatever happened to the ones before) and
// measures each message's time from when it was due to when it reached
// the last subject.
func measureRelayLatency(ctx context.Context, tmp string, p payloads, rate float64, d time.Duration, kind relayKind) (latency, error) {
	n := max(int(rate*d.Seconds()), 20)
	res := latency{rate: rate, n: n}
	env, err := startNATS(tmp)
	if err != nil {
		return res, err
	}
	defer env.close()
	nc, js, err := env.connect("producer")
	if err != nil {
		return res, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return res, err
	}
	arr, err := watchArrivals(nc, bus.EventSubjects(hopEvent(hops)), n)
	if err != nil {
		return res, err
	}
	defer arr.stop()
	stop, err := startRelay(ctx, env, kind)
	if err != nil {
		return res, err
	}
	defer stop()
	err = openLoop(ctx, rate, n, func(i int, due time.Time) error {
		m := hopMsg(hopEvent(0), "l", i, p.at(i), due)
		_, id, _ := bus.ParseSubject(m.Subject)
		arr.markSent(id, due)
		// As ingest does for a submission: wait for the PubAck, and try
		// again (the Msg-Id makes a repeat harmless) if it did not come.
		var err error
		for range 5 {
			if _, err = js.PublishMsg(ctx, m); err == nil {
				return nil
			}
		}
		return err
	})
	if err != nil {
		return res, err
	}
	if err := wait(ctx, arr.done, 2*time.Minute, "relay latency"); err != nil {
		return res, fmt.Errorf("%w (%d of %d arrived)", err, arr.count(), n)
	}
	lat := arr.latencies()
	res.p50, res.p99, res.samples = percentile(lat, 50), percentile(lat, 99), lat
	return res, nil
}

// openLoop calls send for i in [0, n) at start + i/rate, each in its own
// goroutine so that a slow one delays no other. It returns the first
// error once every send returned.
func openLoop(ctx context.Context, rate float64, n int, send func(i int, due time.Time) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				wg.Wait()
				return ctx.Err()
			}
		}
		wg.Go(func() {
			if err := send(i, due); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return firstErr
}
