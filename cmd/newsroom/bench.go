package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/newsroom/newsroom/cmd/newsroom/internal/bench"
	"github.com/newsroom/newsroom/pkg/apiauth"
)

func init() {
	register(command{
		name:    "bench",
		summary: "measure the pipeline against baselines taken in the same run, and against Hugo",
		help: `Measures, on this machine and in one run, raw JetStream (B1), a four-hop relay
with no work (B2) and bare HTTP handlers (B3) as baselines, then the platform
with no-op stages, each stage's own work, the whole pipeline, submit-to-live
latency, ingest, tracing's cost and memory, and compares a rebuild and one new
article with Hugo building the same articles. It prints a Markdown table in
which every figure has its ratio to its baseline, and says of each target
whether it was met. Nothing is asserted: figures from a shared machine are
compared only with baselines measured beside them.

It takes about half an hour (--short: a few minutes) and uses both
cores; run it on a quiet machine. Temporary servers and sites go under
$TMPDIR and are removed.

flags:
  --short        small counts (1,000-article site), for CI
  --corpus FILE  naeb-dev's truth.json, the articles' text (default: found as
                 ../shared/eval/naeb-dev/truth.json above the working directory)
  --seed N       seed of the generated articles (default 1)
  --hugo FILE    the hugo binary (default: $NEWSROOM_HUGO_BIN, .bin/hugo in the
                 repository, or hugo on PATH; .ci/install.d builds it)
  --only LIST    comma-separated groups to run: ` + strings.Join(bench.Groups, ", ") + `
  --logs DIR     keep the output of the child processes (serve, rerender) there
  --cpuprofile FILE  write a CPU profile of this process (go tool pprof FILE);
                 the in-process measurements are all but the peer comparison
`,
		run: runBench,
	})
}

func runBench(ctx context.Context, cio cmdIO, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	short := fs.Bool("short", false, "small counts, for CI")
	corpus := fs.String("corpus", "", "naeb-dev truth.json")
	seed := fs.Uint64("seed", 1, "seed of the generated articles")
	hugo := fs.String("hugo", "", "hugo binary")
	only := fs.String("only", "", "groups to run")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	logs := fs.String("logs", "", "keep the child processes' output in this directory")
	if err := fs.Parse(args); err != nil {
		return errUsage(err.Error())
	}
	if fs.NArg() > 0 {
		return errUsage("bench takes flags only")
	}
	o := bench.Options{Short: *short, Corpus: *corpus, Seed: *seed, Hugo: *hugo, Progress: cio.stderr, Logs: *logs,
		Start: startForBench}
	if *only != "" {
		for g := range strings.SplitSeq(*only, ",") {
			o.Only = append(o.Only, strings.TrimSpace(g))
		}
	}
	var err error
	if o.Corpus == "" {
		if o.Corpus, err = findUp(filepath.Join("shared", "eval", "naeb-dev", "truth.json")); err != nil {
			return errUsage("no corpus: pass --corpus PATH/TO/naeb-dev/truth.json")
		}
	}
	if o.Hugo == "" {
		o.Hugo = findHugo(cio.getenv)
	}
	if o.Self, err = os.Executable(); err != nil {
		return fmt.Errorf("the newsroom binary: %w", err)
	}
	if *cpuprofile != "" {
		stop, err := startCPUProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
		o.RerenderArgs = []string{"-cpuprofile", *cpuprofile + ".rerender"}
	}
	m := bench.WatchMachine()
	start := time.Now()
	rep, err := bench.Run(ctx, o)
	m.Stop()
	if err != nil {
		return err
	}
	m.WriteHeader(cio.stdout, time.Since(start))
	fmt.Fprintln(cio.stdout)
	rep.WriteTable(cio.stdout)
	return nil
}

// findUp looks for rel in the working directory and its parents, and
// beside them (the shared folder sits beside the repository).
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, p := range []string{filepath.Join(dir, rel), filepath.Join(dir, "..", rel)} {
			if _, err := os.Stat(p); err == nil {
				return filepath.Clean(p), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New(rel + " not found")
		}
		dir = parent
	}
}

func findHugo(getenv func(string) string) string {
	if p := getenv("NEWSROOM_HUGO_BIN"); p != "" {
		return p
	}
	if p, err := findUp(filepath.Join(".bin", "hugo")); err == nil {
		return p
	}
	if p, err := exec.LookPath("hugo"); err == nil {
		return p
	}
	return ""
}

// startForBench composes the all-in-one exactly as serve does, for the
// benchmark's in-process measurements.
func startForBench(ctx context.Context, env func(string) string, connect bench.Connect, logw io.Writer) (bench.AllInOne, error) {
	cfg := parseConfig(env)
	tokens, err := apiauth.Load(cfg.tokens, cfg.tokenFile)
	if err != nil {
		return nil, err
	}
	if cfg.publicURL == "" {
		return nil, errors.New("bench: NEWSROOM_PUBLIC_URL is required")
	}
	p, err := startPipeline(ctx, cfg, tokens, connectFunc(connect), logw)
	if err != nil {
		return nil, err
	}
	return benchPipeline{p}, nil
}

type benchPipeline struct{ p *pipeline }

func (b benchPipeline) Handler() http.Handler { return b.p.handler() }
func (b benchPipeline) RunConsumers(ctx context.Context, only ...string) error {
	return b.p.runConsumers(ctx, only...)
}
func (b benchPipeline) Close() { b.p.close() }

// startCPUProfile writes a CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
