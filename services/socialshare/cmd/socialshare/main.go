// Command socialshare runs the social-share stage and its shares API,
// against NATS_URL.
//
// Environment, besides daemon.Config's (NATS_URL, HTTP_ADDR, OTEL_*):
//
//	NEWSROOM_API_TOKENS  tokens accepted by GET /v1/articles/{id}/shares (required)
//	SOCIALSHARE_*        networks, credentials (or *_FILE secret files), delays,
//	                     rates and templates: see socialshare.ConfigFromEnv
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/services/socialshare"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "socialshare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	return daemon.Main(ctx, daemon.Config{Name: socialshare.Name, DefaultAddr: "127.0.0.1:8084"}, getenv, os.Stderr,
		func(ctx context.Context, p daemon.Parts) (daemon.Service, error) {
			tokens, err := apiauth.ParseTokens(getenv("NEWSROOM_API_TOKENS"))
			if err != nil {
				return daemon.Service{}, fmt.Errorf("NEWSROOM_API_TOKENS: %w", err)
			}
			cfg, err := socialshare.ConfigFromEnv(getenv)
			if err != nil {
				return daemon.Service{}, err
			}
			cfg.Streams = p.Streams
			svc, err := socialshare.New(ctx, socialshare.Deps{JS: p.JS, Tracer: p.Tel.TracerProvider, Logger: p.Logger, Metrics: p.Metrics}, cfg)
			if err != nil {
				return daemon.Service{}, err
			}
			return daemon.Service{Run: svc.Run, Handler: tokens.Middleware(svc.Handler()), Durable: socialshare.Name}, nil
		})
}
