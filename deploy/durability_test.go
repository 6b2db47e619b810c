package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"sigs.k8s.io/yaml"

	"github.com/newsroom/newsroom/pkg/natsembed"
)

// loadNATSConfig loads a nats-server configuration file as nats-server
// does, and starts a server from it on a free port with its store in a
// temporary directory, so the JetStream configuration is the running
// server's, not only the parser's.
func loadNATSConfig(t *testing.T, path string) (*server.Options, *server.Server) {
	t.Helper()
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	run := opts.Clone()
	run.Host, run.Port, run.HTTPPort = "127.0.0.1", -1, 0
	run.JetStream, run.StoreDir = true, t.TempDir()
	run.NoSigs, run.NoLog = true, true
	s, err := server.NewServer(run)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatalf("%s: server not ready", path)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return opts, s
}

// TestDurabilityProfile: deploy/nats/durable.conf makes a server that
// fsyncs every JetStream write before acknowledging it, with the payload
// size newsroom needs; newsroom.conf, the everyday one, does not sync on
// every write but has the same payload size.
func TestDurabilityProfile(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "deploy", "nats")
	for _, tc := range []struct {
		file string
		sync bool
	}{
		{"durable.conf", true},
		{"newsroom.conf", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			opts, s := loadNATSConfig(t, filepath.Join(dir, tc.file))
			if opts.MaxPayload != natsembed.DefaultMaxPayload {
				t.Errorf("max_payload %d, want %d (the all-in-one's, what ingest accepts)", opts.MaxPayload, natsembed.DefaultMaxPayload)
			}
			if got := s.JetStreamConfig(); got == nil || got.SyncAlways != tc.sync {
				t.Errorf("running server's JetStream config %+v: sync always %v, want %v", got, got != nil && got.SyncAlways, tc.sync)
			}
			nc, err := nats.Connect(s.ClientURL())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if mp := nc.MaxPayload(); mp != natsembed.DefaultMaxPayload {
				t.Errorf("the running server tells clients max_payload %d", mp)
			}
		})
	}
}

// TestComposeLoadsTheNATSConfig: compose's NATS reads deploy/nats's
// everyday file, and the durable one when NEWSROOM_NATS_CONFIG says so.
func TestComposeLoadsTheNATSConfig(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		env  []string
		file string
	}{
		{nil, "newsroom.conf"},
		{[]string{"NEWSROOM_NATS_CONFIG=durable.conf"}, "durable.conf"},
	} {
		opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
			cli.WithWorkingDirectory(root), cli.WithEnv(tc.env), cli.WithResolvedPaths(true))
		if err != nil {
			t.Fatal(err)
		}
		p, err := opts.LoadProject(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		nats := p.Services["nats"]
		i := slices.Index(nats.Command, "--config")
		if i < 0 || i+1 >= len(nats.Command) {
			t.Fatalf("nats command %q loads no configuration file", nats.Command)
		}
		inContainer := nats.Command[i+1]
		var host string
		for _, v := range nats.Volumes {
			if v.Type == types.VolumeTypeBind && strings.HasPrefix(inContainer, v.Target+"/") {
				host = filepath.Join(v.Source, strings.TrimPrefix(inContainer, v.Target+"/"))
				if !v.ReadOnly {
					t.Errorf("%s is mounted writable", v.Source)
				}
			}
		}
		if host == "" {
			t.Fatalf("%s is not in a directory mounted from the host (volumes %+v)", inContainer, nats.Volumes)
		}
		if want := filepath.Join(root, "deploy", "nats", tc.file); host != want {
			t.Errorf("env %v: nats loads %s, want %s", tc.env, host, want)
		}
		if _, err := os.Stat(host); err != nil {
			t.Error(err)
		}
	}
}

// TestHelmValuesCarryTheProfile: the NATS chart's values give the
// cluster the same payload size, and durable-values.yaml the same sync.
// The chart writes a "<< value >>" string unquoted into nats.conf; the
// test does the same and has nats-server's parser read it.
func TestHelmValuesCarryTheProfile(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "deploy", "k8s", "nats")
	var values struct {
		Config struct {
			Merge map[string]any `json:"merge"`
		} `json:"config"`
	}
	readYAML(t, filepath.Join(dir, "values.yaml"), &values)
	var durable struct {
		Config struct {
			JetStream struct {
				Merge map[string]any `json:"merge"`
			} `json:"jetstream"`
		} `json:"config"`
	}
	readYAML(t, filepath.Join(dir, "durable-values.yaml"), &durable)

	unwrap := func(v any) string {
		s, _ := v.(string)
		if inner, ok := strings.CutPrefix(s, "<<"); ok {
			if inner, ok = strings.CutSuffix(inner, ">>"); ok {
				return strings.TrimSpace(inner)
			}
		}
		return s
	}
	conf := "max_payload: " + unwrap(values.Config.Merge["max_payload"]) + "\n" +
		"jetstream { sync_interval: " + unwrap(durable.Config.JetStream.Merge["sync_interval"]) + " }\n"
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, s := loadNATSConfig(t, path)
	if opts.MaxPayload != natsembed.DefaultMaxPayload {
		t.Errorf("values.yaml max_payload gives %d bytes, want %d", opts.MaxPayload, natsembed.DefaultMaxPayload)
	}
	if !s.JetStreamConfig().SyncAlways {
		t.Errorf("durable-values.yaml does not make JetStream sync always (%s)", conf)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
