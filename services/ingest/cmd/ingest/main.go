// Command ingest runs the ingest service on its own: the editor API and the
// status view, against NATS_URL.
//
// Environment, besides daemon.Config's (NATS_URL, HTTP_ADDR, OTEL_*):
//
//	NEWSROOM_API_TOKENS       comma-separated "token" or "editor:token", each
//	                          with every scope
//	NEWSROOM_API_TOKENS_FILE  a file of "editor:sha256:<hex>:scope,scope" lines
//	                          (scopes: read, submit, retract); one of the two
//	                          is required
//	NEWSROOM_PUBLIC_URL  the site's public base URL (page URLs)
//	NEWSROOM_API_URL     the API's public base URL (status URLs; default NEWSROOM_PUBLIC_URL)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/services/ingest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	return daemon.Main(ctx, daemon.Config{Name: ingest.Name, DefaultAddr: "127.0.0.1:8081"}, getenv, os.Stderr,
		func(ctx context.Context, p daemon.Parts) (daemon.Service, error) {
			tokens, err := apiauth.Load(getenv("NEWSROOM_API_TOKENS"), getenv("NEWSROOM_API_TOKENS_FILE"))
			if err != nil {
				return daemon.Service{}, fmt.Errorf("NEWSROOM_API_TOKENS / NEWSROOM_API_TOKENS_FILE: %w", err)
			}
			publicURL := getenv("NEWSROOM_PUBLIC_URL")
			if publicURL == "" {
				publicURL = "http://127.0.0.1:8083"
			}
			svc, err := ingest.New(ctx, ingest.Deps{JS: p.JS, Tracer: p.Tel.TracerProvider, Logger: p.Logger, Metrics: p.Metrics},
				ingest.Config{PublicURL: publicURL, APIURL: getenv("NEWSROOM_API_URL"), Tokens: tokens, Streams: p.Streams})
			if err != nil {
				return daemon.Service{}, err
			}
			return daemon.Service{Run: svc.Run, Handler: svc.Handler(), Durable: ingest.Name}, nil
		})
}
