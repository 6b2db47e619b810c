package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/pkg/telemetry"
	"github.com/newsroom/newsroom/services/rendering"
)

func init() {
	register(command{
		name:    "rerender",
		summary: "rebuild the whole site from the article log (after a template change)",
		help: `Reads every enriched and retracted event in the NEWS stream from the start,
through an ephemeral ordered consumer, and renders the site again: every
article's latest revision with the current templates, the notice of every
retracted article, every listing, feed and sitemap. It publishes no event,
so nothing is posted to a social network again.

Where the log is:
  NEWSROOM_NATS_URL set    connects to that NATS server. A rendering service
                           may keep running meanwhile (each page is replaced
                           atomically; the newer revision always wins).
  otherwise                opens the all-in-one's data directory
                           (NEWSROOM_DATA_DIR, default ./data) with an embedded
                           server. The all-in-one must be stopped first: it
                           holds a lock on the directory, and rerender refuses
                           to open it while the lock is held.

flags:
  -clean   empty the rendering index and the site before rebuilding (for a
           lost or suspect index; with NEWSROOM_NATS_URL, stop the rendering
           service first: the site is empty until the rebuild ends)
  -cpuprofile FILE
           write a CPU profile of the rebuild (go tool pprof FILE)

environment (the same as serve, so the pages come out the same):
  NEWSROOM_NATS_URL, NEWSROOM_DATA_DIR, NEWSROOM_HTTP_ADDR (the default public URL),
  NEWSROOM_LOG_LEVEL, and the site's identity:
` + rendering.SiteEnvHelp,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			fs := flag.NewFlagSet("rerender", flag.ContinueOnError)
			fs.SetOutput(cio.stderr)
			clean := fs.Bool("clean", false, "empty the index and the site first")
			cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
			if err := fs.Parse(args); err != nil {
				return errUsage(err.Error())
			}
			if fs.NArg() > 0 {
				return errUsage("rerender takes no arguments besides its flags")
			}
			if *cpuprofile != "" {
				stop, err := startCPUProfile(*cpuprofile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return rerender(ctx, cio.getenv, cio.stdout, cio.stderr, *clean)
		},
	})
}

func rerender(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, clean bool) error {
	cfg := parseConfig(getenv)
	site, err := rendering.SiteFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if site.BaseURL == "" {
		// What serve uses when NEWSROOM_PUBLIC_URL is unset.
		site.BaseURL = "http://" + cfg.addr
	}

	var (
		nc *nats.Conn
		js jetstream.JetStream
	)
	if cfg.natsURL != "" {
		nc, js, err = bus.Connect(cfg.natsURL, rendering.Name+"-rerender")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rerendering from %s\n", cfg.natsURL)
	} else {
		storeDir := filepath.Join(cfg.dataDir, "nats")
		if _, err := os.Stat(storeDir); err != nil {
			return fmt.Errorf("no all-in-one data in %s (set NEWSROOM_DATA_DIR or NEWSROOM_NATS_URL): %w", cfg.dataDir, err)
		}
		unlock, err := lockDataDir(cfg.dataDir)
		if err != nil {
			return err
		}
		defer unlock()
		ns, err := natsembed.Start(natsembed.Options{StoreDir: storeDir})
		if err != nil {
			return err
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
		nc, js, err = bus.Connect("", rendering.Name+"-rerender", natsembed.ConnectOption(ns))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rerendering from the data directory %s\n", cfg.dataDir)
	}
	defer daemon.Drain(nc)

	logger := telemetry.NewLogger(stderr, "rerender", cfg.logLevel)
	r, err := rendering.New(ctx, rendering.Deps{JS: js, Logger: logger}, rendering.Config{Site: site})
	if err != nil {
		return err
	}
	start := time.Now()
	last := time.Now()
	st, err := r.Rebuild(ctx, rendering.RebuildOptions{Clean: clean, Progress: func(s rendering.RebuildStats) {
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			fmt.Fprintf(stdout, "  %d events so far\n", s.Events)
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rerendered the site from %d events (%d malformed, skipped) in %s; no event published\n",
		st.Events, st.Malformed, time.Since(start).Round(time.Millisecond))
	return nil
}

// lockFile in the data directory is held by whoever has the embedded
// server's store open: the all-in-one while it runs, rerender while it
// rebuilds. Two servers on one store would corrupt it.
const lockFile = "newsroom.lock"

// errDataDirBusy means another process holds the data directory.
var errDataDirBusy = errors.New("the data directory is in use (is the all-in-one running? stop it, or set NEWSROOM_NATS_URL)")

// lockDataDir takes the data directory's lock without waiting. The lock
// goes with the process, so a crash never leaves it held.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, errDataDirBusy)
		}
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
