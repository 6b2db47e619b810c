// Command rendering runs the rendering stage and serves the site, against
// NATS_URL.
//
// Environment, besides daemon.Config's (NATS_URL, HTTP_ADDR, OTEL_*), the
// site's identity (rendering.SiteEnvHelp):
//
//	NEWSROOM_PUBLIC_URL            the site's public base URL (default http://HTTP_ADDR)
//	NEWSROOM_SITE_NAME             the publication's name (default Newsroom)
//	NEWSROOM_SITE_DESCRIPTION      one line about the publication
//	NEWSROOM_SITE_LANGUAGE         default language (default en)
//	NEWSROOM_SITE_LOGO             publisher logo URL, with NEWSROOM_SITE_LOGO_WIDTH/_HEIGHT
//	NEWSROOM_SITE_X_HANDLE         the publication's X account
//	NEWSROOM_SITE_FACEBOOK_APP_ID  fb:app_id
//	NEWSROOM_SITE_PROFILES         comma-separated profile URLs
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/services/rendering"
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
	site, err := rendering.SiteFromEnv(getenv)
	if err != nil {
		return err
	}
	return daemon.Main(ctx, daemon.Config{Name: rendering.Name, DefaultAddr: "127.0.0.1:8083"}, getenv, os.Stderr,
		func(ctx context.Context, p daemon.Parts) (daemon.Service, error) {
			if site.BaseURL == "" {
				site.BaseURL = "http://127.0.0.1:8083"
				if addr := getenv("HTTP_ADDR"); addr != "" {
					site.BaseURL = "http://" + addr
				}
			}
			svc, err := rendering.New(ctx, rendering.Deps{JS: p.JS, Tracer: p.Tel.TracerProvider, Logger: p.Logger},
				rendering.Config{Site: site, Streams: p.Streams})
			if err != nil {
				return daemon.Service{}, err
			}
			return daemon.Service{Run: svc.Run, Handler: svc.Handler(), Durable: rendering.Name}, nil
		})
}
