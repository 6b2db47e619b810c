package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/pkg/bus"
	"github.com/newsroom/newsroom/pkg/metrics"
	"github.com/newsroom/newsroom/pkg/natsembed"
	"github.com/newsroom/newsroom/services/enrichment"
	"github.com/newsroom/newsroom/services/ingest"
	"github.com/newsroom/newsroom/services/rendering"
	"github.com/newsroom/newsroom/services/socialshare"
	"github.com/newsroom/newsroom/services/socialshare/compose"
)

// TestKillMidFlightAndRestart is acceptance 3 of the walking skeleton: the
// all-in-one is SIGKILLed while articles are in flight and restarted on
// the same data dir; every article that got a 202 finishes all four
// stages, and none is processed into two pages or two share records.
func TestKillMidFlightAndRestart(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	p := startNewsroom(t, dataDir, addr)
	token := p.token

	// Submitters keep sending until the process dies under them.
	var mu sync.Mutex
	var accepted []submitted
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"headline":"Crash test %d-%d","body":"Paragraph one.\n\nParagraph two."}`, w, i)
				code, sub, err := p.submit(ctx, "application/json", []byte(body))
				if err != nil {
					return // the process is gone
				}
				if code == http.StatusAccepted {
					mu.Lock()
					accepted = append(accepted, sub)
					mu.Unlock()
				}
			}
		})
	}
	waitUntil(t, 30*time.Second, "40 accepted submissions", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) >= 40
	})
	p.kill() // SIGKILL, mid-flight: submissions and stages are running
	cancel()
	wg.Wait()
	t.Logf("%d articles accepted before the kill", len(accepted))

	// A short AckWait: what was delivered and not acknowledged before the
	// kill comes back in seconds, not in the default 30.
	p = startNewsroom(t, dataDir, addr, "NEWSROOM_API_TOKENS=editor:"+token, "NEWSROOM_ACK_WAIT=2s")
	for _, sub := range accepted {
		waitUntil(t, 60*time.Second, "article "+sub.ID+" through all four stages", func() bool {
			st, ok := p.status(t, sub.StatusURL)
			return ok && st.complete()
		})
	}
	// An article can be through every stage while a message a stage had
	// handled, but not acknowledged, before the kill waits for its
	// redelivery: the redelivery must find the effects done and only ack.
	waitUntil(t, 60*time.Second, "every consumer drained", func() bool { return p.drained(t) })
	p.stop()

	// Open the data dir as the all-in-one does and count what was stored.
	ns, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dataDir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	nc, js, err := bus.Connect("", "inspector", natsembed.ConnectOption(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	assertExactlyOnce(t, js, accepted)
}

func assertExactlyOnce(t *testing.T, js jetstream.JetStream, accepted []submitted) {
	t.Helper()
	ctx := context.Background()
	stream, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.AllArticleSubjects))
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range accepted {
		for _, ev := range []string{bus.EventSubmitted, bus.EventEnriched, bus.EventRendered, bus.EventShared} {
			if n := info.State.Subjects[bus.Subject(ev, sub.ID)]; n != 1 {
				t.Errorf("%s: %d %s events, want exactly 1", sub.ID, n, ev)
			}
		}
	}

	site, err := js.ObjectStore(ctx, rendering.SiteBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range accepted {
		if _, err := site.GetInfo(ctx, "articles/"+sub.ID); err != nil {
			t.Errorf("%s: no page: %v", sub.ID, err)
		}
	}

	ledger, err := js.KeyValue(ctx, socialshare.LedgerBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range accepted {
		for _, network := range compose.Networks {
			hist, err := ledger.History(ctx, sub.ID+"."+network)
			if err != nil {
				t.Errorf("%s on %s: no share record: %v", sub.ID, network, err)
				continue
			}
			if len(hist) != 1 {
				t.Errorf("%s on %s: %d share records, want 1", sub.ID, network, len(hist))
			}
		}
	}

	for _, durable := range []string{ingest.Name, enrichment.Name, rendering.Name, socialshare.Name} {
		c, err := js.Consumer(ctx, bus.StreamName, durable)
		if err != nil {
			t.Fatal(err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPending != 0 || ci.NumAckPending != 0 {
			t.Errorf("consumer %s not drained: %d pending, %d awaiting ack", durable, ci.NumPending, ci.NumAckPending)
		}
	}
	dlq, err := js.Stream(ctx, bus.DLQStreamName)
	if err != nil {
		t.Fatal(err)
	}
	if di, err := dlq.Info(ctx); err != nil || di.State.Msgs != 0 {
		t.Errorf("dead letters after a crash: %v %v", di.State.Msgs, err)
	}
}

// drained reports whether every consumer of the running all-in-one has
// nothing pending and nothing awaiting an ack, as its /metrics says.
func (p *proc) drained(t *testing.T) bool {
	t.Helper()
	resp, err := http.Get(p.baseURL + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return false
	}
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, metrics.ConsumerPending+"{") && !strings.HasPrefix(line, metrics.ConsumerAckPending+"{") {
			continue
		}
		seen++
		if f := strings.Fields(line); len(f) != 2 || f[1] != "0" {
			return false
		}
	}
	return seen >= 8 // both figures of the four stages' consumers, at least
}
