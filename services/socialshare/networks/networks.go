// Package networks is what every social network client shares: the
// request a post is made from, the remote post it becomes, how errors are
// classified (retry later, or give up), rate-limit headers read into a
// token bucket, and one HTTP round trip that does all of that. The clients
// themselves live in the sub-packages, one per network.
package networks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/newsroom/newsroom/services/socialshare/compose"
)

// Request is one post to make.
type Request struct {
	ArticleID string
	// Key is the post's idempotency key, the same on every attempt.
	Key string
	// CreatedAt is when the ledger first recorded the post: the same on
	// every attempt (Bluesky derives the record key from it).
	CreatedAt time.Time
	Post      compose.Post
	// ReplyTo, when set, makes the post a reply (corrections).
	ReplyTo *Remote
}

// Remote is a post as the network knows it.
type Remote struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
	// CID is Bluesky's content hash, needed to reply.
	CID string `json:"cid,omitempty"`
}

// Client speaks one network's API.
type Client interface {
	// Post makes the post. Sending the same Request again must not make
	// a second post where the API allows it (an idempotency key, a fixed
	// record key); Find covers the rest.
	Post(ctx context.Context, r Request) (Remote, error)
	// Find looks the post up after an attempt whose outcome is unknown (a
	// timeout, a crash before the ledger was updated). found is false
	// when the network has no such post.
	Find(ctx context.Context, r Request) (remote Remote, found bool, err error)
	// Delete removes a post; a post already gone is not an error.
	Delete(ctx context.Context, r Remote) error
	// Replies reports whether the network can post a reply under a post.
	Replies() bool
}

// RulesSource is a client that knows its live limits (Mastodon's
// /api/v2/instance).
type RulesSource interface {
	Rules(ctx context.Context, base compose.Rules) (compose.Rules, error)
}

// Error is a failed call, classified.
type Error struct {
	Network string
	Op      string
	Status  int    // HTTP status, 0 for a transport error
	Code    string // the API's own error code, if any
	Message string
	// Retryable: a timeout, a 5xx, a 429; trying again later may work.
	Retryable bool
	// RetryAfter is the wait the network asked for (Retry-After, a
	// rate-limit reset), or 0.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Network, e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err may succeed later, and the wait asked for.
// Errors that are not an *Error (a cancelled context) are not.
func Retryable(err error) (bool, time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable, e.RetryAfter
	}
	return false, 0
}

// IsPermanent: err is a network's answer that retrying cannot change.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Retryable
}

// ErrNotConfigured: a client lacks credentials.
var ErrNotConfigured = errors.New("not configured")

// Bucket is a token bucket for one network, paused until a reset time
// when the network says its window is spent.
type Bucket struct {
	lim   *rate.Limiter
	mu    sync.Mutex
	until time.Time
}

// NewBucket allows perMinute posts a minute, in bursts of burst.
func NewBucket(perMinute float64, burst int) *Bucket {
	if perMinute <= 0 {
		return &Bucket{lim: rate.NewLimiter(rate.Inf, 1)}
	}
	return &Bucket{lim: rate.NewLimiter(rate.Limit(perMinute/60), max(burst, 1))}
}

// Take takes a token, waiting up to maxWait; a longer wait is returned as
// a retryable error so the caller can come back later instead of holding
// the article.
func (b *Bucket) Take(ctx context.Context, network string, maxWait time.Duration) error {
	if b == nil {
		return nil
	}
	now := time.Now()
	b.mu.Lock()
	pause := b.until.Sub(now)
	b.mu.Unlock()
	if pause > maxWait {
		return &Error{Network: network, Op: "rate limit", Message: "window spent until " + b.until.UTC().Format(time.RFC3339),
			Retryable: true, RetryAfter: pause}
	}
	r := b.lim.ReserveN(now, 1)
	wait := max(r.DelayFrom(now), pause)
	if !r.OK() || wait > maxWait {
		r.CancelAt(now)
		return &Error{Network: network, Op: "rate limit", Message: "token bucket empty", Retryable: true, RetryAfter: wait}
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// PauseUntil holds every call until t.
func (b *Bucket) PauseUntil(t time.Time) {
	if b == nil {
		return
	}
	b.mu.Lock()
	if t.After(b.until) {
		b.until = t
	}
	b.mu.Unlock()
}

// HTTP is one network's HTTP side: a client with a timeout, the bucket,
// and the network's way of reading rate-limit headers and error bodies.
type HTTP struct {
	Network string
	Client  *http.Client
	Bucket  *Bucket
	// MaxWait is the longest the bucket may hold a call in process.
	MaxWait time.Duration
	// ErrorBody extracts the API's error code and message from a body.
	ErrorBody func(body []byte) (code, message string)
	// TransientCode, if set, marks API error codes that are worth a retry
	// whatever the HTTP status (the Graph API's throttling codes).
	TransientCode func(code string) bool
	Now           func() time.Time
}

// Do sends req (its body must be replayable via GetBody or nil) and
// returns the response body of a 2xx answer; anything else is an *Error.
// When limited is set the call first takes a token from the bucket.
func (h *HTTP) Do(ctx context.Context, op string, req *http.Request, limited bool) (*http.Response, []byte, error) {
	if limited {
		if err := h.Bucket.Take(ctx, h.Network, h.MaxWait); err != nil {
			return nil, nil, err
		}
	}
	req = req.WithContext(ctx)
	resp, err := h.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", h.Network, op, ctx.Err())
		}
		// Timeouts, refused and reset connections: the outcome is unknown
		// or the network unreachable; either way try again later.
		return nil, nil, &Error{Network: h.Network, Op: op, Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", h.Network, op, ctx.Err())
		}
		return nil, nil, &Error{Network: h.Network, Op: op, Status: resp.StatusCode, Retryable: true, Err: err}
	}
	reset, spent := h.rateLimit(resp.Header)
	if spent {
		h.Bucket.PauseUntil(reset)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, body, nil
	}
	e := &Error{Network: h.Network, Op: op, Status: resp.StatusCode}
	if h.ErrorBody != nil {
		e.Code, e.Message = h.ErrorBody(body)
	}
	if e.Message == "" && e.Code == "" {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 300)]))
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Retryable = true
		e.RetryAfter = h.retryAfter(resp.Header, reset)
		h.Bucket.PauseUntil(h.now().Add(e.RetryAfter))
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout,
		h.TransientCode != nil && h.TransientCode(e.Code):
		e.Retryable = true
		e.RetryAfter = h.retryAfter(resp.Header, time.Time{})
	}
	return resp, body, e
}

func (h *HTTP) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// rateLimit reads the window's remaining calls and reset time from the
// headers networks use: X-RateLimit-* (Mastodon: ISO 8601 reset; X:
// x-rate-limit-*, epoch seconds) and RateLimit-* (Bluesky: epoch seconds).
func (h *HTTP) rateLimit(hdr http.Header) (reset time.Time, spent bool) {
	remaining := firstHeader(hdr, "X-RateLimit-Remaining", "X-Rate-Limit-Remaining", "RateLimit-Remaining")
	resetS := firstHeader(hdr, "X-RateLimit-Reset", "X-Rate-Limit-Reset", "RateLimit-Reset")
	if resetS == "" {
		return time.Time{}, false
	}
	reset = parseReset(resetS, h.now())
	n, err := strconv.Atoi(remaining)
	return reset, err == nil && n <= 0 && !reset.IsZero()
}

// retryAfter is Retry-After (seconds or an HTTP date), else the time to
// the reset, else 0.
func (h *HTTP) retryAfter(hdr http.Header, reset time.Time) time.Duration {
	now := h.now()
	if v := hdr.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if !reset.IsZero() {
		return max(reset.Sub(now), 0)
	}
	return 0
}

func parseReset(v string, now time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Epoch seconds, or (small numbers) seconds from now.
		if n > 1_000_000_000 {
			return time.Unix(n, 0)
		}
		return now.Add(time.Duration(n) * time.Second)
	}
	return time.Time{}
}

func firstHeader(h http.Header, keys ...string) string {
	for _, k := range keys {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// IsTimeout reports whether err is a timeout (for tests and logs).
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
