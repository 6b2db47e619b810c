package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/services/enrichment"
	"github.com/newsroom/newsroom/services/ingest"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/socialshare"
)

// AllInOne is the all-in-one's four services composed as "newsroom serve"
// composes them, without its listener: the command gives the benchmark its
// own composition so that what is measured is what serve runs.
type AllInOne interface {
	// Handler is serve's HTTP handler: API, site and metrics.
	Handler() http.Handler
	// RunConsumers runs the named services' consumers (every service's
	// with no names) until ctx ends.
	RunConsumers(ctx context.Context, only ...string) error
	// Close drains the connections and flushes telemetry.
	Close()
}

// Connect opens a named connection to the benchmark's NATS server.
type Connect func(name string) (*nats.Conn, jetstream.JetStream, error)

// StartFunc composes the all-in-one with environment env (serve's
// variables) on the connections connect makes, logging to logw.
type StartFunc func(ctx context.Context, env func(string) string, connect Connect, logw io.Writer) (AllInOne, error)

const benchToken = "nr_bench_token_0123456789abcdef"

// running is an all-in-one on a fresh server, serving HTTP.
type running struct {
	env     *natsEnv
	aio     AllInOne
	base    string
	stopWeb func()
	cancel  context.CancelFunc
	errc    chan error
	nc      *nats.Conn
	js      jetstream.JetStream
}

// pipelineEnv is serve's environment for a benchmark run: the token, no
// per-token rate limit (the benchmark is one editor sending thousands),
// tracing as asked.
func pipelineEnv(base string, extra map[string]string) func(string) string {
	env := map[string]string{
		"NEWSROOM_API_TOKENS": "editor:" + benchToken,
		"NEWSROOM_PUBLIC_URL": base,
		"NEWSROOM_API_RATE":   "-1",
		"OTEL_SDK_DISABLED":   "true",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// allServices runs every service's consumers in startAllInOne.
var allServices = []string{ingest.Name, enrichment.Name, rendering.Name, socialshare.Name}

// startAllInOne composes the all-in-one on a fresh server and serves its
// handler, with the consumers of the services named in consumers running
// (none: only ingest's API works, to measure the door alone).
func (b *Bench) startAllInOne(ctx context.Context, consumers []string, extraEnv map[string]string) (*running, error) {
	env, err := startNATS(b.opts.TempDir)
	if err != nil {
		return nil, err
	}
	r := &running{env: env}
	fail := func(err error) (*running, error) {
		r.close()
		return nil, err
	}
	// The public URL is the listener's, known only once it listens: the
	// handler is set after the services exist.
	var h http.Handler
	r.base, r.stopWeb, err = serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { h.ServeHTTP(w, req) }))
	if err != nil {
		return fail(err)
	}
	r.aio, err = b.opts.Start(ctx, pipelineEnv(r.base, extraEnv), env.connect, io.Discard)
	if err != nil {
		return fail(fmt.Errorf("start the all-in-one: %w", err))
	}
	h = r.aio.Handler()
	if r.nc, r.js, err = env.connect("bench-observer"); err != nil {
		return fail(err)
	}
	if len(consumers) > 0 {
		cctx, cancel := context.WithCancel(ctx)
		r.cancel = cancel
		r.errc = make(chan error, 1)
		go func() { r.errc <- r.aio.RunConsumers(cctx, consumers...) }()
		// Wait until every durable consumer exists, so that timing starts
		// with a pipeline that is consuming.
		deadline := time.Now().Add(30 * time.Second)
		for _, d := range consumers {
			for {
				if _, err := r.js.Consumer(ctx, bus.StreamName, d); err == nil {
					break
				}
				if time.Now().After(deadline) {
					return fail(fmt.Errorf("consumer %s did not appear within 30s", d))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	return r, nil
}

func (r *running) close() {
	if r.cancel != nil {
		r.cancel()
		<-r.errc
	}
	if r.stopWeb != nil {
		r.stopWeb()
	}
	if r.aio != nil {
		r.aio.Close()
	}
	r.env.close()
}

// submit posts article i of the corpus; it wants 202.
func (b *Bench) submit(ctx context.Context, c *http.Client, base string, i int) error {
	return post(ctx, c, base+"/v1/articles", benchToken, SubmitJSON(b.corpus.Article(i)), http.StatusAccepted)
}

// bodies are the submissions of articles first..first+n-1, made before
// any timing starts.
func (b *Bench) bodies(first, n int) [][]byte {
	out := make([][]byte, n)
	for i := range n {
		out[i] = SubmitJSON(b.corpus.Article(first + i))
	}
	return out
}

// pipelineRun is the whole pipeline's throughput on one run.
type pipelineRun struct {
	rate        float64 // articles/s through every stage (shared)
	renderedAt  float64 // articles/s until the last page was live
	spans       int64
	checkedPage bool
}

// measurePipeline submits n articles through the all-in-one's API as fast
// as httpClients editors can, and times until every one was shared (the
// last stage) and every service's consumer has acked everything. Articles
// first..first+n-1 of the corpus are used.
func (b *Bench) measurePipeline(ctx context.Context, n, first int, extraEnv map[string]string) (pipelineRun, error) {
	var res pipelineRun
	r, err := b.startAllInOne(ctx, allServices, extraEnv)
	if err != nil {
		return res, err
	}
	defer r.close()
	shared, err := watchArrivals(r.nc, bus.EventSubjects(bus.EventShared), n)
	if err != nil {
		return res, err
	}
	defer shared.stop()
	rendered, err := watchArrivals(r.nc, bus.EventSubjects(bus.EventRendered), n)
	if err != nil {
		return res, err
	}
	defer rendered.stop()
	c := newClient()
	defer c.CloseIdleConnections()
	bodies := b.bodies(first, n)
	start := time.Now()
	if _, err := closedLoop(ctx, n, httpClients, func(i int) error {
		return post(ctx, c, r.base+"/v1/articles", benchToken, bodies[i], http.StatusAccepted)
	}); err != nil {
		return res, err
	}
	if err := wait(ctx, shared.done, 10*time.Minute, "pipeline"); err != nil {
		return res, fmt.Errorf("%w (%d rendered, %d shared of %d)", err, rendered.count(), shared.count(), n)
	}
	<-rendered.done
	// Rendering announces a page before it has written the listings the
	// article is on, and every service acks after its event: the run
	// ends when every consumer has acked every message.
	drained, err := drainedAt(ctx, r.js, allServices)
	if err != nil {
		return res, err
	}
	res.rate = float64(n) / drained.Sub(start).Seconds()
	res.renderedAt = float64(n) / rendered.last.Sub(start).Seconds()
	// The page is there for a reader, not only announced.
	id := b.corpus.Article(first + n - 1).Id
	code, err := get(ctx, c, r.base+"/articles/"+id)
	if err != nil || code != http.StatusOK {
		return res, fmt.Errorf("page of %s after the run: %d %v", id, code, err)
	}
	res.checkedPage = true
	return res, nil
}

// measurePipelineLatency submits at a steady rate for d (open loop) and
// measures each article's time from when it was due to be submitted to
// when its page was live (its rendered event: rendering publishes it
// once the page is stored, and writes the listings, feeds and sitemaps
// before it acks).
func (b *Bench) measurePipelineLatency(ctx context.Context, rate float64, d time.Duration, first int) (latency, error) {
	n := max(int(rate*d.Seconds()), 20)
	res := latency{rate: rate, n: n}
	r, err := b.startAllInOne(ctx, allServices, nil)
	if err != nil {
		return res, err
	}
	defer r.close()
	rendered, err := watchArrivals(r.nc, bus.EventSubjects(bus.EventRendered), n)
	if err != nil {
		return res, err
	}
	defer rendered.stop()
	c := newClient()
	defer c.CloseIdleConnections()
	bodies := b.bodies(first, n)
	ids := make([]string, n)
	for i := range n {
		ids[i] = b.corpus.Article(first + i).Id
	}
	err = openLoop(ctx, rate, n, func(i int, due time.Time) error {
		rendered.markSent(ids[i], due)
		return post(ctx, c, r.base+"/v1/articles", benchToken, bodies[i], http.StatusAccepted)
	})
	if err != nil {
		return res, err
	}
	if err := wait(ctx, rendered.done, 5*time.Minute, "pipeline latency"); err != nil {
		return res, fmt.Errorf("%w (%d of %d live)", err, rendered.count(), n)
	}
	lat := rendered.latencies()
	res.p50, res.p99, res.samples = percentile(lat, 50), percentile(lat, 99), lat
	return res, nil
}

// measureIngest is ingest's requests/s alone: the all-in-one's API with
// ingest's consumers running (the status view's, which reads the later
// stages' events and so none of these, the release of held revisions, the
// dead letters) and no stage's, so the stages take no CPU from it.
func (b *Bench) measureIngest(ctx context.Context, n, first int) (float64, error) {
	consumers := []string{ingest.Name}
	r, err := b.startAllInOne(ctx, consumers, nil)
	if err != nil {
		return 0, err
	}
	defer r.close()
	c := newClient()
	defer c.CloseIdleConnections()
	bodies := b.bodies(first, n)
	return closedLoop(ctx, n, httpClients, func(i int) error {
		return post(ctx, c, r.base+"/v1/articles", benchToken, bodies[i], http.StatusAccepted)
	})
}

// drainedAt waits until the named durable consumers of the NEWS stream
// hold nothing pending or unacknowledged, and says when that was (to the
// few milliseconds between two looks).
func drainedAt(ctx context.Context, js jetstream.JetStream, durables []string) (time.Time, error) {
	consumers := make([]jetstream.Consumer, len(durables))
	for i, d := range durables {
		c, err := js.Consumer(ctx, bus.StreamName, d)
		if err != nil {
			return time.Time{}, err
		}
		consumers[i] = c
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		left := uint64(0)
		for _, c := range consumers {
			info, err := c.Info(ctx)
			if err != nil {
				return time.Time{}, err
			}
			left += info.NumPending + uint64(info.NumAckPending)
		}
		if left == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("consumers still hold %d messages after 5 minutes", left)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
