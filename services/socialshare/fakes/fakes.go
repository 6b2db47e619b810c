// Package fakes serves the social networks' APIs on loopback for tests:
// the same paths, authentication, limits, error bodies, rate-limit headers
// and idempotency behaviour as the real services, with faults to inject
// (timeouts, 5xx, 429, an answer lost after the post was made). They keep
// every post ever made, so tests can count them.
package fakes

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fault is one injected failure, consumed by the next matching request.
type Fault struct {
	// Status to answer with (500, 503, 429…); 0 with Delay means 504
	// after the delay.
	Status int
	// RetryAfter, if set, is sent as the Retry-After header.
	RetryAfter string
	// Delay before answering: longer than the client's timeout makes a
	// timeout.
	Delay time.Duration
	// AfterCommit makes the post first and then fails: the network has it
	// but the client never hears so (a lost answer).
	AfterCommit bool
}

// Faults queues faults per operation ("POST /api/v1/statuses").
type Faults struct {
	mu    sync.Mutex
	queue map[string][]Fault
}

// Inject queues faults for op, served in order.
func (f *Faults) Inject(op string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue == nil {
		f.queue = map[string][]Fault{}
	}
	f.queue[op] = append(f.queue[op], faults...)
}

// Pending is how many injected faults are not yet served.
func (f *Faults) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, q := range f.queue {
		n += len(q)
	}
	return n
}

func (f *Faults) next(op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue[op]
	if len(q) == 0 {
		return Fault{}, false
	}
	f.queue[op] = q[1:]
	return q[0], true
}

// serve runs one operation with fault injection: a fault before the
// commit answers instead of it; one after the commit lets the post happen
// and then answers with the fault. errBody writes the network's error body.
func (f *Faults) serve(w http.ResponseWriter, r *http.Request, op string, errBody func(w http.ResponseWriter, status int), commit func() (int, any)) {
	fault, has := f.next(op)
	if has && !fault.AfterCommit {
		applyFault(w, r, fault, errBody)
		return
	}
	status, body := commit()
	if has {
		applyFault(w, r, fault, errBody)
		return
	}
	writeJSON(w, status, body)
}

func applyFault(w http.ResponseWriter, r *http.Request, f Fault, errBody func(http.ResponseWriter, int)) {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	status := f.Status
	if status == 0 {
		status = http.StatusGatewayTimeout
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	errBody(w, status)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// window is a fixed rate-limit window shared by a fake's endpoints.
type window struct {
	mu        sync.Mutex
	limit     int
	remaining int
	reset     time.Time
	period    time.Duration
}

func newWindow(limit int, period time.Duration) *window {
	return &window{limit: limit, remaining: limit, period: period}
}

// take spends one call; ok is false when the window is spent.
func (wd *window) take() (remaining int, reset time.Time, ok bool) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	now := time.Now()
	if now.After(wd.reset) {
		wd.reset = now.Add(wd.period)
		wd.remaining = wd.limit
	}
	if wd.remaining <= 0 {
		return 0, wd.reset, false
	}
	wd.remaining--
	return wd.remaining, wd.reset, true
}

// SetLimit changes the window's size and starts a new window.
func (wd *window) SetLimit(limit int, period time.Duration) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.limit, wd.remaining, wd.period, wd.reset = limit, limit, period, time.Now().Add(period)
}

func epoch(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	const p = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) > len(p) && h[:len(p)] == p {
		return h[len(p):]
	}
	return ""
}

// counter hands out increasing ids.
type counter struct {
	mu sync.Mutex
	n  int64
}

func (c *counter) next(base int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return strconv.FormatInt(base+c.n, 10)
}
