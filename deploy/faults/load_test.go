package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// loadConfig is a steady stream of submissions.
type loadConfig struct {
	// ingest lists the base URLs of the ingest instances; requests go to
	// them in turn, and to the next one when one does not answer.
	ingest []string
	token  string
	// prefix starts every article id (one per scenario).
	prefix string
	// every is the pause between two requests.
	every time.Duration
	// max stops the stream after this many new articles.
	max int
	// reviseEvery gives every n-th article a second revision once its
	// first is shared (0: none); shared tells.
	reviseEvery int
	shared      func(ctx context.Context, id string) bool
}

// load is a running stream of submissions and what came of them.
type load struct {
	cfg    loadConfig
	client *http.Client
	stop   chan struct{}
	done   chan struct{}

	mu sync.Mutex
	// accepted are the revisions ingest answered 2xx for.
	accepted map[string][]int64
	// refused are new articles answered with another status (-1: no
	// answer from any instance).
	refused map[string]int
	// unanswered counts requests an instance dropped (its process died).
	unanswered int
	submitted  int
	candidates []string
}

func startLoad(t *testing.T, cfg loadConfig) *load {
	t.Helper()
	if cfg.every == 0 {
		cfg.every = 200 * time.Millisecond
	}
	l := &load{cfg: cfg, client: &http.Client{Timeout: 20 * time.Second}, stop: make(chan struct{}), done: make(chan struct{}),
		accepted: map[string][]int64{}, refused: map[string]int{}}
	go l.run()
	t.Cleanup(l.Stop)
	return l
}

// Stop ends the stream and waits for the request in flight.
func (l *load) Stop() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

func (l *load) run() {
	defer close(l.done)
	t := time.NewTicker(l.cfg.every)
	defer t.Stop()
	next := 0
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if id, ok := l.revisable(); ok {
			l.revise(id)
			continue
		}
		if l.cfg.max > 0 && l.count() >= l.cfg.max {
			continue
		}
		next++
		l.create(next)
	}
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.submitted
}

// revisable returns the oldest article waiting for its second revision
// whose first is shared.
func (l *load) revisable() (string, bool) {
	l.mu.Lock()
	if len(l.candidates) == 0 || l.cfg.shared == nil {
		l.mu.Unlock()
		return "", false
	}
	id := l.candidates[0]
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if !l.cfg.shared(ctx, id) {
		return "", false
	}
	l.mu.Lock()
	l.candidates = l.candidates[1:]
	l.mu.Unlock()
	return id, true
}

var bylines = []string{"Ada Reporter", "Grace Correspondent", "Linus Stringer"}

func (l *load) create(n int) {
	id := fmt.Sprintf("%s-%03d", l.cfg.prefix, n)
	body, _ := json.Marshal(map[string]any{
		"id":       id,
		"headline": fmt.Sprintf("Fault suite %s: story %d holds", l.cfg.prefix, n),
		"dek":      "An article submitted while the pipeline is being broken on purpose.",
		"body": fmt.Sprintf("Story %d of the %s scenario begins here, in a first paragraph long enough to read.\n\n"+
			"A second paragraph follows, so that enrichment has a body to clean and rendering a page to write.", n, l.cfg.prefix),
		"bylines": []string{bylines[n%len(bylines)]},
		"tags":    []string{"faults", l.cfg.prefix},
	})
	status := l.send(http.MethodPost, "/v1/articles", body, "")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.submitted++
	switch {
	case status == http.StatusAccepted:
		l.accepted[id] = append(l.accepted[id], 1)
		if l.cfg.reviseEvery > 0 && n%l.cfg.reviseEvery == 0 {
			l.candidates = append(l.candidates, id)
		}
	default:
		l.refused[id] = status
	}
}

func (l *load) revise(id string) {
	body, _ := json.Marshal(map[string]any{
		"headline": fmt.Sprintf("Fault suite %s: %s, revised", l.cfg.prefix, id),
		"body":     "The second revision replaces the body.\n\nIts page must show revision 2, once.",
	})
	if l.send(http.MethodPut, "/v1/articles/"+id, body, `"1"`) == http.StatusAccepted {
		l.mu.Lock()
		l.accepted[id] = append(l.accepted[id], 2)
		l.mu.Unlock()
	}
}

// send tries each ingest instance in turn until one answers; it returns
// the status, or -1 when none did. A request an instance dropped is not
// sent again to another: it may have been stored, and the ledger looks at
// the log, not at the answers, for what was stored.
func (l *load) send(method, path string, body []byte, ifMatch string) int {
	for i := range l.cfg.ingest {
		base := l.cfg.ingest[(l.submittedNow()+i)%len(l.cfg.ingest)]
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			return -1
		}
		req.Header.Set("Authorization", "Bearer "+l.cfg.token)
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := l.client.Do(req)
		if err != nil {
			if refusedConn(err) {
				continue // nothing was sent: try the other instance
			}
			l.mu.Lock()
			l.unanswered++
			l.mu.Unlock()
			return -1
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	return -1
}

func (l *load) submittedNow() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.submitted
}

// refusedConn: the connection was never made, so the request was not sent.
func refusedConn(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// snapshot copies the outcome so far.
func (l *load) snapshot() (accepted map[string][]int64, refused map[string]int, unanswered int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	accepted = map[string][]int64{}
	for k, v := range l.accepted {
		accepted[k] = append([]int64(nil), v...)
	}
	refused = map[string]int{}
	for k, v := range l.refused {
		refused[k] = v
	}
	return accepted, refused, l.unanswered
}

// waitAccepted waits until n articles were accepted.
func (l *load) waitAccepted(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a, _, _ := l.snapshot()
		if len(a) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d articles accepted in %s, want %d", len(a), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
