package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/newsroom/newsroom/deploy/internal/envscan"
	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/pkg/testtool"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testtool.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadServices(t *testing.T, root string) map[string]envscan.Service {
	t.Helper()
	out := map[string]envscan.Service{}
	for _, name := range localstack.ServiceNames() {
		s, err := envscan.LoadService(root, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

func loadCompose(t *testing.T, root string, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		// Interpolate with an empty environment: the file's own defaults
		// must make a working stack.
		cli.WithEnv([]string{}),
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

// TestComposeMatchesTheCode loads docker-compose.yml with the reference
// compose loader (schema validation included) and holds it to the code:
// every service is there, sets exactly the environment its source reads,
// listens on its main's port, publishes the API and the site, checks
// health on pkg/daemon's readiness route, and is scraped by Prometheus.
func TestComposeMatchesTheCode(t *testing.T) {
	root := repoRoot(t)
	services := loadServices(t, root)
	p := loadCompose(t, root)

	// Prometheus only runs with its profile.
	if _, ok := p.DisabledServices["prometheus"]; !ok {
		t.Error("prometheus should be disabled without the prometheus profile")
	}
	withProm := loadCompose(t, root, "prometheus")
	var names []string
	for name := range withProm.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	want := append([]string{"jaeger", "nats", "prometheus"}, localstack.ServiceNames()...)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("compose services %v, want %v", names, want)
	}

	nats := p.Services["nats"]
	natsPort := checkNATS(t, nats)
	jaeger := p.Services["jaeger"]
	otlpPort := checkJaeger(t, jaeger)

	published := map[string]bool{localstack.Ingest: true, localstack.Rendering: true}
	for _, name := range localstack.ServiceNames() {
		t.Run(name, func(t *testing.T) {
			svc, code := p.Services[name], services[name]
			env := map[string]string{}
			var keys []string
			for k, v := range svc.Environment {
				if v == nil {
					t.Errorf("%s has no value", k)
					continue
				}
				env[k] = *v
				keys = append(keys, k)
			}
			for _, err := range code.Check(keys) {
				t.Error(err)
			}
			if env["OTEL_SERVICE_NAME"] != name {
				t.Errorf("OTEL_SERVICE_NAME=%q, want %q", env["OTEL_SERVICE_NAME"], name)
			}
			if u, err := url.Parse(env["NATS_URL"]); err != nil || u.Scheme != "nats" || u.Hostname() != "nats" || u.Port() != natsPort {
				t.Errorf("NATS_URL=%q, want nats://nats:%s", env["NATS_URL"], natsPort)
			}
			if u, err := url.Parse(env["OTEL_EXPORTER_OTLP_ENDPOINT"]); err != nil || u.Hostname() != "jaeger" || u.Port() != otlpPort {
				t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT=%q, want http://jaeger:%s (OTLP over HTTP, the default protocol)", env["OTEL_EXPORTER_OTLP_ENDPOINT"], otlpPort)
			}
			host, port, err := net.SplitHostPort(env["HTTP_ADDR"])
			if err != nil || port != code.Port || (host != "0.0.0.0" && host != "") {
				t.Errorf("HTTP_ADDR=%q, want 0.0.0.0:%s (reachable from other containers, the port of %s's DefaultAddr)", env["HTTP_ADDR"], code.Port, name)
			}

			if svc.Build == nil || svc.Build.Context != root || svc.Build.Dockerfile != "deploy/docker/"+name+".Dockerfile" {
				t.Errorf("build %+v, want context the repository root and deploy/docker/%s.Dockerfile", svc.Build, name)
			}
			probe := []string{"CMD", "/usr/local/bin/probe", "http://127.0.0.1:" + code.Port + daemon.ReadyPath}
			if svc.HealthCheck == nil || !slices.Equal(svc.HealthCheck.Test, probe) {
				var got []string
				if svc.HealthCheck != nil {
					got = svc.HealthCheck.Test
				}
				t.Errorf("healthcheck %q, want %q", got, probe)
			}
			if d, ok := svc.DependsOn["nats"]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("depends_on nats %+v, want condition service_healthy", d)
			}
			if _, ok := svc.DependsOn["jaeger"]; !ok {
				t.Error("does not depend on jaeger")
			}
			var ports []string
			for _, sp := range svc.Ports {
				if strconv.Itoa(int(sp.Target)) != code.Port {
					t.Errorf("publishes container port %d; the service listens on %s", sp.Target, code.Port)
				}
				ports = append(ports, sp.Published)
			}
			if published[name] && !slices.Contains(ports, code.Port) {
				t.Errorf("ports %v: want %s published on the host as %s", ports, name, code.Port)
			}
			checkDockerfile(t, root, name, code)
		})
	}
	checkPrometheus(t, root, withProm.Services["prometheus"], services)
}

func checkNATS(t *testing.T, nats types.ServiceConfig) (clientPort string) {
	t.Helper()
	cmd := strings.Join(nats.Command, " ")
	if !strings.Contains(cmd, "--jetstream") {
		t.Errorf("nats command %q does not enable JetStream", cmd)
	}
	store := argAfter(nats.Command, "--store_dir")
	var persisted bool
	for _, v := range nats.Volumes {
		persisted = persisted || (v.Type == types.VolumeTypeVolume && v.Target == store && store != "")
	}
	if !persisted {
		t.Errorf("nats: the JetStream store %q is not on a named volume", store)
	}
	mon := argAfter(nats.Command, "--http_port")
	if nats.HealthCheck == nil || !strings.Contains(strings.Join(nats.HealthCheck.Test, " "), ":"+mon+"/healthz") {
		t.Errorf("nats: healthcheck %v does not ask the monitoring port %q's /healthz", nats.HealthCheck, mon)
	}
	clientPort = "4222"
	if p := argAfter(nats.Command, "--port"); p != "" {
		clientPort = p
	}
	var ports []uint32
	for _, sp := range nats.Ports {
		ports = append(ports, sp.Target)
	}
	if m, _ := strconv.Atoi(mon); !slices.Contains(ports, uint32(m)) {
		t.Errorf("nats: monitoring port %s not published (ports %v)", mon, ports)
	}
	return clientPort
}

func checkJaeger(t *testing.T, j types.ServiceConfig) (otlpHTTP string) {
	t.Helper()
	if !strings.HasPrefix(j.Image, "jaegertracing/jaeger:2.") {
		t.Errorf("jaeger image %q, want Jaeger v2 (jaegertracing/jaeger:2.x)", j.Image)
	}
	var ports []uint32
	for _, sp := range j.Ports {
		ports = append(ports, sp.Target)
	}
	for _, want := range []uint32{4317, 4318, 16686} {
		if !slices.Contains(ports, want) {
			t.Errorf("jaeger: port %d not published", want)
		}
	}
	if j.HealthCheck == nil {
		t.Error("jaeger: no healthcheck")
	}
	return "4318"
}

// checkDockerfile holds deploy/docker/<name>.Dockerfile to the code: a
// GOWORK=off static build copying only pkg/, proto/ and the service, a
// non-root user, and the service's port and readiness route.
func checkDockerfile(t *testing.T, root, name string, code envscan.Service) {
	t.Helper()
	path := filepath.Join(root, "deploy", "docker", name+".Dockerfile")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		lines  []string
		cont   string
		stages int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		lines = append(lines, cont+line)
		cont = ""
	}
	var user, expose, healthcheck, entrypoint string
	env := map[string]bool{}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			stages++
		case "COPY":
			if strings.Contains(rest, "--from=") {
				continue
			}
			fields := strings.Fields(rest)
			for _, src := range fields[:len(fields)-1] {
				if !strings.HasPrefix(src, "pkg/") && !strings.HasPrefix(src, "proto/") && !strings.HasPrefix(src, "services/"+name+"/") {
					t.Errorf("%s copies %s: only pkg/, proto/ and services/%s/ belong in the build", filepath.Base(path), src, name)
				}
			}
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				env[kv] = true
			}
		case "USER":
			user = rest
		case "EXPOSE":
			expose = rest
		case "HEALTHCHECK":
			healthcheck = rest
		case "ENTRYPOINT":
			entrypoint = rest
		}
	}
	base := filepath.Base(path)
	if stages < 2 {
		t.Errorf("%s: %d stages, want a multi-stage build", base, stages)
	}
	for _, kv := range []string{"GOWORK=off", "CGO_ENABLED=0", "HTTP_ADDR=0.0.0.0:" + code.Port} {
		if !env[kv] {
			t.Errorf("%s: no ENV %s", base, kv)
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("%s: USER %q, want a non-root user", base, user)
	}
	if expose != code.Port {
		t.Errorf("%s: EXPOSE %q, want %s", base, expose, code.Port)
	}
	if !strings.Contains(healthcheck, `"http://127.0.0.1:`+code.Port+daemon.ReadyPath+`"`) {
		t.Errorf("%s: HEALTHCHECK %q does not probe %s on %s", base, healthcheck, daemon.ReadyPath, code.Port)
	}
	if entrypoint != fmt.Sprintf(`["/usr/local/bin/%s"]`, name) {
		t.Errorf("%s: ENTRYPOINT %s", base, entrypoint)
	}
}

func checkPrometheus(t *testing.T, root string, prom types.ServiceConfig, services map[string]envscan.Service) {
	t.Helper()
	var conf string
	for _, v := range prom.Volumes {
		if v.Target == "/etc/prometheus/prometheus.yml" {
			conf = v.Source
		}
	}
	if conf != filepath.Join(root, "deploy", "prometheus", "prometheus.yml") {
		t.Fatalf("prometheus mounts %q, want deploy/prometheus/prometheus.yml", conf)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			MetricsPath   string `json:"metrics_path"`
			StaticConfigs []struct {
				Targets []string          `json:"targets"`
				Labels  map[string]string `json:"labels"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		path := sc.MetricsPath
		if path == "" {
			path = "/metrics"
		}
		for _, st := range sc.StaticConfigs {
			if _, ok := st.Labels["service"]; ok {
				t.Error("prometheus.yml: a target label 'service' would clash with the metrics' own")
			}
			for _, target := range st.Targets {
				if path == daemon.MetricsPath {
					scraped[target] = true
				}
			}
		}
	}
	for name, s := range services {
		if !scraped[name+":"+s.Port] {
			t.Errorf("prometheus does not scrape %s:%s%s", name, s.Port, daemon.MetricsPath)
		}
	}
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}
