package faults_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/newsroom/newsroom/deploy/localstack"
)

// TestJaegerDown: the services export their spans to Jaeger, which dies
// (SIGKILL) in the middle of the load and stays down. Tracing is an
// observer: the pipeline carries on at the same guarantees.
func TestJaegerDown(t *testing.T) {
	start := time.Now()
	s := startStack(t, stackOptions{jaeger: true})
	l := startLoad(t, s.loadConfig("nojaeger", 150))
	l.waitAccepted(t, 8, time.Minute)

	// Spans were reaching Jaeger before it died.
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Contains(jaegerServices(t, s.JaegerURL()), localstack.Socialshare) {
		if time.Now().After(deadline) {
			t.Fatalf("no socialshare spans in Jaeger (services %v)", jaegerServices(t, s.JaegerURL()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := s.Process(localstack.Jaeger).Kill(); err != nil {
		t.Fatal(err)
	}
	before, _, _ := l.snapshot()
	l.waitAccepted(t, len(before)+16, 2*time.Minute)
	l.Stop()

	accepted, refused, unanswered := l.snapshot()
	rep := assertLedger(t, s.js, expectations{accepted: accepted, nets: s.nets}, 90*time.Second)
	t.Logf("Jaeger killed after %d articles; %d articles answered 202, %d refused, %d dropped; ledger: %s; %s in all",
		len(before), len(accepted), len(refused), unanswered, rep, time.Since(start).Round(time.Second))
}

// jaegerServices lists the services Jaeger holds spans of.
func jaegerServices(t *testing.T, base string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/services", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct {
		Data []string `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.Data
}
