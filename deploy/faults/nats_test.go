package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/newsroom/newsroom/deploy/localstack"
)

// TestNATSRestart kills nats-server (SIGKILL) in the middle of the load
// and starts it again on the same port and store, running the durability
// profile (deploy/nats/durable.conf). Services and the test reconnect by
// themselves; what was acknowledged before the crash is all there after.
func TestNATSRestart(t *testing.T) {
	start := time.Now()
	s := startStack(t, stackOptions{natsConfig: "durable.conf"})
	l := startLoad(t, s.loadConfig("natsrestart", 150))
	l.waitAccepted(t, 12, time.Minute)

	nats := s.Process(localstack.NATS)
	if err := nats.Kill(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	time.Sleep(time.Second) // an outage, not a blip: requests meet a dead server
	if err := nats.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := nats.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(down)
	before, _, _ := l.snapshot()
	l.waitAccepted(t, len(before)+12, 2*time.Minute)
	l.Stop()

	accepted, refused, unanswered := l.snapshot()
	rep := assertLedger(t, s.js, expectations{accepted: accepted, nets: s.nets}, 90*time.Second)
	t.Logf("nats-server down %s; %d articles answered 202 (%d before the crash), %d refused, %d dropped; ledger: %s; %s in all",
		outage.Round(100*time.Millisecond), len(accepted), len(before), len(refused), unanswered, rep, time.Since(start).Round(time.Second))
}
