// Package daemon runs one newsroom service as its own process: the shape
// every service binary shares (config from the environment, telemetry, a
// named NATS connection, the consumer, an HTTP listener with health checks,
// and an orderly drain on shutdown), so each main.go holds only what is its
// service's own.
package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"golang.org/x/sync/errgroup"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/kithttp"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/telemetry"
)

// Routes every service binary serves besides its own.
const (
	// HealthPath answers 200 while the process runs (liveness).
	HealthPath = "/healthz"
	// ReadyPath answers 200 when NATS is connected and the service's
	// stream and consumer exist (readiness).
	ReadyPath = "/readyz"
	// MetricsPath serves Prometheus metrics (package metrics).
	MetricsPath = "/metrics"
)

// Parts are what a service is built from.
type Parts struct {
	NC      *nats.Conn
	JS      jetstream.JetStream
	Tel     *telemetry.Telemetry
	Logger  *slog.Logger
	Getenv  func(string) string
	Streams bus.StreamOptions
	// Metrics is the process's metrics; consumer metrics are recorded by
	// the daemon, a service adds its own (socialshare's share attempts).
	Metrics *metrics.Set
}

// Service is a built service: its consumer loop and its HTTP routes (nil
// for none besides health).
type Service struct {
	Run     func(ctx context.Context, nc *nats.Conn, o bus.RunOptions) error
	Handler http.Handler
	// Durable is the consumer that readiness checks.
	Durable string
}

// Config is the environment every service binary reads:
//
//	NATS_URL            NATS server (default nats://127.0.0.1:4222)
//	HTTP_ADDR           listen address for the service's HTTP (default given per service)
//	NEWSROOM_LOG_LEVEL  debug, info, warn, error
//	NEWSROOM_REPLICAS, NEWSROOM_STREAM_MAX_BYTES, NEWSROOM_ACK_WAIT: see BusFromEnv
//	OTEL_SERVICE_NAME   defaults to the service's name; other OTEL_* as usual
type Config struct {
	Name        string
	DefaultAddr string
}

// Main runs the service until ctx ends.
func Main(ctx context.Context, c Config, getenv func(string) string, logw io.Writer, build func(context.Context, Parts) (Service, error)) error {
	natsURL := getenv("NATS_URL")
	if natsURL == "" {
		natsURL = nats.DefaultURL
	}
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = c.DefaultAddr
	}
	settings, err := BusFromEnv(getenv)
	if err != nil {
		return err
	}
	logger := telemetry.NewLogger(logw, c.Name, getenv("NEWSROOM_LOG_LEVEL"))
	// OpenTelemetry reports export failures through a process-wide handler
	// that prints plain text; route them into the JSON log like every line.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { logger.Warn("opentelemetry", "err", err) }))

	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = c.Name
	}
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: name, Env: getenv})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(sctx)
	}()

	nc, js, err := bus.Connect(natsURL, c.Name,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			// A nil error is our own drain at shutdown.
			if err != nil {
				logger.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { logger.Info("nats reconnected", "url", nc.ConnectedUrl()) }))
	if err != nil {
		return err
	}
	defer Drain(nc)

	m := metrics.New()
	svc, err := build(ctx, Parts{NC: nc, JS: js, Tel: tel, Logger: logger, Getenv: getenv, Streams: settings.Streams, Metrics: m})
	if err != nil {
		return err
	}
	if svc.Durable != "" {
		m.WatchConsumer(c.Name, js, svc.Durable)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET "+ReadyPath, func(w http.ResponseWriter, r *http.Request) {
		if err := Ready(r.Context(), nc, js, svc.Durable); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET "+MetricsPath, m.Handler())
	if svc.Handler != nil {
		mux.Handle("/", hidePattern(svc.Handler))
	}
	logger.Info("started", "http", ln.Addr().String(), "nats", natsURL)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return svc.Run(gctx, nc, bus.RunOptions{Logger: logger, Finalizer: m.Observer(c.Name), AckWait: settings.AckWait})
	})
	g.Go(func() error { return kithttp.Serve(gctx, ln, mux) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	logger.Info("stopped", "err", err)
	return err
}

// hidePattern hands the service the request without this mux's matched
// pattern ("/"): the service routes it itself, and its own pattern is the
// one its spans and logs should name.
func hidePattern(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.WithContext(r.Context())
		r2.Pattern = ""
		h.ServeHTTP(w, r2)
	})
}

// Ready reports whether the connection is up and the stream and consumer
// exist.
func Ready(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, durable string) error {
	if !nc.IsConnected() {
		return errors.New("nats not connected: " + nc.Status().String())
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return bus.CheckReady(ctx, js, durable)
}

// Drain drains nc (in-flight publishes and acks complete) and waits, at
// most 30s, for it to close.
func Drain(nc *nats.Conn) {
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for !nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	nc.Close()
}
