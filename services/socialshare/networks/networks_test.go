package networks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestDoClassifiesAnswers(t *testing.T) {
	now := time.Now().Truncate(time.Second) // reset headers carry whole seconds
	var status int
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"nope"}`))
	}))
	defer srv.Close()
	cases := []struct {
		status    int
		hdr       http.Header
		retryable bool
		after     time.Duration
	}{
		{200, nil, false, 0},
		{422, nil, false, 0},
		{401, nil, false, 0},
		{500, nil, true, 0},
		{503, http.Header{"Retry-After": {"7"}}, true, 7 * time.Second},
		{429, http.Header{"Retry-After": {"3"}}, true, 3 * time.Second},
		// Mastodon: ISO 8601 reset.
		{429, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {now.Add(30 * time.Second).UTC().Format(time.RFC3339)}}, true, 30 * time.Second},
		// X and Bluesky: epoch seconds.
		{429, http.Header{"X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(now.Add(60*time.Second).Unix(), 10)}}, true, 60 * time.Second},
		{429, http.Header{"Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)}}, true, 90 * time.Second},
	}
	for _, c := range cases {
		status, hdr = c.status, c.hdr
		h := &HTTP{Network: "test", Client: srv.Client(), Bucket: NewBucket(0, 1), MaxWait: time.Second, Now: func() time.Time { return now }}
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		_, _, err := h.Do(context.Background(), "GET /", req, true)
		if c.status == 200 {
			if err != nil {
				t.Errorf("200: %v", err)
			}
			continue
		}
		retry, after := Retryable(err)
		if retry != c.retryable || after.Round(time.Second) != c.after || IsPermanent(err) == c.retryable {
			t.Errorf("%d %v: retryable %v after %v (%v)", c.status, c.hdr, retry, after, err)
		}
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	h := &HTTP{Network: "test", Client: &http.Client{Timeout: 50 * time.Millisecond}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	_, _, err := h.Do(context.Background(), "GET /", req, false)
	if retry, _ := Retryable(err); !retry || !IsTimeout(err) {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = h.Do(ctx, "GET /", req, false)
	if retry, _ := Retryable(err); retry || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestBucketDefersLongWaits(t *testing.T) {
	b := NewBucket(60, 1) // one a second
	ctx := context.Background()
	if err := b.Take(ctx, "n", 0); err != nil {
		t.Fatal(err)
	}
	err := b.Take(ctx, "n", 0)
	if retry, after := Retryable(err); !retry || after <= 0 || after > time.Second {
		t.Fatalf("second take: %v", err)
	}
	b.PauseUntil(time.Now().Add(time.Hour))
	if retry, after := Retryable(b.Take(ctx, "n", time.Minute)); !retry || after < 59*time.Minute {
		t.Fatalf("paused take: %v", after)
	}
}
