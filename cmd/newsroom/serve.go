package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/pkg/kithttp"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/pkg/telemetry"
	"github.com/newsroom/newsroom/services/enrichment"
	"github.com/newsroom/newsroom/services/ingest"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/socialshare"
)

// config is the all-in-one's environment, parsed once.
type config struct {
	addr      string
	dataDir   string
	natsURL   string
	tokens    string
	tokenFile string
	publicURL string
	siteName  string
	logLevel  string
	// natsSync is NEWSROOM_NATS_SYNC: how the embedded server syncs.
	natsSync string
	// apiRate is NEWSROOM_API_RATE, each API token's requests per second.
	apiRate string
	env     func(string) string
}

func parseConfig(getenv func(string) string) config {
	c := config{
		addr:      getenv("NEWSROOM_HTTP_ADDR"),
		dataDir:   getenv("NEWSROOM_DATA_DIR"),
		natsURL:   getenv("NEWSROOM_NATS_URL"),
		tokens:    getenv("NEWSROOM_API_TOKENS"),
		tokenFile: getenv("NEWSROOM_API_TOKENS_FILE"),
		publicURL: getenv("NEWSROOM_PUBLIC_URL"),
		siteName:  getenv("NEWSROOM_SITE_NAME"),
		logLevel:  getenv("NEWSROOM_LOG_LEVEL"),
		natsSync:  getenv("NEWSROOM_NATS_SYNC"),
		env:       getenv,
	}
	if c.addr == "" {
		c.addr = "127.0.0.1:8080"
	}
	if c.dataDir == "" {
		c.dataDir = "data"
	}
	if c.siteName == "" {
		c.siteName = "Newsroom"
	}
	c.apiRate = strings.TrimSpace(getenv("NEWSROOM_API_RATE"))
	return c
}

func init() {
	register(command{
		name:    "serve",
		summary: "run the whole pipeline in one process (the default)",
		help: `Starts an embedded NATS server with JetStream (or connects to NEWSROOM_NATS_URL),
the four services, and the API and site on one address.

environment:
  NEWSROOM_HTTP_ADDR    API and site address (default 127.0.0.1:8080)
  NEWSROOM_DATA_DIR     data directory (default ./data)
  NEWSROOM_NATS_URL     use this NATS server instead of the embedded one
  NEWSROOM_API_TOKENS   comma-separated API tokens ("token" or "editor:token");
                        when unset one is generated, kept in the data dir and printed
  NEWSROOM_API_TOKENS_FILE  lines "editor:sha256:<hex of token>:scope,scope" (scopes
                        read, submit, retract or *): tokens kept only as digests
  NEWSROOM_API_RATE     requests per second each API token may make (default 20, bursts
                        of 40); a negative number lifts the limit
  NEWSROOM_PUBLIC_URL   the site's public base URL (default http://NEWSROOM_HTTP_ADDR)
  NEWSROOM_SITE_NAME    the publication's name (default Newsroom)
  NEWSROOM_SITE_LANGUAGE, NEWSROOM_SITE_DESCRIPTION, NEWSROOM_SITE_LOGO (+ _WIDTH,
  _HEIGHT), NEWSROOM_SITE_X_HANDLE, NEWSROOM_SITE_FACEBOOK_APP_ID, NEWSROOM_SITE_PROFILES
                        the site's identity: see "newsroom help rerender"
  NEWSROOM_LOG_LEVEL    debug, info, warn or error (default info)
  NEWSROOM_NATS_SYNC    "always": the embedded server fsyncs every write before it
                        acknowledges it (survives power loss, slower); or a sync
                        interval such as 10s (default: the server's, 2m)
  NEWSROOM_STREAM_MAX_BYTES  cap of the article log, e.g. 50GB (default unlimited);
                        when full, submissions answer 503 and stages wait for room
  NEWSROOM_ACK_WAIT     redelivery delay of an unacknowledged message (default 30s)
  NEWSROOM_REPLICAS     stream replicas, with NEWSROOM_NATS_URL on a cluster (default 1)
  SOCIALSHARE_*         social networks: credentials (or *_FILE secrets), delays, rates,
                        templates; without credentials a network stays in dry run
  OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_* variables configure tracing
`,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			if len(args) > 0 {
				return errUsage("serve takes no arguments; it is configured by the environment")
			}
			return serve(ctx, cio.getenv, cio.stdout, cio.stderr)
		},
	})
}

// serve runs the all-in-one until ctx ends.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := parseConfig(getenv)
	if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.publicURL == "" {
		cfg.publicURL = "http://" + ln.Addr().String()
	}
	tokenSpec, generated, err := apiTokens(cfg)
	if err != nil {
		return err
	}
	tokens, err := apiauth.Load(tokenSpec, cfg.tokenFile)
	if err != nil {
		return fmt.Errorf("NEWSROOM_API_TOKENS: %w", err)
	}

	var ns *server.Server
	if cfg.natsURL == "" {
		// rerender opens the same store when the all-in-one is stopped.
		unlock, err := lockDataDir(cfg.dataDir)
		if err != nil {
			return err
		}
		defer unlock()
		if ns, err = startEmbedded(cfg); err != nil {
			return err
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	}
	connect := func(name string) (*nats.Conn, jetstream.JetStream, error) {
		if ns != nil {
			return bus.Connect("", name, natsembed.ConnectOption(ns))
		}
		return bus.Connect(cfg.natsURL, name)
	}

	p, err := startPipeline(ctx, cfg, tokens, connect, stderr)
	if err != nil {
		return err
	}
	defer p.close()

	if generated != "" {
		fmt.Fprintf(stdout, "API token (kept in %s): %s\n", filepath.Join(cfg.dataDir, tokenFile), generated)
	}
	fmt.Fprintf(stdout, "newsroom is running: API and site at %s\n", cfg.publicURL)
	return p.run(ctx, ln)
}

// embeddedOptions are the embedded server's options: the data dir's nats/
// and NEWSROOM_NATS_SYNC.
func embeddedOptions(cfg config) (natsembed.Options, error) {
	o := natsembed.Options{StoreDir: filepath.Join(cfg.dataDir, "nats")}
	switch v := strings.TrimSpace(cfg.natsSync); {
	case v == "":
	case strings.EqualFold(v, "always"):
		o.SyncAlways = true
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, fmt.Errorf("NEWSROOM_NATS_SYNC=%q: want always or an interval such as 10s", v)
		}
		o.SyncInterval = d
	}
	return o, nil
}

// startEmbedded starts the all-in-one's own nats-server.
func startEmbedded(cfg config) (*server.Server, error) {
	o, err := embeddedOptions(cfg)
	if err != nil {
		return nil, err
	}
	return natsembed.Start(o)
}

// pipeline is the four services composed in one process, each with its own
// NATS connection and telemetry, as their own binaries would have.
type pipeline struct {
	ingest      *ingest.Ingest
	enrichment  *enrichment.Enrichment
	rendering   *rendering.Rendering
	socialshare *socialshare.Socialshare
	conns       map[string]*nats.Conn
	tel         []*telemetry.Telemetry
	metrics     *metrics.Set
	tokens      *apiauth.Tokens
	logger      *slog.Logger
	// ackWait replaces the consumers' AckWait when set (NEWSROOM_ACK_WAIT).
	ackWait time.Duration
}

type connectFunc func(name string) (*nats.Conn, jetstream.JetStream, error)

func startPipeline(ctx context.Context, cfg config, tokens *apiauth.Tokens, connect connectFunc, logw io.Writer) (p *pipeline, err error) {
	p = &pipeline{conns: map[string]*nats.Conn{}, tokens: tokens, logger: telemetry.NewLogger(logw, "newsroom", cfg.logLevel),
		metrics: metrics.New()}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	busCfg, err := daemon.BusFromEnv(cfg.env)
	if err != nil {
		return nil, err
	}
	streams := busCfg.Streams
	p.ackWait = busCfg.AckWait
	type parts struct {
		js  jetstream.JetStream
		tel *telemetry.Telemetry
		log *slog.Logger
	}
	setup := func(name string) (parts, error) {
		tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: name, Env: cfg.env})
		if err != nil {
			return parts{}, err
		}
		p.tel = append(p.tel, tel)
		nc, js, err := connect(name)
		if err != nil {
			return parts{}, err
		}
		p.conns[name] = nc
		p.metrics.WatchConsumer(name, js, name)
		return parts{js: js, tel: tel, log: telemetry.NewLogger(logw, name, cfg.logLevel)}, nil
	}

	in, err := setup(ingest.Name)
	if err != nil {
		return nil, err
	}
	inCfg := ingest.Config{PublicURL: cfg.publicURL, Tokens: tokens, Streams: streams}
	if inCfg.RatePerSecond, err = apiRate(cfg.apiRate); err != nil {
		return nil, err
	}
	if p.ingest, err = ingest.New(ctx, ingest.Deps{JS: in.js, Tracer: in.tel.TracerProvider, Logger: in.log, Metrics: p.metrics}, inCfg); err != nil {
		return nil, err
	}
	en, err := setup(enrichment.Name)
	if err != nil {
		return nil, err
	}
	if p.enrichment, err = enrichment.New(ctx, enrichment.Deps{JS: en.js, Tracer: en.tel.TracerProvider, Logger: en.log},
		enrichment.Config{PublicURL: cfg.publicURL, Streams: streams}); err != nil {
		return nil, err
	}
	re, err := setup(rendering.Name)
	if err != nil {
		return nil, err
	}
	site, err := rendering.SiteFromEnv(cfg.env)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	site.BaseURL = strings.TrimRight(cfg.publicURL, "/")
	if p.rendering, err = rendering.New(ctx, rendering.Deps{JS: re.js, Tracer: re.tel.TracerProvider, Logger: re.log},
		rendering.Config{Site: site, Streams: streams}); err != nil {
		return nil, err
	}
	so, err := setup(socialshare.Name)
	if err != nil {
		return nil, err
	}
	soCfg, err := socialshare.ConfigFromEnv(cfg.env)
	if err != nil {
		return nil, err
	}
	if soCfg.Site == "" {
		soCfg.Site = cfg.siteName
	}
	soCfg.Streams = streams
	if p.socialshare, err = socialshare.New(ctx, socialshare.Deps{JS: so.js, Tracer: so.tel.TracerProvider, Logger: so.log, Metrics: p.metrics},
		soCfg); err != nil {
		return nil, err
	}
	return p, nil
}

// handler routes the API to ingest and socialshare and everything else to
// the site.
func (p *pipeline) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", p.ingest.Handler())
	mux.Handle("GET /v1/articles/{id}/shares", p.tokens.Middleware(p.socialshare.Handler()))
	mux.Handle("GET /metrics", p.metrics.Handler())
	mux.Handle("/", p.rendering.Handler())
	return mux
}

// run serves HTTP and runs every consumer until ctx ends, then drains.
func (p *pipeline) run(ctx context.Context, ln net.Listener) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.runConsumers(gctx) })
	g.Go(func() error { return kithttp.Serve(gctx, ln, p.handler()) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// runConsumers runs every service's consumer until ctx ends.
func (p *pipeline) runConsumers(ctx context.Context, only ...string) error {
	g, gctx := errgroup.WithContext(ctx)
	consumers := []struct {
		name string
		run  func(context.Context, *nats.Conn, bus.RunOptions) error
	}{
		{ingest.Name, p.ingest.Run},
		{enrichment.Name, p.enrichment.Run},
		{rendering.Name, p.rendering.Run},
		{socialshare.Name, p.socialshare.Run},
	}
	for _, c := range consumers {
		if len(only) > 0 && !slices.Contains(only, c.name) {
			continue
		}
		g.Go(func() error {
			if err := c.run(gctx, p.conns[c.name], bus.RunOptions{Finalizer: p.metrics.Observer(c.name), AckWait: p.ackWait}); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// close drains every connection (publishes in flight complete) and flushes
// telemetry.
func (p *pipeline) close() {
	for _, nc := range p.conns {
		daemon.Drain(nc)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, t := range p.tel {
		_ = t.Shutdown(sctx)
	}
}

// apiRate reads NEWSROOM_API_RATE: requests per second per token, or a
// negative number for no limit (a bulk import, a benchmark); empty keeps
// ingest's default.
func apiRate(v string) (float64, error) {
	if v == "" {
		return 0, nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("NEWSROOM_API_RATE=%q: want requests per second per token, or a negative number for no limit", v)
	}
	return r, nil
}

const tokenFile = "api-token"

// apiTokens returns the configured tokens, or the data dir's generated one,
// generating it on first start. generated is the token to print, if any.
func apiTokens(cfg config) (spec, generated string, err error) {
	if cfg.tokens != "" || cfg.tokenFile != "" {
		return cfg.tokens, "", nil
	}
	path := filepath.Join(cfg.dataDir, tokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		t := strings.TrimSpace(string(b))
		return "editor:" + t, t, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	t := "nr_" + base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("write api token: %w", err)
	}
	return "editor:" + t, t, nil
}
