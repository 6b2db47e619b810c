package ingest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkSubmit measures POST /v1/articles against a baseline handler
// that only reads the body and waits for a JetStream PubAck of it, both in
// the same run on the same nats-server, and reports their ratio: what
// validation, the log's compare-and-set and the status view cost on top of
// the one durable write that cannot be avoided.
func BenchmarkSubmit(b *testing.B) {
	e := startEnv(b, "", Config{})
	ctx := context.Background()
	if _, err := e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}}); err != nil {
		b.Fatal(err)
	}
	baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := e.js.Publish(r.Context(), "bench.article", body); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	body := []byte(`{"headline": "Parler sues Amazon for taking down its servers", "dek": "The lawsuit", "body": "` +
		string(bytes.Repeat([]byte("A legal battle that will be very important for the future of Parler. "), 60)) +
		`", "bylines": ["Emmanuel Alejandro Rondón"], "tags": ["Parler", "Amazon"], "language": "en"}`)
	send := func(h http.Handler) time.Duration {
		req := httptest.NewRequest("POST", "/v1/articles", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+deskToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(start)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return took
	}
	// Warm both paths up, then alternate them so that noise on the shared
	// machine falls on both alike.
	send(baseline)
	send(e.h)
	var base, ingest time.Duration
	b.ResetTimer()
	for b.Loop() {
		base += send(baseline)
		ingest += send(e.h)
	}
	n := float64(b.N)
	b.ReportMetric(float64(base.Nanoseconds())/n, "baseline-ns/op")
	b.ReportMetric(float64(ingest.Nanoseconds())/n, "ingest-ns/op")
	b.ReportMetric(float64(ingest)/float64(base), "ratio")
}
