// Command rendering runs the rendering stage and serves the site, against
// NATS_URL.
//
// Environment, besides daemon.Config's (NATS_URL, HTTP_ADDR, OTEL_*):
//
//	NEWSROOM_PUBLIC_URL  the site's public base URL
//	NEWSROOM_SITE_NAME   the publication's name (default Newsroom)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/rendering/page"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "rendering:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	return daemon.Main(ctx, daemon.Config{Name: rendering.Name, DefaultAddr: "127.0.0.1:8083"}, getenv, os.Stderr,
		func(ctx context.Context, p daemon.Parts) (daemon.Service, error) {
			site := page.Site{Name: getenv("NEWSROOM_SITE_NAME"), BaseURL: getenv("NEWSROOM_PUBLIC_URL")}
			if site.Name == "" {
				site.Name = "Newsroom"
			}
			if site.BaseURL == "" {
				site.BaseURL = "http://127.0.0.1:8083"
			}
			svc, err := rendering.New(ctx, rendering.Deps{JS: p.JS, Tracer: p.Tel.TracerProvider, Logger: p.Logger},
				rendering.Config{Site: site, Streams: p.Streams})
			if err != nil {
				return daemon.Service{}, err
			}
			return daemon.Service{Run: svc.Run, Handler: svc.Handler(), Durable: rendering.Name}, nil
		})
}
