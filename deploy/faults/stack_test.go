package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/testtool"
)

// ackWait is every consumer's AckWait in the suite (NEWSROOM_ACK_WAIT):
// a message a killed process held comes back after 2s, not 30s.
const ackWait = 2 * time.Second

var (
	buildOnce sync.Once
	built     localstack.Binaries
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds nats-server and the services once per run, with the
// faultinject tag: pkg/bus's fault points obey NEWSROOM_FAULT.
func binaries(t *testing.T) localstack.Binaries {
	t.Helper()
	buildOnce.Do(func() {
		root, err := testtool.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "newsroom-faults-bin-"); err != nil {
			buildErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		built, buildErr = localstack.BuildWith(ctx, root, binDir, localstack.BuildOptions{Tags: []string{"faultinject"}})
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	b := built
	b.Services = maps.Clone(built.Services)
	return b
}

// stackOptions shape one scenario's stack.
type stackOptions struct {
	// jaeger runs Jaeger too (found with testtool.Jaeger).
	jaeger bool
	// env is added to every service's environment.
	env map[string]string
	// serviceEnv is added to every instance of one service.
	serviceEnv map[string]map[string]string
	// arm sets NEWSROOM_FAULT for the first run of one instance.
	arm map[string]string
	// natsConfig is the file of deploy/nats nats-server loads (default
	// newsroom.conf).
	natsConfig string
}

// stack is a local stack of separate processes, two of every service,
// posting to the fake networks, and the test's own NATS connection.
type stack struct {
	*localstack.Stack
	nets *networks
	nc   *nats.Conn
	js   jetstream.JetStream
}

func startStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	bin := binaries(t)
	if o.jaeger {
		bin.Jaeger = testtool.Find(t, testtool.Jaeger)
	}
	root, err := testtool.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if o.natsConfig == "" {
		o.natsConfig = "newsroom.conf"
	}
	nets := newNetworks(t)
	env := map[string]string{
		"NEWSROOM_ACK_WAIT":       ackWait.String(),
		"NEWSROOM_LOG_LEVEL":      "info",
		"OTEL_BSP_SCHEDULE_DELAY": "100",
	}
	maps.Copy(env, o.env)
	serviceEnv := map[string]map[string]string{localstack.Socialshare: nets.env()}
	for svc, e := range o.serviceEnv {
		if serviceEnv[svc] == nil {
			serviceEnv[svc] = map[string]string{}
		}
		maps.Copy(serviceEnv[svc], e)
	}
	instances := map[string]int{}
	for _, svc := range localstack.ServiceNames() {
		instances[svc] = 2
	}
	ls, err := localstack.New(localstack.Config{
		Bin: bin, Dir: t.TempDir(), Env: env, ServiceEnv: serviceEnv, Instances: instances,
		NATSConfigFile: filepath.Join(root, "deploy", "nats", o.natsConfig),
	})
	if err != nil {
		t.Fatal(err)
	}
	for inst, spec := range o.arm {
		p := ls.Process(inst)
		if p == nil {
			t.Fatalf("no process %q to arm", inst)
		}
		p.SetEnv(bus.FaultEnv, spec)
	}
	t.Cleanup(func() {
		if err := ls.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			for _, name := range ls.Names() {
				b, _ := os.ReadFile(ls.Process(name).LogPath())
				t.Logf("--- %s log (last 2500 bytes):\n%s", name, tail(b, 2500))
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := ls.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(ls.NATSURL(), nats.Name("fault-suite"), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{Stack: ls, nets: nets, nc: nc, js: js}
}

// ingestURLs are the ingest instances' base URLs.
func (s *stack) ingestURLs() []string {
	var out []string
	for _, inst := range s.Instances(localstack.Ingest) {
		out = append(out, s.ServiceURL(inst))
	}
	return out
}

// loadConfig is a steady stream into the stack's ingest instances.
func (s *stack) loadConfig(prefix string, max int) loadConfig {
	return loadConfig{ingest: s.ingestURLs(), token: s.APIToken(), prefix: prefix, max: max,
		reviseEvery: 5, shared: sharedFunc(s.js)}
}

// sharedFunc tells whether an article's latest revision so far is shared.
func sharedFunc(js jetstream.JetStream) func(context.Context, string) bool {
	return func(ctx context.Context, id string) bool {
		st, err := js.Stream(ctx, bus.StreamName)
		if err != nil {
			return false
		}
		_, err = st.GetLastMsgForSubject(ctx, bus.Subject(bus.EventShared, id))
		return err == nil
	}
}

// faultLine is a line pkg/bus writes when it injects a fault.
type faultLine struct {
	Msg     string `json:"msg"`
	Point   string `json:"point"`
	Action  string `json:"action"`
	Hit     int    `json:"hit"`
	Subject string `json:"subject"`
}

// faultLines reads a process's log for injected faults.
func faultLines(t *testing.T, p *localstack.Process) []faultLine {
	t.Helper()
	f, err := os.Open(p.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []faultLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l faultLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "fault injected" {
			out = append(out, l)
		}
	}
	return out
}

// countLogLines counts the lines of a process's log holding s.
func countLogLines(t *testing.T, p *localstack.Process, s string) int {
	t.Helper()
	b, err := os.ReadFile(p.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

// killedBySIGKILL reports whether the process's last run ended by SIGKILL.
func killedBySIGKILL(p *localstack.Process) bool {
	var ee *exec.ExitError
	if !errors.As(p.ExitErr(), &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
