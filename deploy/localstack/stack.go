// Package localstack runs newsroom's developer stack as separate processes
// on loopback, without Docker: nats-server with JetStream, Jaeger v2, and
// the four service binaries, each with its own log file. The local-stack
// command and the end-to-end and fault-injection tests share it: every
// process can be stopped, killed (SIGKILL) and started again on the same
// ports and data.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The stack's components besides the services.
const (
	NATS   = "nats"
	Jaeger = "jaeger"
)

// Service names, in pipeline order; each is built from
// services/<name>/cmd/<name>.
const (
	Ingest      = "ingest"
	Enrichment  = "enrichment"
	Rendering   = "rendering"
	Socialshare = "socialshare"
)

// ServiceNames lists the four services in pipeline order.
func ServiceNames() []string { return []string{Ingest, Enrichment, Rendering, Socialshare} }

// Binaries are the programs the stack runs.
type Binaries struct {
	NATSServer string
	// Jaeger may be empty: the stack then runs without tracing export.
	Jaeger   string
	Services map[string]string
}

// natsServerPkg is nats-server's main package, a tool of the deploy module.
const natsServerPkg = "github.com/nats-io/nats-server/v2"

// Build compiles nats-server and the four service binaries into dir, in
// one go build run from the repository root (the workspace). Jaeger is not
// built here: it is slow to build and kept in .bin (see FindJaeger).
func Build(ctx context.Context, root, dir string) (Binaries, error) {
	return BuildWith(ctx, root, dir, BuildOptions{})
}

// BuildOptions change how Build compiles the binaries.
type BuildOptions struct {
	// Tags are build tags, e.g. "faultinject" for the fault suite's
	// binaries (pkg/bus fault points, driven by NEWSROOM_FAULT).
	Tags []string
}

// BuildWith is Build with options.
func BuildWith(ctx context.Context, root, dir string, o BuildOptions) (Binaries, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, err
	}
	args := []string{"build"}
	if len(o.Tags) > 0 {
		args = append(args, "-tags", strings.Join(o.Tags, ","))
	}
	args = append(args, "-o", abs+string(filepath.Separator))
	b := Binaries{NATSServer: filepath.Join(abs, "nats-server"), Services: map[string]string{}}
	for _, name := range ServiceNames() {
		args = append(args, "./services/"+name+"/cmd/"+name)
		b.Services[name] = filepath.Join(abs, name)
	}
	args = append(args, natsServerPkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	// One build across the workspace's modules: it needs go.work even when
	// the caller runs with GOWORK=off (as ./test does, module by module).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK="+filepath.Join(root, "go.work"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return b, nil
}

// FindJaeger returns Jaeger v2's binary: $NEWSROOM_JAEGER_BIN, else
// <root>/.bin/jaeger, else jaeger on PATH.
func FindJaeger(root string) (string, error) {
	if p := os.Getenv("NEWSROOM_JAEGER_BIN"); p != "" {
		return p, nil
	}
	p := filepath.Join(root, ".bin", "jaeger")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return exec.LookPath("jaeger")
}

// BuildJaeger builds Jaeger v2 from the tools/jaeger module into
// <root>/.bin/jaeger, as CI does.
func BuildJaeger(ctx context.Context, root string) (string, error) {
	out := filepath.Join(root, ".bin", "jaeger")
	cmd := exec.CommandContext(ctx, "go", "-C", "tools/jaeger", "build", "-o", out, "github.com/jaegertracing/jaeger/cmd/jaeger")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build jaeger: %w\n%s", err, b)
	}
	return out, nil
}

// RepoRoot is the directory holding go.work, from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.work not found above the working directory")
		}
		dir = parent
	}
}

// Ports of the stack, all on 127.0.0.1. A zero port is picked free.
type Ports struct {
	NATS        int
	NATSMonitor int
	OTLPGRPC    int
	OTLPHTTP    int
	JaegerQuery int
	JaegerGRPC  int
	// Services maps a service instance (see Stack.Instances) to its HTTP
	// port.
	Services map[string]int
}

// DefaultPorts are the well-known ports: NATS 4222 and 8222, Jaeger
// 4317, 4318, 16686 and 16685, and each service's default (8081–8084).
func DefaultPorts() Ports {
	return Ports{NATS: 4222, NATSMonitor: 8222, OTLPGRPC: 4317, OTLPHTTP: 4318, JaegerQuery: 16686, JaegerGRPC: 16685,
		Services: map[string]int{Ingest: 8081, Enrichment: 8082, Rendering: 8083, Socialshare: 8084}}
}

// Config of a stack.
type Config struct {
	Bin Binaries
	// Dir holds the stack's state: nats/ (JetStream), logs/, jaeger.yaml.
	// Reusing it keeps every article across runs.
	Dir   string
	Ports Ports
	// APITokens is NEWSROOM_API_TOKENS for ingest and socialshare
	// (default "editor:localstack-token").
	APITokens string
	// Env is added to every service's environment (after the stack's own,
	// so it can override), e.g. OTEL_BSP_SCHEDULE_DELAY=100.
	Env map[string]string
	// ServiceEnv is added to one service's environment, after Env.
	ServiceEnv map[string]map[string]string
	// Instances runs more than one process of a service (default 1): they
	// share the service's durable consumer, as replicas do in production.
	// The first is named after the service, the others <service>-2, -3, …
	Instances map[string]int
	// NATSConfigFile, if set, is a nats-server configuration file loaded
	// before the stack's own flags (ports, store), e.g.
	// deploy/nats/newsroom.conf or deploy/nats/durable.conf.
	NATSConfigFile string
}

// DefaultAPIToken is the bearer token of the default APITokens.
const DefaultAPIToken = "localstack-token"

// Stack is a running local stack.
type Stack struct {
	cfg   Config
	procs map[string]*Process
	order []string
}

// New prepares the stack's processes without starting them.
func New(cfg Config) (*Stack, error) {
	if cfg.Dir == "" {
		return nil, errors.New("localstack: Config.Dir is required")
	}
	if cfg.APITokens == "" {
		cfg.APITokens = "editor:" + DefaultAPIToken
	}
	var err error
	if cfg.Dir, err = filepath.Abs(cfg.Dir); err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "logs"), filepath.Join(cfg.Dir, "nats")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	s := &Stack{cfg: cfg, procs: map[string]*Process{}}
	if s.cfg.Ports, err = fillPorts(cfg.Ports, cfg.Bin.Jaeger != "", s.allInstances()); err != nil {
		return nil, err
	}
	cfg = s.cfg
	p := cfg.Ports
	var natsArgs []string
	if cfg.NATSConfigFile != "" {
		conf, err := filepath.Abs(cfg.NATSConfigFile)
		if err != nil {
			return nil, err
		}
		natsArgs = append(natsArgs, "--config", conf)
	}
	natsArgs = append(natsArgs, "--addr", "127.0.0.1", "--port", strconv.Itoa(p.NATS),
		"--http_port", strconv.Itoa(p.NATSMonitor), "--jetstream", "--store_dir", filepath.Join(cfg.Dir, "nats"),
		"--server_name", "localstack")
	s.add(&Process{Name: NATS, path: cfg.Bin.NATSServer,
		args:  natsArgs,
		env:   baseEnv(),
		ready: httpReady(fmt.Sprintf("http://127.0.0.1:%d/healthz?js-enabled-only=true", p.NATSMonitor)),
	})
	if cfg.Bin.Jaeger != "" {
		conf := filepath.Join(cfg.Dir, "jaeger.yaml")
		if err := os.WriteFile(conf, []byte(JaegerConfig("127.0.0.1", p)), 0o644); err != nil {
			return nil, err
		}
		s.add(&Process{Name: Jaeger, path: cfg.Bin.Jaeger, args: []string{"--config", conf}, env: baseEnv(),
			ready: httpReady(s.JaegerURL() + "/api/services")})
	}
	for _, name := range ServiceNames() {
		path, ok := cfg.Bin.Services[name]
		if !ok {
			return nil, fmt.Errorf("localstack: no binary for %s", name)
		}
		for _, inst := range s.Instances(name) {
			s.add(&Process{Name: inst, path: path, env: s.serviceEnv(name, inst),
				ready: httpReady(s.ServiceURL(inst) + "/readyz")})
		}
	}
	return s, nil
}

// Instances lists the process names of a service: the service's name,
// then <service>-2, … when Config.Instances asks for more.
func (s *Stack) Instances(service string) []string {
	out := []string{service}
	for i := 2; i <= s.cfg.Instances[service]; i++ {
		out = append(out, fmt.Sprintf("%s-%d", service, i))
	}
	return out
}

func (s *Stack) allInstances() []string {
	var out []string
	for _, name := range ServiceNames() {
		out = append(out, s.Instances(name)...)
	}
	return out
}

func (s *Stack) add(p *Process) {
	p.logPath = filepath.Join(s.cfg.Dir, "logs", p.Name+".log")
	s.procs[p.Name] = p
	s.order = append(s.order, p.Name)
}

// Start builds the stack's processes, starts them in order (NATS, Jaeger,
// then the services together) and waits until every one is ready. On
// failure it stops what it started.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.StartAll(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// StartAll starts every process that is not running and waits for all of
// them to be ready.
func (s *Stack) StartAll(ctx context.Context) error {
	infra := []string{NATS}
	if _, ok := s.procs[Jaeger]; ok {
		infra = append(infra, Jaeger)
	}
	for _, name := range infra {
		p := s.procs[name]
		if err := p.Start(); err != nil {
			return err
		}
		if err := p.WaitReady(ctx); err != nil {
			return err
		}
	}
	for _, name := range s.allInstances() {
		if err := s.procs[name].Start(); err != nil {
			return err
		}
	}
	for _, name := range s.allInstances() {
		if err := s.procs[name].WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every process, services first (they drain into NATS and
// flush spans to Jaeger), and returns the first error.
func (s *Stack) Stop() error {
	var first error
	for i := len(s.order) - 1; i >= 0; i-- {
		if err := s.procs[s.order[i]].Stop(15 * time.Second); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Process returns a component by name (NATS, Jaeger or a service name), or
// nil.
func (s *Stack) Process(name string) *Process { return s.procs[name] }

// Names lists the stack's processes in start order.
func (s *Stack) Names() []string { return append([]string(nil), s.order...) }

// Dir is the stack's state directory.
func (s *Stack) Dir() string { return s.cfg.Dir }

// Ports are the ports in use.
func (s *Stack) Ports() Ports { return s.cfg.Ports }

// NATSURL is the client URL of the stack's NATS server.
func (s *Stack) NATSURL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.cfg.Ports.NATS) }

// JaegerURL is Jaeger's query API and UI base URL ("" without Jaeger).
func (s *Stack) JaegerURL() string {
	if s.cfg.Bin.Jaeger == "" {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.cfg.Ports.JaegerQuery)
}

// ServiceURL is a service instance's HTTP base URL (its API, /healthz,
// /readyz, /metrics); the service's name is its first instance.
func (s *Stack) ServiceURL(name string) string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.cfg.Ports.Services[name])
}

// APIToken is a bearer token ingest and socialshare accept.
func (s *Stack) APIToken() string {
	first, _, _ := strings.Cut(s.cfg.APITokens, ",")
	if _, tok, ok := strings.Cut(first, ":"); ok {
		return tok
	}
	return first
}

// siteName is the publication's name in the local stack.
const siteName = "Newsroom (local stack)"

// serviceEnv is what a service binary reads (see its main.go and
// pkg/daemon), pointed at the stack's other processes.
func (s *Stack) serviceEnv(name, instance string) []string {
	env := map[string]string{
		"NATS_URL":          s.NATSURL(),
		"HTTP_ADDR":         fmt.Sprintf("127.0.0.1:%d", s.cfg.Ports.Services[instance]),
		"OTEL_SERVICE_NAME": name,
	}
	if instance != name {
		env["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=" + instance
	}
	if s.cfg.Bin.Jaeger != "" {
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = fmt.Sprintf("http://127.0.0.1:%d", s.cfg.Ports.OTLPHTTP)
	}
	switch name {
	case Ingest:
		env["NEWSROOM_API_TOKENS"] = s.cfg.APITokens
		env["NEWSROOM_PUBLIC_URL"] = s.ServiceURL(Rendering)
		env["NEWSROOM_API_URL"] = s.ServiceURL(Ingest)
	case Enrichment:
		env["NEWSROOM_PUBLIC_URL"] = s.ServiceURL(Rendering)
	case Rendering:
		env["NEWSROOM_PUBLIC_URL"] = s.ServiceURL(Rendering)
		env["NEWSROOM_SITE_NAME"] = siteName
	case Socialshare:
		env["NEWSROOM_API_TOKENS"] = s.cfg.APITokens
		env["NEWSROOM_SITE_NAME"] = siteName
	}
	for k, v := range s.cfg.Env {
		env[k] = v
	}
	for k, v := range s.cfg.ServiceEnv[name] {
		env[k] = v
	}
	out := baseEnv()
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// baseEnv passes on only what any program needs: a developer's own OTEL_*
// or NATS_URL must not leak into the stack.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func httpReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// fillPorts picks free loopback ports for the zero ones. Every listener
// stays open until all are picked, so no two slots get the same port.
func fillPorts(p Ports, jaeger bool, instances []string) (Ports, error) {
	services := map[string]int{}
	for k, v := range p.Services {
		services[k] = v
	}
	p.Services = services
	slots := []*int{&p.NATS, &p.NATSMonitor}
	if jaeger {
		slots = append(slots, &p.OTLPGRPC, &p.OTLPHTTP, &p.JaegerQuery, &p.JaegerGRPC)
	}
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	pick := func() (int, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		held = append(held, ln)
		return ln.Addr().(*net.TCPAddr).Port, nil
	}
	for _, slot := range slots {
		if *slot == 0 {
			port, err := pick()
			if err != nil {
				return p, err
			}
			*slot = port
		}
	}
	for _, name := range instances {
		if p.Services[name] == 0 {
			port, err := pick()
			if err != nil {
				return p, err
			}
			p.Services[name] = port
		}
	}
	return p, nil
}
