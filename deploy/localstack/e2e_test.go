package localstack_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/testtool"
	newsroomv1 "github.com/newsroom/newsroom/proto/newsroom/v1"
)

// shareAttemptsWired turns on the end-to-end check of share attempts. The
// metric and its API are in pkg/metrics; socialshare calls
// Metrics.ShareAttempt once its rewrite lands (see deploy/README.md). Set
// it to true then.
const shareAttemptsWired = true

var (
	buildOnce sync.Once
	built     localstack.Binaries
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds nats-server and the services once per test binary run,
// and finds Jaeger (skipping without it, failing in CI).
func binaries(t *testing.T) localstack.Binaries {
	t.Helper()
	jaeger := testtool.Find(t, testtool.Jaeger)
	b := builtBinaries(t)
	b.Jaeger = jaeger
	return b
}

func builtBinaries(t *testing.T) localstack.Binaries {
	t.Helper()
	buildOnce.Do(func() {
		root, err := testtool.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "newsroom-localstack-bin-"); err != nil {
			buildErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		built, buildErr = localstack.Build(ctx, root, binDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	b := built
	b.Services = maps.Clone(built.Services)
	return b
}

func startStack(t *testing.T, bin localstack.Binaries, instances ...map[string]int) *localstack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var inst map[string]int
	if len(instances) > 0 {
		inst = instances[0]
	}
	s, err := localstack.Start(ctx, localstack.Config{
		Bin:       bin,
		Instances: inst,
		Dir:       t.TempDir(),
		Env: map[string]string{
			// Export spans at once instead of every 5s.
			"OTEL_BSP_SCHEDULE_DELAY": "100",
			"NEWSROOM_LOG_LEVEL":      "debug",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			for _, name := range s.Names() {
				b, _ := os.ReadFile(s.Process(name).LogPath())
				t.Logf("--- %s log (last 3000 bytes):\n%s", name, tail(b, 3000))
			}
		}
	})
	return s
}

// TestStackEndToEnd submits the seed article to the local stack (separate
// nats-server, Jaeger and service processes) and follows it: one trace in
// Jaeger across the four services with the right parentage and a span per
// network post, metrics moving on every service's /metrics, and log lines
// that carry the article's trace.
func TestStackEndToEnd(t *testing.T) {
	s := startStack(t, binaries(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	before := map[string]families{}
	for _, name := range localstack.ServiceNames() {
		before[name] = scrape(t, s.ServiceURL(name))
	}

	seed, err := os.ReadFile(filepath.Join(testtool.SharedDir(t), "fixtures", "seed-article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	id := submit(t, s, seed)
	t.Logf("submitted article %s", id)

	nc, err := nats.Connect(s.NATSURL(), nats.Name("e2e-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	shared := waitShared(ctx, t, js, id)
	var networks []string
	for _, sh := range shared.Shares {
		networks = append(networks, sh.Network)
	}
	if len(networks) == 0 {
		t.Fatalf("ArticleShared for %s lists no network", id)
	}

	t.Run("one trace across the services", func(t *testing.T) {
		tr := waitTrace(ctx, t, s.JaegerURL(), id, func(tr *trace) error { return checkTrace(tr, networks) })
		t.Logf("trace %s: %d spans from %v", tr.TraceID, len(tr.Spans), tr.services())
	})

	t.Run("metrics move", func(t *testing.T) {
		stages := map[string][]string{
			localstack.Ingest:      {bus.EventEnriched, bus.EventRendered, bus.EventShared},
			localstack.Enrichment:  {bus.EventSubmitted},
			localstack.Rendering:   {bus.EventEnriched},
			localstack.Socialshare: {bus.EventRendered},
		}
		for _, name := range localstack.ServiceNames() {
			consumer := map[string]string{"service": name, "consumer": name}
			var after families
			waitMetrics(ctx, t, s.ServiceURL(name), func(f families) bool {
				after = f
				for _, ev := range stages[name] {
					if f.value(metrics.SubmitToStageSeconds, map[string]string{"event": ev}) < 1 {
						return false
					}
				}
				return f.value(metrics.ConsumerAckPending, consumer) == 0
			})
			for _, ev := range stages[name] {
				acked := map[string]string{"service": name, "event": ev, "outcome": "ack"}
				for _, m := range []string{metrics.StageProcessingSeconds, metrics.MessagesTotal} {
					if d := after.value(m, acked) - before[name].value(m, acked); d < 1 {
						t.Errorf("%s: %s%v moved by %v, want ≥ 1", name, m, acked, d)
					}
				}
				if d := after.value(metrics.SubmitToStageSeconds, map[string]string{"event": ev}) -
					before[name].value(metrics.SubmitToStageSeconds, map[string]string{"event": ev}); d < 1 {
					t.Errorf("%s: %s{event=%s} moved by %v, want ≥ 1", name, metrics.SubmitToStageSeconds, ev, d)
				}
			}
			for _, m := range []string{metrics.ConsumerPending, metrics.ConsumerAckPending, metrics.ConsumerRedelivered} {
				if !after.has(m, consumer) {
					t.Errorf("%s: no %s", name, m)
				}
			}
			if after.value(metrics.ConsumerInfoUp, consumer) != 1 {
				t.Errorf("%s: %s is not 1", name, metrics.ConsumerInfoUp)
			}
		}
		// The ingest binary's API answers are on its /metrics too.
		if f := scrape(t, s.ServiceURL(localstack.Ingest)); f.value(metrics.APIRequestsTotal,
			map[string]string{"service": localstack.Ingest, "route": "POST /v1/articles", "code": "202"}) < 1 {
			t.Errorf("ingest: no %s for an accepted POST /v1/articles", metrics.APIRequestsTotal)
		}
		if shareAttemptsWired {
			f := scrape(t, s.ServiceURL(localstack.Socialshare))
			for _, n := range networks {
				if f.value(metrics.ShareAttemptsTotal, map[string]string{"network": n}) < 1 {
					t.Errorf("socialshare: no %s for network %s", metrics.ShareAttemptsTotal, n)
				}
			}
		}

		// A poison message: enrichment cannot decode it, so it goes to its
		// dead letters, and both dead-letter metrics move.
		poison := "poison-" + id
		if _, err := js.Publish(ctx, bus.Subject(bus.EventSubmitted, poison), []byte("\xff not protobuf")); err != nil {
			t.Fatal(err)
		}
		dl := map[string]string{"service": localstack.Enrichment, "event": bus.EventSubmitted, "reason": "permanent"}
		waitMetrics(ctx, t, s.ServiceURL(localstack.Enrichment), func(f families) bool {
			return f.value(metrics.DeadLettersTotal, dl)-before[localstack.Enrichment].value(metrics.DeadLettersTotal, dl) == 1 &&
				f.value(metrics.DeadLettersStored, map[string]string{"service": localstack.Enrichment}) == 1
		})
	})

	t.Run("article log lines carry trace and article ids", func(t *testing.T) {
		var lines int
		for _, name := range localstack.ServiceNames() {
			f, err := os.Open(s.Process(name).LogPath())
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				line := sc.Bytes()
				var rec map[string]any
				if err := json.Unmarshal(line, &rec); err != nil {
					t.Errorf("%s: log line is not JSON: %s", name, line)
					continue
				}
				if !bytes.Contains(line, []byte(id)) {
					continue
				}
				lines++
				for _, k := range []string{"trace_id", "span_id", "article_id"} {
					if v, _ := rec[k].(string); v == "" {
						t.Errorf("%s: article log line without %s: %s", name, k, line)
					}
				}
			}
			f.Close()
		}
		if lines < len(localstack.ServiceNames()) {
			t.Errorf("only %d log lines mention article %s; want one per stage at least (debug level)", lines, id)
		}
	})
}

func submit(t *testing.T, s *localstack.Stack, body []byte) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.ServiceURL(localstack.Ingest)+"/v1/articles", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIToken())
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %s %s", resp.Status, b)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		t.Fatalf("submit answer %s: %v", b, err)
	}
	return out.ID
}

func waitShared(ctx context.Context, t *testing.T, js jetstream.JetStream, id string) *newsroomv1.ArticleShared {
	t.Helper()
	stream, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for {
		raw, err := stream.GetLastMsgForSubject(ctx, bus.Subject(bus.EventShared, id))
		if err == nil {
			var ev newsroomv1.ArticleShared
			if err := proto.Unmarshal(raw.Data, &ev); err != nil {
				t.Fatal(err)
			}
			return &ev
		}
		if ctx.Err() != nil {
			t.Fatalf("article %s was never shared: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The Jaeger query API's trace, as /api/traces returns it.
type trace struct {
	TraceID   string `json:"traceID"`
	Spans     []span `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

type span struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	ProcessID string `json:"processID"`
	Tags      []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (tr *trace) services() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range tr.Spans {
		if n := tr.Processes[s.ProcessID].ServiceName; !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func (tr *trace) summary() string {
	var parts []string
	for _, s := range tr.Spans {
		parts = append(parts, tr.service(s)+": "+s.OperationName)
	}
	return strings.Join(parts, ", ")
}

func (tr *trace) service(s span) string { return tr.Processes[s.ProcessID].ServiceName }

func (tr *trace) parent(s span) (span, bool) {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			for _, p := range tr.Spans {
				if p.SpanID == r.SpanID {
					return p, true
				}
			}
		}
	}
	return span{}, false
}

// isAncestor reports whether a is an ancestor of s.
func (tr *trace) isAncestor(a, s span) bool {
	for i := 0; i < len(tr.Spans); i++ {
		p, ok := tr.parent(s)
		if !ok {
			return false
		}
		if p.SpanID == a.SpanID {
			return true
		}
		s = p
	}
	return false
}

// find returns the spans of service named op.
func (tr *trace) find(service, op string) []span {
	var out []span
	for _, s := range tr.Spans {
		if tr.service(s) == service && s.OperationName == op {
			out = append(out, s)
		}
	}
	return out
}

func (tr *trace) one(service, op string) (span, error) {
	ss := tr.find(service, op)
	if len(ss) != 1 {
		return span{}, fmt.Errorf("%d spans %q from %s, want 1", len(ss), op, service)
	}
	return ss[0], nil
}

// checkTrace asserts the article's path: the HTTP request at ingest, then
// for each hop a producer span and the next service's consumer span as its
// direct child (the trace context crossed NATS), with the stage's own
// publish below its process span, and a span per network post.
func checkTrace(tr *trace, networks []string) error {
	httpSpan, err := tr.one(localstack.Ingest, "POST /v1/articles")
	if err != nil {
		return err
	}
	if _, ok := tr.parent(httpSpan); ok {
		return fmt.Errorf("the HTTP request span has a parent; it should be the trace's root")
	}
	pattern := func(event string) string { return bus.SubjectPattern(bus.Subject(event, "x")) }
	hops := []struct{ from, to, event string }{
		{localstack.Ingest, localstack.Enrichment, bus.EventSubmitted},
		{localstack.Enrichment, localstack.Rendering, bus.EventEnriched},
		{localstack.Rendering, localstack.Socialshare, bus.EventRendered},
		{localstack.Socialshare, localstack.Ingest, bus.EventShared},
	}
	upstream := httpSpan
	for _, h := range hops {
		pub, err := tr.one(h.from, "publish "+pattern(h.event))
		if err != nil {
			return err
		}
		if !tr.isAncestor(upstream, pub) {
			return fmt.Errorf("%s's %q is not below %s's %q", h.from, pub.OperationName, h.from, upstream.OperationName)
		}
		proc, err := tr.one(h.to, "process "+pattern(h.event))
		if err != nil {
			return err
		}
		if p, ok := tr.parent(proc); !ok || p.SpanID != pub.SpanID {
			return fmt.Errorf("%s's %q is not a child of %s's %q", h.to, proc.OperationName, h.from, pub.OperationName)
		}
		if h.to == localstack.Socialshare {
			for _, n := range networks {
				post, err := tr.one(localstack.Socialshare, "share "+n)
				if err != nil {
					return err
				}
				if !tr.isAncestor(proc, post) {
					return fmt.Errorf("socialshare's %q is not below %q", post.OperationName, proc.OperationName)
				}
			}
		}
		upstream = proc
	}
	// Ingest's status view follows every later stage in the same trace (its
	// own submission it reads from the log, unconsumed).
	if ss := tr.find(localstack.Ingest, "process "+pattern(bus.EventSubmitted)); len(ss) != 0 {
		return fmt.Errorf("status view: ingest consumed its own submission (%d spans)", len(ss))
	}
	for _, ev := range []string{bus.EventEnriched, bus.EventRendered, bus.EventShared} {
		if _, err := tr.one(localstack.Ingest, "process "+pattern(ev)); err != nil {
			return fmt.Errorf("status view: %w", err)
		}
	}
	return nil
}

// waitTrace polls Jaeger for the article's trace until check passes.
func waitTrace(ctx context.Context, t *testing.T, jaegerURL, id string, check func(*trace) error) *trace {
	t.Helper()
	tags, _ := json.Marshal(map[string]string{"newsroom.article_id": id})
	q := url.Values{"service": {localstack.Socialshare}, "tags": {string(tags)}, "lookback": {"1h"}, "limit": {"20"}}
	var last error
	for {
		traces, err := getTraces(ctx, jaegerURL+"/api/traces?"+q.Encode())
		switch {
		case err != nil:
			last = err
		case len(traces) != 1:
			last = fmt.Errorf("%d traces hold socialshare spans of article %s, want 1", len(traces), id)
		default:
			if last = check(&traces[0]); last == nil {
				return &traces[0]
			}
			last = fmt.Errorf("%w; the trace holds %s", last, traces[0].summary())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no complete trace of article %s in Jaeger: %v", id, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func getTraces(ctx context.Context, u string) ([]trace, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s %s", u, resp.Status, b)
	}
	var out struct {
		Data []trace `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
