package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// BenchmarkList measures GET /v1/articles over a status view of 5,000
// articles, of which 20 changed since the previous list, against a
// baseline that reads and decodes every record of the bucket for each
// list (what each list did before this instance kept its copy), both in
// the same run, and reports their ratio.
func BenchmarkList(b *testing.B) {
	const articles, changed = 5000, 20
	e := startEnvWith(b, "", Config{}, true)
	ctx := context.Background()
	svc := e.ing.svc
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	write := func(i int) {
		id := fmt.Sprintf("story-%d", i)
		at = at.Add(time.Second)
		rec := record{ID: id, URL: svc.PageURL(id), Headline: "Story " + id, UpdatedAt: at,
			Revisions: []RevisionInfo{{Revision: 1, AcceptedAt: at, Stages: Stages{Submitted: &at}}}}
		data, err := json.Marshal(rec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.status.Put(ctx, id, data); err != nil {
			b.Fatal(err)
		}
	}
	for i := range articles {
		write(i)
	}
	list := func(c *summaries) time.Duration {
		start := time.Now()
		all, err := c.matching(ctx, svc, ListRequest{Limit: DefaultListLimit})
		took := time.Since(start)
		if err != nil || len(all) != articles {
			b.Fatalf("%d summaries, %v", len(all), err)
		}
		return took
	}
	var kept summaries
	list(&kept)
	var base, incremental time.Duration
	n := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for range changed {
			write(n % articles)
			n++
		}
		b.StartTimer()
		base += list(&summaries{})
		incremental += list(&kept)
	}
	f := float64(b.N)
	b.ReportMetric(float64(base.Nanoseconds())/f, "full-read-ns/op")
	b.ReportMetric(float64(incremental.Nanoseconds())/f, "incremental-ns/op")
	b.ReportMetric(float64(incremental)/float64(base), "ratio")
}
