package faults_test

import (
	"context"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/bus"
)

// streamMaxBytes caps the NEWS stream in TestFullStream: room for a dozen
// or so articles' events.
const streamMaxBytes = 64 << 10

// TestFullStream runs every service with NEWSROOM_STREAM_MAX_BYTES (the
// stream discards new messages when full) and submits until the log is
// full. Ingest must answer 503 for what it cannot store, never 2xx for
// something that is not in the log; stages whose events do not fit hold
// their messages instead of dead-lettering them; once the operator makes
// room, everything answered 2xx goes through exactly once.
func TestFullStream(t *testing.T) {
	start := time.Now()
	// Rendering takes a second per page, so that articles are in flight
	// when the log fills: their stages then find no room for their events.
	s := startStack(t, stackOptions{
		env: map[string]string{"NEWSROOM_STREAM_MAX_BYTES": "64K"},
		serviceEnv: map[string]map[string]string{
			localstack.Rendering: {bus.FaultEnv: bus.FaultBeforePublish + ":1:sleep=1s"},
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stream, err := s.js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if got := stream.CachedInfo().Config; got.MaxBytes != streamMaxBytes || got.Discard != jetstream.DiscardNew {
		t.Fatalf("NEWS MaxBytes %d discard %v, want %d and discard new", got.MaxBytes, got.Discard, streamMaxBytes)
	}

	cfg := s.loadConfig("full", 400)
	cfg.reviseEvery = 0
	cfg.every = 50 * time.Millisecond
	l := startLoad(t, cfg)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, refused, _ := l.snapshot()
		if len(refused) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream never filled up: %d refusals in 2 minutes", len(refused))
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.Stop()
	accepted, refused, unanswered := l.snapshot()

	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(bus.AllArticleSubjects))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Bytes > streamMaxBytes {
		t.Errorf("NEWS holds %d bytes, over its %d", info.State.Bytes, streamMaxBytes)
	}
	for id, status := range refused {
		if status != http.StatusServiceUnavailable {
			t.Errorf("%s: answered %d, want 503", id, status)
		}
		if n := info.State.Subjects[bus.Subject(bus.EventSubmitted, id)]; n != 0 {
			t.Errorf("%s: answered %d but stored in the log", id, status)
		}
		if code := getStatus(t, s, id); code != http.StatusNotFound {
			t.Errorf("%s: answered %d, and its status answers %d, want 404", id, status, code)
		}
	}
	for id := range accepted {
		if n := info.State.Subjects[bus.Subject(bus.EventSubmitted, id)]; n != 1 {
			t.Errorf("%s: answered 202, %d submitted events in the log", id, n)
		}
	}
	var holding int
	for _, name := range s.Names() {
		holding += countLogLines(t, s.Process(name), "stream full: holding the message")
	}
	if holding == 0 {
		t.Error("no stage held a message: the stream never refused a stage's event")
	}
	if dlq := readDeadLetters(ctx, t, s.js); len(dlq) != 0 {
		t.Errorf("dead letters while the stream was full: %v", dlq)
	}
	full := time.Since(start)

	// The operator makes room (nats stream edit NEWS --max-bytes -1, or a
	// larger NEWSROOM_STREAM_MAX_BYTES on every service, which each applies
	// at start).
	c := stream.CachedInfo().Config
	c.MaxBytes = -1
	if _, err := s.js.UpdateStream(ctx, c); err != nil {
		t.Fatal(err)
	}
	after := s.loadConfig("roomagain", 6)
	after.reviseEvery = 0
	l2 := startLoad(t, after)
	l2.waitAccepted(t, 6, time.Minute)
	l2.Stop()
	more, refusedAfter, _ := l2.snapshot()
	if len(refusedAfter) != 0 {
		t.Errorf("refused after room was made: %v", refusedAfter)
	}
	all := maps.Clone(accepted)
	maps.Copy(all, more)

	rep := assertLedger(t, s.js, expectations{accepted: all, nets: s.nets}, 90*time.Second)
	t.Logf("NEWS full (%d of %d bytes) after %d articles answered 202; %d answered 503, %d dropped; %d log lines of stages holding their message; then %d more accepted; ledger: %s; %s in all (%s to fill)",
		info.State.Bytes, streamMaxBytes, len(accepted), len(refused), unanswered, holding, len(more), rep,
		time.Since(start).Round(time.Second), full.Round(time.Second))
}

// getStatus asks ingest for an article's status.
func getStatus(t *testing.T, s *stack, id string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.ingestURLs()[0]+"/v1/articles/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
