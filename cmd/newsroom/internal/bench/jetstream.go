package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/natsembed"
)

// natsEnv is a fresh embedded nats-server with file storage, as the
// all-in-one runs one, and the connections made to it.
type natsEnv struct {
	dir   string
	ns    *server.Server
	conns []*nats.Conn
}

func startNATS(parent string) (*natsEnv, error) {
	dir, err := os.MkdirTemp(parent, "nats-")
	if err != nil {
		return nil, err
	}
	ns, err := natsembed.Start(natsembed.Options{StoreDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &natsEnv{dir: dir, ns: ns}, nil
}

// connect opens a named in-process connection, as each service of the
// all-in-one has its own.
func (e *natsEnv) connect(name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, js, err := bus.Connect("", name, natsembed.ConnectOption(e.ns))
	if err != nil {
		return nil, nil, err
	}
	e.conns = append(e.conns, nc)
	return nc, js, nil
}

func (e *natsEnv) close() {
	for _, nc := range e.conns {
		nc.Close()
	}
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
	os.RemoveAll(e.dir)
}

// payloads are the bytes the bus-level measurements move: real
// ArticleSubmitted events of the corpus, encoded as ingest encodes them.
type payloads struct {
	data    [][]byte
	meanLen int
}

func makePayloads(c *Corpus, n int) payloads {
	var p payloads
	total := 0
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		b, err := proto.Marshal(Submitted(c.Article(i), "https://news.example", at))
		if err != nil {
			panic(err) // a generated article always encodes
		}
		p.data = append(p.data, b)
		total += len(b)
	}
	p.meanLen = total / n
	return p
}

func (p payloads) at(i int) []byte { return p.data[i%len(p.data)] }

const contentTypeSubmitted = "application/protobuf; proto=newsroom.v1.ArticleSubmitted"

// hopMsg is message i of a run on the subject of event ev, with the
// headers ingest sets (content type, accepted-at) and its Nats-Msg-Id.
func hopMsg(ev, run string, i int, data []byte, accepted time.Time) *nats.Msg {
	id := fmt.Sprintf("%s-%07d", run, i)
	m := nats.NewMsg(bus.Subject(ev, id))
	m.Data = data
	m.Header.Set(bus.HeaderContentType, contentTypeSubmitted)
	m.Header.Set(bus.HeaderAcceptedAt, accepted.UTC().Format(time.RFC3339Nano))
	m.Header.Set(jetstream.MsgIDHeader, bus.MsgID(id, 1, ev))
	return m
}

// publishAsync stores n messages of event ev with async publishes (at
// most maxPending unacknowledged) and waits for every PubAck.
func publishAsync(ctx context.Context, js jetstream.JetStream, ev, run string, n int, p payloads) error {
	now := time.Now()
	for i := range n {
		if err := publishAsyncMsg(ctx, js, hopMsg(ev, run, i, p.at(i), now)); err != nil {
			return fmt.Errorf("async publish %d: %w", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("async publish: %d PubAcks missing after 2m", js.PublishAsyncPending())
	}
	return nil
}

// publishAsyncMsg publishes m asynchronously; when the window of
// unacknowledged publishes is full for longer than nats.go waits (a busy
// machine), it waits for the window to drain and tries again.
func publishAsyncMsg(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
	for {
		_, err := js.PublishMsgAsync(m)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return err
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// b1 measures raw JetStream on a fresh server: async publish, sync
// publish (and its latency), and consume+ack of what was published.
type b1Result struct {
	asyncRate, syncRate, consumeRate float64
	syncP50, syncP99                 time.Duration
}

func measureB1(ctx context.Context, tmp string, p payloads, n, nSync int) (b1Result, error) {
	var res b1Result
	env, err := startNATS(tmp)
	if err != nil {
		return res, err
	}
	defer env.close()
	_, js, err := env.connect("b1")
	if err != nil {
		return res, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return res, err
	}

	start := time.Now()
	if err := publishAsync(ctx, js, "b1", "a", n, p); err != nil {
		return res, err
	}
	res.asyncRate = float64(n) / time.Since(start).Seconds()

	lat := make([]time.Duration, 0, nSync)
	now := time.Now()
	start = now
	for i := range nSync {
		t0 := time.Now()
		if _, err := js.PublishMsg(ctx, hopMsg("b1s", "s", i, p.at(i), now)); err != nil {
			return res, fmt.Errorf("sync publish: %w", err)
		}
		lat = append(lat, time.Since(t0))
	}
	res.syncRate = float64(nSync) / time.Since(start).Seconds()
	res.syncP50, res.syncP99 = percentile(lat, 50), percentile(lat, 99)

	// Consume the async batch with a durable consumer, acking each.
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName, jetstream.ConsumerConfig{
		Durable: "b1", FilterSubject: bus.EventSubjects("b1"),
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1000, AckWait: 30 * time.Second,
	})
	if err != nil {
		return res, err
	}
	var got atomic.Int64
	done := make(chan struct{})
	start = time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if got.Add(1) == int64(n) {
			close(done)
		}
	}, jetstream.PullMaxMessages(64))
	if err != nil {
		return res, err
	}
	defer cc.Stop()
	if err := wait(ctx, done, 2*time.Minute, "b1 consume"); err != nil {
		return res, err
	}
	// The last acks are on their way: wait until the server has them all.
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return res, err
		}
		if info.AckFloor.Stream >= info.Delivered.Stream && info.NumAckPending == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	res.consumeRate = float64(n) / time.Since(start).Seconds()
	return res, nil
}

func wait(ctx context.Context, done <-chan struct{}, limit time.Duration, what string) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(limit):
		return fmt.Errorf("%s: not done after %s", what, limit)
	}
}

// percentile of ds (p in 0–100), nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// arrivals watches the subjects of the last event of a run with a core
// subscription (the stream's messages are ordinary NATS messages too) and
// records when each id first arrives.
type arrivals struct {
	mu      sync.Mutex
	sent    map[string]time.Time
	lat     []time.Duration
	seen    map[string]bool
	want    int
	done    chan struct{}
	last    time.Time
	sub     *nats.Subscription
	onFirst func(id string)
}

func watchArrivals(nc *nats.Conn, subject string, want int) (*arrivals, error) {
	a := &arrivals{sent: map[string]time.Time{}, seen: map[string]bool{}, want: want, done: make(chan struct{})}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		now := time.Now()
		_, id, ok := bus.ParseSubject(m.Subject)
		if !ok {
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.seen[id] {
			return
		}
		a.seen[id] = true
		a.last = now
		if t, ok := a.sent[id]; ok {
			a.lat = append(a.lat, now.Sub(t))
		}
		if len(a.seen) == a.want {
			close(a.done)
		}
	})
	if err != nil {
		return nil, err
	}
	// Thousands of 4 KiB messages may queue here while the machine is
	// busy: never drop one as a slow consumer.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, err
	}
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	a.sub = sub
	return a, nil
}

// markSent records when id was (meant to be) sent, for its latency.
func (a *arrivals) markSent(id string, t time.Time) {
	a.mu.Lock()
	a.sent[id] = t
	a.mu.Unlock()
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

func (a *arrivals) latencies() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.lat)
}

func (a *arrivals) stop() { _ = a.sub.Unsubscribe() }
