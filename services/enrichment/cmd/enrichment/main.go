// Command enrichment runs the enrichment stage on its own against NATS_URL
// (environment: see daemon.Config).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/services/enrichment"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "enrichment:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	return daemon.Main(ctx, daemon.Config{Name: enrichment.Name, DefaultAddr: "127.0.0.1:8082"}, getenv, os.Stderr,
		func(ctx context.Context, p daemon.Parts) (daemon.Service, error) {
			svc, err := enrichment.New(ctx, enrichment.Deps{JS: p.JS, Tracer: p.Tel.TracerProvider, Logger: p.Logger},
				enrichment.Config{Streams: p.Streams, PublicURL: publicURL(getenv)})
			if err != nil {
				return daemon.Service{}, err
			}
			return daemon.Service{Run: svc.Run, Durable: enrichment.Name}, nil
		})
}

// publicURL is the site's base for author profile URLs, as ingest and
// rendering see it.
func publicURL(getenv func(string) string) string {
	if u := getenv("NEWSROOM_PUBLIC_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:8083"
}
