package localstack_test

import (
	"context"
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/deploy/internal/envscan"
	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/testtool"
)

// TestServiceEnvMatchesCode: the stack gives each service exactly the
// environment its source reads (plus PATH and the like), so a new setting
// in a service's main cannot be forgotten here.
func TestServiceEnvMatchesCode(t *testing.T) {
	root, err := testtool.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := localstack.Binaries{NATSServer: "/nonexistent/nats-server", Jaeger: "/nonexistent/jaeger", Services: map[string]string{}}
	for _, name := range localstack.ServiceNames() {
		bin.Services[name] = "/nonexistent/" + name
	}
	s, err := localstack.New(localstack.Config{Bin: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range localstack.ServiceNames() {
		code, err := envscan.LoadService(root, name)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, kv := range s.Process(name).Env() {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		for _, err := range code.Check(keys, "PATH", "HOME", "TMPDIR", "TZ") {
			t.Error(err)
		}
	}
}

// TestBinariesAreStatic: built with CGO_ENABLED=0 like the images, the
// binaries need no libc.
func TestBinariesAreStatic(t *testing.T) {
	b := builtBinaries(t)
	paths := []string{b.NATSServer}
	for _, p := range b.Services {
		paths = append(paths, p)
	}
	for _, path := range paths {
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has an ELF interpreter: it is dynamically linked", filepath.Base(path))
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", filepath.Base(path), libs)
		}
		f.Close()
	}
}

// TestKillAndRestart is the process control the fault-injection suite
// builds on: a stage killed with SIGKILL holds the pipeline up without
// losing the article, and once started again on the same port it catches
// up from its durable consumer.
func TestKillAndRestart(t *testing.T) {
	b := builtBinaries(t)
	b.Jaeger = "" // no tracing needed here
	s := startStack(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	enrichment := s.Process(localstack.Enrichment)
	pid := enrichment.Pid()
	if err := enrichment.Kill(); err != nil {
		t.Fatal(err)
	}
	if enrichment.Running() {
		t.Fatal("enrichment still running after Kill")
	}
	id := submit(t, s, []byte("Headline of a killed stage\n\nThe body of the article, long enough to pass."))

	nc, err := nats.Connect(s.NATSURL(), nats.Name("kill-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(ctx, bus.StreamName, localstack.Enrichment)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Waiting: not delivered yet, or delivered to a pull request the
		// killed process left behind, until AckWait gives it back.
		if info.NumPending+uint64(info.NumAckPending) >= 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the article never waited for the killed enrichment: %+v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := enrichment.Start(); err != nil {
		t.Fatal(err)
	}
	if err := enrichment.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if enrichment.Pid() == pid {
		t.Error("restarted enrichment has the killed one's pid")
	}
	shared := waitShared(ctx, t, js, id)
	if shared.ArticleId != id {
		t.Errorf("shared event of %q", shared.ArticleId)
	}
}

// TestSecondInstanceTakesOver: two enrichment processes share the durable
// consumer; with one killed, the other carries the article through.
func TestSecondInstanceTakesOver(t *testing.T) {
	b := builtBinaries(t)
	b.Jaeger = ""
	s := startStack(t, b, map[string]int{localstack.Enrichment: 2})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if got := s.Instances(localstack.Enrichment); len(got) != 2 || s.Process(got[1]) == nil || !s.Process(got[1]).Running() {
		t.Fatalf("enrichment instances %v not running", got)
	}
	if err := s.Process(localstack.Enrichment).Kill(); err != nil {
		t.Fatal(err)
	}
	id := submit(t, s, []byte("Headline for the second instance\n\nThe body of the article, long enough to pass."))
	nc, err := nats.Connect(s.NATSURL(), nats.Name("instances-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	waitShared(ctx, t, js, id)
}
