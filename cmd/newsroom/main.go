// Command newsroom is the all-in-one newsroom (an embedded NATS server with
// JetStream and all four services in one process, API and site on one
// address) and the editor's command line.
//
//	newsroom                 run the all-in-one (same as "newsroom serve")
//	newsroom help            list the commands
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// cli runs one command and returns the process exit code.
func cli(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "newsroom: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "newsroom %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

const usage = `usage: newsroom [command]

commands:
  serve     run the whole pipeline in one process (the default)
  help      show this help

environment (serve):
  NEWSROOM_HTTP_ADDR    API and site address (default 127.0.0.1:8080)
  NEWSROOM_DATA_DIR     data directory (default ./data)
  NEWSROOM_NATS_URL     use this NATS server instead of the embedded one
  NEWSROOM_API_TOKENS   comma-separated API tokens ("token" or "editor:token");
                        when unset one is generated, kept in the data dir and printed
  NEWSROOM_PUBLIC_URL   the site's public base URL (default http://NEWSROOM_HTTP_ADDR)
  NEWSROOM_SITE_NAME    the publication's name (default Newsroom)
  NEWSROOM_LOG_LEVEL    debug, info, warn or error (default info)
  OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_* variables configure tracing
`
