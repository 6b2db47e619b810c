package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/newsroom/newsroom/pkg/bus"
)

func TestIdempotencyKey(t *testing.T) {
	e := startEnv(t, "", Config{})
	body := []byte(`{"headline": "Parler sues Amazon", "body": "A legal battle."}`)
	first := e.do("POST", "/v1/articles", deskToken, "application/json", body, HeaderIdempotencyKey, "key-1")
	if first.Code != http.StatusAccepted {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	again := e.do("POST", "/v1/articles", deskToken, "application/json", body, HeaderIdempotencyKey, "key-1")
	if again.Code != first.Code || again.Body.String() != first.Body.String() ||
		again.Header().Get("Location") != first.Header().Get("Location") || again.Header().Get(HeaderReplayed) != "true" {
		t.Fatalf("replay: %d %s (first %s)", again.Code, again.Body, first.Body)
	}
	other := e.do("POST", "/v1/articles", deskToken, "application/json", []byte(`{"headline": "Other", "body": "b"}`), HeaderIdempotencyKey, "key-1")
	if other.Code != http.StatusConflict {
		t.Fatalf("same key, other body: %d %s", other.Code, other.Body)
	}
	if p := decodeProblem(t, other); len(p.Errors) != 1 || p.Errors[0].Field != HeaderIdempotencyKey {
		t.Fatalf("409 does not name the key: %+v", p)
	}
	// Keys belong to their token: another editor's same key is a new request.
	if rec := e.do("POST", "/v1/articles", wireToken, "application/json", body, HeaderIdempotencyKey, "key-1"); rec.Code != http.StatusAccepted ||
		rec.Header().Get(HeaderReplayed) != "" {
		t.Fatalf("other token, same key: %d %s", rec.Code, rec.Body)
	}
	// A refused request's answer is remembered too: the retry gets the
	// same 400, and fixing the body needs a new key.
	bad := []byte(`{"headline": ""}`)
	r1 := e.do("POST", "/v1/articles", deskToken, "application/json", bad, HeaderIdempotencyKey, "key-2")
	r2 := e.do("POST", "/v1/articles", deskToken, "application/json", bad, HeaderIdempotencyKey, "key-2")
	if r1.Code != http.StatusBadRequest || r2.Code != http.StatusBadRequest || r2.Header().Get(HeaderReplayed) != "true" {
		t.Fatalf("refused request: %d, then %d", r1.Code, r2.Code)
	}
	if n := len(e.events(bus.EventSubmitted, "*")); n != 2 {
		t.Fatalf("%d articles stored, want 2 (one per token)", n)
	}
}

// TestIdempotencyConcurrentRetries: many retries of one request, at once,
// all answer the same article, and only one is stored.
func TestIdempotencyConcurrentRetries(t *testing.T) {
	e := startEnv(t, "", Config{})
	body := seedPaste(t)
	const n = 16
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req := httptest.NewRequest("POST", "/v1/articles", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+deskToken)
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set(HeaderIdempotencyKey, "paste-2026-01-12")
			recs[i] = httptest.NewRecorder()
			e.h.ServeHTTP(recs[i], req)
		})
	}
	close(start)
	wg.Wait()
	ids := map[string]bool{}
	replayed := 0
	for i, rec := range recs {
		if rec.Code != http.StatusAccepted {
			t.Fatalf("retry %d: %d %s", i, rec.Code, rec.Body)
		}
		ids[decodeJSON[SubmitResponse](t, rec).ID] = true
		if rec.Header().Get(HeaderReplayed) == "true" {
			replayed++
		}
	}
	if len(ids) != 1 || replayed != n-1 {
		t.Fatalf("%d articles answered, %d replays", len(ids), replayed)
	}
	if evs := e.events(bus.EventSubmitted, "*"); len(evs) != 1 {
		t.Fatalf("%d articles stored", len(evs))
	}
}
