// Command localstack runs newsroom's developer stack without Docker:
// nats-server with JetStream, Jaeger v2 and the four service binaries, as
// processes on loopback, until Ctrl-C.
//
//	go run ./deploy/cmd/localstack            # from the repository root
//	go run ./deploy/cmd/localstack -fresh     # start from an empty data dir
//	go run ./deploy/cmd/localstack -durable   # NATS fsyncs every write (deploy/nats/durable.conf)
//
// It builds nats-server (a Go tool of the deploy module) and the services
// into <dir>/bin, and uses Jaeger from .bin/jaeger (building it there the
// first time, as CI does). Logs go to <dir>/logs/<name>.log.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/newsroom/newsroom/deploy/localstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("localstack", flag.ContinueOnError)
	dir := fs.String("dir", "", "state directory: JetStream data, logs, binaries (default <repo>/data/localstack)")
	fresh := fs.Bool("fresh", false, "delete the state directory's NATS data and logs first")
	noJaeger := fs.Bool("no-jaeger", false, "run without Jaeger (no trace export)")
	freePorts := fs.Bool("free-ports", false, "pick free ports instead of the well-known ones (another stack is running)")
	tokens := fs.String("tokens", "editor:"+localstack.DefaultAPIToken, "NEWSROOM_API_TOKENS for ingest and socialshare")
	durable := fs.Bool("durable", false, "run NATS with deploy/nats/durable.conf: every write fsynced before its ack")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := localstack.RepoRoot()
	if err != nil {
		return fmt.Errorf("run it from inside the repository: %w", err)
	}
	if *dir == "" {
		*dir = filepath.Join(root, "data", "localstack")
	}
	if *fresh {
		for _, d := range []string{"nats", "logs"} {
			if err := os.RemoveAll(filepath.Join(*dir, d)); err != nil {
				return err
			}
		}
	}

	fmt.Fprintln(out, "building nats-server and the services…")
	bin, err := localstack.Build(ctx, root, filepath.Join(*dir, "bin"))
	if err != nil {
		return err
	}
	if !*noJaeger {
		if bin.Jaeger, err = localstack.FindJaeger(root); err != nil {
			fmt.Fprintln(out, "building Jaeger v2 into .bin/jaeger (once; a few minutes)…")
			if bin.Jaeger, err = localstack.BuildJaeger(ctx, root); err != nil {
				return err
			}
		}
	}

	ports := localstack.DefaultPorts()
	if *freePorts {
		ports = localstack.Ports{}
	}
	natsConf := filepath.Join(root, "deploy", "nats", "newsroom.conf")
	if *durable {
		natsConf = filepath.Join(root, "deploy", "nats", "durable.conf")
	}
	s, err := localstack.Start(ctx, localstack.Config{Bin: bin, Dir: *dir, Ports: ports, APITokens: *tokens, NATSConfigFile: natsConf})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "stopping…")
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "localstack:", err)
		}
	}()

	fmt.Fprintf(out, `
newsroom local stack is running (Ctrl-C stops it)

  ingest API   %[1]s/v1/articles     (Authorization: Bearer %[2]s)
  site         %[3]s/
  shares API   %[4]s/v1/articles/{id}/shares
  NATS         %[5]s                 (monitoring http://127.0.0.1:%[6]d)
`, s.ServiceURL(localstack.Ingest), s.APIToken(), s.ServiceURL(localstack.Rendering),
		s.ServiceURL(localstack.Socialshare), s.NATSURL(), s.Ports().NATSMonitor)
	if u := s.JaegerURL(); u != "" {
		fmt.Fprintf(out, "  Jaeger       %s/api/traces?service=ingest  (query API; OTLP on :%d and :%d)\n",
			u, s.Ports().OTLPGRPC, s.Ports().OTLPHTTP)
	}
	fmt.Fprintf(out, `  metrics      <service URL>/metrics, health /healthz, readiness /readyz
  logs         %[1]s/logs/<name>.log

try:
  curl -sS -H 'Authorization: Bearer %[2]s' -H 'Content-Type: text/plain' \
    --data-binary @../shared/fixtures/seed-article.txt %[3]s/v1/articles
`, s.Dir(), s.APIToken(), s.ServiceURL(localstack.Ingest))

	// Run until interrupted, or until a component dies on its own.
	exits := make(chan string, len(s.Names()))
	for _, name := range s.Names() {
		go func() {
			select {
			case <-s.Process(name).Exited():
				exits <- name
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case name := <-exits:
		// Give the process's last log lines a moment to land.
		time.Sleep(100 * time.Millisecond)
		return fmt.Errorf("%s exited (%v); see %s", name, s.Process(name).ExitErr(), s.Process(name).LogPath())
	}
}
