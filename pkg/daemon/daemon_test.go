package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/pkg/natstest"
)

// TestMainServesHealthReadinessAndMetrics runs a service binary's main
// against a real JetStream server: liveness at once, readiness once its
// consumer exists, and /metrics counting the messages its consumer settles.
func TestMainServesHealthReadinessAndMetrics(t *testing.T) {
	s := natstest.Server(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"NATS_URL": s.ClientURL(), "HTTP_ADDR": "127.0.0.1:0", "OTEL_TRACES_EXPORTER": "none"}
	logr, logw := io.Pipe()
	spec := bus.ConsumerSpec{Durable: "demo", FilterSubjects: []string{bus.EventSubjects(bus.EventSubmitted)}}
	done := make(chan error, 1)
	go func() {
		done <- daemon.Main(ctx, daemon.Config{Name: "demo", DefaultAddr: "127.0.0.1:0"}, func(k string) string { return env[k] }, logw,
			func(ctx context.Context, p daemon.Parts) (daemon.Service, error) {
				if p.Metrics == nil {
					t.Error("Parts.Metrics is nil")
				}
				if err := bus.EnsureStreams(ctx, p.JS, p.Streams); err != nil {
					return daemon.Service{}, err
				}
				pub := bus.NewPublisher(p.JS, p.Tel.TracerProvider)
				sub := bus.NewSubscriber("demo", pub,
					func(context.Context, jetstream.Msg) (struct{}, error) { return struct{}{}, nil },
					func(_ context.Context, m jetstream.Msg) (jetstream.Msg, error) { return m, nil },
					func(context.Context, struct{}) error { return nil }, bus.SubscriberSpec(spec))
				return daemon.Service{Durable: "demo", Run: func(ctx context.Context, _ *nats.Conn, o bus.RunOptions) error {
					return bus.Run(ctx, p.JS, spec, sub, o)
				}}, nil
			})
		_ = logw.Close()
	}()

	// The address comes from the "started" log line.
	var base string
	sc := bufio.NewScanner(logr)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if rec["msg"] == "started" {
			base = "http://" + rec["http"].(string)
			break
		}
	}
	if base == "" {
		t.Fatalf("no started line; Main returned %v", <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, logr) }()

	if code, _ := get(t, base+daemon.HealthPath); code != http.StatusOK {
		t.Errorf("%s: %d", daemon.HealthPath, code)
	}
	poll(t, func() bool { code, _ := get(t, base+daemon.ReadyPath); return code == http.StatusOK })

	_, js := natstest.Connect(t, s, "producer")
	if _, err := js.Publish(ctx, bus.Subject(bus.EventSubmitted, "x-1"), []byte("payload")); err != nil {
		t.Fatal(err)
	}
	poll(t, func() bool {
		_, body := get(t, base+daemon.MetricsPath)
		return strings.Contains(body, `newsroom_messages_total{event="submitted",outcome="ack",service="demo"} 1`) &&
			strings.Contains(body, `newsroom_consumer_pending_messages{consumer="demo",service="demo"} 0`)
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Main: %v", err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func poll(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
