package faults_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/pkg/telemetry"
	"github.com/newsroom/newsroom/services/enrichment"
	"github.com/newsroom/newsroom/services/ingest"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/rendering/page"
	"github.com/newsroom/newsroom/services/socialshare"
)

const clusterToken = "cluster-fault-token"

// TestClusterLosesStreamLeader runs a three-server JetStream cluster in
// the test process (routes on loopback) with every stream and bucket at
// three replicas, and two in-process instances of every service connected
// to all three servers. Under load, the server leading the NEWS stream is
// shut down; the survivors elect a new leader, clients move to them, and
// the ledger holds.
func TestClusterLosesStreamLeader(t *testing.T) {
	start := time.Now()
	servers := startCluster(t, 3)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	clientURL := strings.Join(urls, ",")
	nets := newNetworks(t)
	ingestURLs := startServicesInProcess(t, clientURL, nets)

	nc, err := nats.Connect(clientURL, nats.Name("fault-suite"), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stream, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("NEWS: %d replicas, cluster %+v; want a leader and two followers", info.Config.Replicas, info.Cluster)
	}

	l := startLoad(t, loadConfig{ingest: ingestURLs, token: clusterToken, prefix: "cluster", max: 150,
		reviseEvery: 5, shared: sharedFunc(js)})
	l.waitAccepted(t, 10, time.Minute)

	info, err = stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := info.Cluster.Leader
	var killed *server.Server
	for _, s := range servers {
		if s.Name() == leader {
			killed = s
		}
	}
	if killed == nil {
		t.Fatalf("NEWS leader %q is none of the servers", leader)
	}
	down := time.Now()
	killed.Shutdown()
	killed.WaitForShutdown()
	before, _, _ := l.snapshot()
	l.waitAccepted(t, len(before)+12, 2*time.Minute)
	l.Stop()

	var newLeader string
	for newLeader == "" || newLeader == leader {
		if info, err := stream.Info(ctx); err == nil && info.Cluster != nil {
			newLeader = info.Cluster.Leader
		}
		if ctx.Err() != nil {
			t.Fatalf("no new NEWS leader after %s went down", leader)
		}
		time.Sleep(50 * time.Millisecond)
	}
	accepted, refused, unanswered := l.snapshot()
	rep := assertLedger(t, js, expectations{accepted: accepted, nets: nets}, 2*time.Minute)
	t.Logf("NEWS leader %s shut down after %d articles, %s leads now; %d articles answered 202, %d refused, %d dropped; ledger: %s; %s in all (%s after the leader went)",
		leader, len(before), newLeader, len(accepted), len(refused), unanswered, rep,
		time.Since(start).Round(time.Second), time.Since(down).Round(time.Second))
}

// startCluster starts n JetStream servers in one cluster on loopback.
func startCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	ports := make([]int, n)
	var routes []*url.URL
	for i := range ports {
		ports[i] = freePort(t)
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(),
			MaxPayload: natsembed.DefaultMaxPayload,
			NoSigs:     true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "newsroom-faults", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		servers[i] = s
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	}
	for _, s := range servers {
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("%s not ready", s.Name())
		}
	}
	// JetStream answers once the cluster has elected its meta leader.
	nc, err := nats.Connect(servers[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return servers
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServicesInProcess runs two instances of every service in the test
// process, each with its own connection to the cluster, streams and
// buckets at three replicas, and returns ingest's base URLs.
func startServicesInProcess(t *testing.T, natsURL string, nets *networks) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var conns []*nats.Conn
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, nc := range conns {
			daemon.Drain(nc)
		}
	})
	tokens, err := apiauth.ParseTokens("editor:" + clusterToken)
	if err != nil {
		t.Fatal(err)
	}
	streams := bus.StreamOptions{Replicas: 3}
	run := bus.RunOptions{AckWait: ackWait}
	logDir := t.TempDir()
	setup := func(name string) (*nats.Conn, jetstream.JetStream, *slog.Logger) {
		nc, js, err := bus.Connect(natsURL, name)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
		f, err := os.Create(filepath.Join(logDir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			f.Close()
			if t.Failed() {
				b, _ := os.ReadFile(f.Name())
				t.Logf("--- %s log (last 2500 bytes):\n%s", name, tail(b, 2500))
			}
		})
		return nc, js, telemetry.NewLogger(f, name, "info")
	}
	consume := func(name string, nc *nats.Conn, runFn func(context.Context, *nats.Conn, bus.RunOptions) error) {
		ready := make(chan struct{})
		o := run
		o.Ready = ready
		wg.Go(func() {
			if err := runFn(ctx, nc, o); err != nil && ctx.Err() == nil {
				t.Errorf("%s: %v", name, err)
			}
		})
		select {
		case <-ready:
		case <-time.After(time.Minute):
			t.Fatalf("%s: consumer not ready", name)
		}
	}
	noTraces := noop.NewTracerProvider()
	shareEnv := nets.env()
	var ingestURLs []string
	for i := 1; i <= 2; i++ {
		name := func(svc string) string { return fmt.Sprintf("%s-%d", svc, i) }

		nc, js, log := setup(name(ingest.Name))
		in, err := ingest.New(ctx, ingest.Deps{JS: js, Tracer: noTraces, Logger: log},
			ingest.Config{PublicURL: "http://newsroom.test", Tokens: tokens, Streams: streams})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(in.Handler())
		t.Cleanup(srv.Close)
		ingestURLs = append(ingestURLs, srv.URL)
		consume(name(ingest.Name), nc, in.Run)

		nc, js, log = setup(name(enrichment.Name))
		en, err := enrichment.New(ctx, enrichment.Deps{JS: js, Tracer: noTraces, Logger: log},
			enrichment.Config{PublicURL: "http://newsroom.test", Streams: streams})
		if err != nil {
			t.Fatal(err)
		}
		consume(name(enrichment.Name), nc, en.Run)

		nc, js, log = setup(name(rendering.Name))
		re, err := rendering.New(ctx, rendering.Deps{JS: js, Tracer: noTraces, Logger: log},
			rendering.Config{Site: page.Site{Name: "Newsroom (cluster)", BaseURL: "http://newsroom.test"}, Streams: streams})
		if err != nil {
			t.Fatal(err)
		}
		consume(name(rendering.Name), nc, re.Run)

		nc, js, log = setup(name(socialshare.Name))
		cfg, err := socialshare.ConfigFromEnv(func(k string) string { return shareEnv[k] })
		if err != nil {
			t.Fatal(err)
		}
		cfg.Streams, cfg.Site = streams, "Newsroom (cluster)"
		so, err := socialshare.New(ctx, socialshare.Deps{JS: js, Tracer: noTraces, Logger: log}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		consume(name(socialshare.Name), nc, so.Run)
	}
	return ingestURLs
}
