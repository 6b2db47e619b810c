package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/daemon"
	"github.com/newsroom/newsroom/pkg/metrics"
)

// slowFor is how long the slow handler takes: well past AckWait, so only
// InProgress keeps its message, and the messages queued behind it, from
// being redelivered.
const slowFor = 5 * time.Second

// TestHandlerSlowerThanAckWait: every fourth message both rendering
// instances handle stalls for 2.5 × AckWait before its event is published.
// No message may be delivered twice: across both instances, rendering
// settles each enriched event exactly once, and sees no redelivery.
func TestHandlerSlowerThanAckWait(t *testing.T) {
	start := time.Now()
	s := startStack(t, stackOptions{serviceEnv: map[string]map[string]string{
		localstack.Rendering: {bus.FaultEnv: fmt.Sprintf("%s:4:sleep=%s", bus.FaultBeforePublish, slowFor)},
	}})
	l := startLoad(t, s.loadConfig("slow", 24))
	l.waitAccepted(t, 24, 2*time.Minute)
	l.Stop()

	accepted, refused, unanswered := l.snapshot()
	rep := assertLedger(t, s.js, expectations{accepted: accepted, nets: s.nets}, 90*time.Second)

	var stalls int
	for _, inst := range s.Instances(localstack.Rendering) {
		for _, f := range faultLines(t, s.Process(inst)) {
			if f.Action == "sleep="+slowFor.String() {
				stalls++
			}
		}
	}
	if stalls < 2 {
		t.Fatalf("the slow handler ran %d times; the scenario needs it to", stalls)
	}
	var acked, redelivered float64
	for _, inst := range s.Instances(localstack.Rendering) {
		f := scrape(t, s.ServiceURL(inst))
		acked += sum(f, metrics.MessagesTotal, map[string]string{"service": localstack.Rendering, "event": bus.EventEnriched, "outcome": string(bus.OutcomeAcked)})
		redelivered += sum(f, metrics.RedeliveriesTotal, map[string]string{"service": localstack.Rendering})
	}
	if redelivered != 0 {
		t.Errorf("rendering saw %v redeliveries; InProgress should have kept every message", redelivered)
	}
	if want := float64(rep.revisions); acked != want {
		t.Errorf("rendering acked %v enriched events, want exactly %v (one per revision)", acked, want)
	}
	t.Logf("%d handlers stalled %s (AckWait %s); rendering acked %v messages, %v redeliveries; %d articles answered 202, %d refused, %d dropped; ledger: %s; %s in all",
		stalls, slowFor, ackWait, acked, redelivered, len(accepted), len(refused), unanswered, rep, time.Since(start).Round(time.Second))
}

// scrape reads a service instance's Prometheus metrics.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+daemon.MetricsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sum adds the series of a counter whose labels include want.
func sum(f map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var total float64
	fam := f[name]
	if fam == nil {
		return 0
	}
	for _, m := range fam.GetMetric() {
		ok := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == k && l.GetValue() == v)
			}
			ok = ok && found
		}
		if ok {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}
