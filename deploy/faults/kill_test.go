package faults_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
)

// killPoints are where each service is SIGKILLed, in this order: with its
// work done and its event not yet published; with the event stored and
// the message not yet acked; with the message acked.
var killPoints = []string{bus.FaultBeforePublish, bus.FaultAfterPublish, bus.FaultAfterAck}

// killEvery: the process dies at the third time it reaches the point, so
// every life handles some messages first.
const killEvery = "3"

// TestSIGKILLAtEachPoint kills the first instance of every service with
// SIGKILL at each point of a message's life, in turn, and starts it again
// on the same port and data, while articles keep coming and the second
// instance keeps working. For ingest, "publish" is storing a submission
// (the editor's request dies with the process) and "ack" its status view's
// consumer. Nothing answered 2xx may be lost, nothing may happen twice.
func TestSIGKILLAtEachPoint(t *testing.T) {
	arm := map[string]string{}
	for _, svc := range localstack.ServiceNames() {
		arm[svc] = killPoints[0] + ":" + killEvery
	}
	start := time.Now()
	s := startStack(t, stackOptions{arm: arm})
	l := startLoad(t, s.loadConfig("kill", 150))

	var kills atomic.Int32
	var wg sync.WaitGroup
	for _, svc := range localstack.ServiceNames() {
		wg.Go(func() {
			p := s.Process(svc)
			for i, point := range killPoints {
				select {
				case <-p.Exited():
				case <-time.After(90 * time.Second):
					t.Errorf("%s was not killed at %s within 90s (is the load reaching it?)", svc, point)
					return
				}
				if !killedBySIGKILL(p) {
					t.Errorf("%s ended with %v, not by SIGKILL at %s", svc, p.ExitErr(), point)
					return
				}
				lines := faultLines(t, p)
				if len(lines) != i+1 || lines[i].Point != point || lines[i].Action != "kill" {
					t.Errorf("%s: fault lines %+v, want kill #%d at %s", svc, lines, i+1, point)
					return
				}
				kills.Add(1)
				next := ""
				if i+1 < len(killPoints) {
					next = killPoints[i+1] + ":" + killEvery
				}
				p.SetEnv(bus.FaultEnv, next)
				if err := p.Start(); err != nil {
					t.Error(err)
					return
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.WaitReady(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	l.waitAccepted(t, 30, time.Minute) // tens of articles, whatever the kills' pace
	l.Stop()
	if t.Failed() {
		t.FailNow()
	}
	accepted, refused, unanswered := l.snapshot()
	rep := assertLedger(t, s.js, expectations{accepted: accepted, nets: s.nets}, 90*time.Second)
	t.Logf("%d SIGKILLs (%d services × %v); %d articles answered 202, %d refused, %d requests dropped by a dying ingest; ledger: %s; %s in all",
		kills.Load(), len(localstack.ServiceNames()), killPoints, len(accepted), len(refused), unanswered, rep, time.Since(start).Round(time.Second))
}
