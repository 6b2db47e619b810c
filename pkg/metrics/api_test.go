package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/newsroom/newsroom/pkg/metrics"
)

// TestHTTPCountsEveryAnswer: each answer of a wrapped route is counted
// under its status code (written with WriteHeader, implied by a Write, or
// the 500 of a panic) and timed, for that route only.
func TestHTTPCountsEveryAnswer(t *testing.T) {
	m := metrics.New()
	var answer func(w http.ResponseWriter)
	route := m.HTTP("ingest", "POST /v1/articles", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { answer(w) }))
	other := m.HTTP("ingest", "GET /v1/articles", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	call := func(h http.Handler) {
		defer func() { _ = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/articles", nil))
	}
	for _, a := range []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted); w.WriteHeader(http.StatusOK) },
		func(w http.ResponseWriter) { _, _ = w.Write([]byte("{}")) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) },
		func(w http.ResponseWriter) { panic("boom") },
	} {
		answer = a
		call(route)
	}
	call(other)
	fams := scrape(t, m.Handler())
	for code, want := range map[string]float64{"202": 2, "200": 1, "401": 1, "400": 2, "500": 1} {
		if got := value(fams, metrics.APIRequestsTotal, map[string]string{"service": "ingest", "route": "POST /v1/articles", "code": code}); got != want {
			t.Errorf("POST %s: counted %v, want %v", code, got, want)
		}
	}
	if got := value(fams, metrics.APIRequestSeconds, map[string]string{"route": "POST /v1/articles"}); got != 7 {
		t.Errorf("POST timed %v times, want 7", got)
	}
	if got := value(fams, metrics.APIRequestsTotal, map[string]string{"route": "GET /v1/articles", "code": "200"}); got != 1 {
		t.Errorf("GET counted %v, want 1", got)
	}
	var nilSet *metrics.Set
	h := http.NotFoundHandler()
	if nilSet.HTTP("x", "y", h) == nil {
		t.Error("a nil Set lost the handler")
	}
}

// BenchmarkHTTP is what counting and timing one answer adds to a request
// (the wrapped handler against the bare one, alternated in the same run).
func BenchmarkHTTP(b *testing.B) {
	m := metrics.New()
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	wrapped := m.HTTP("ingest", "POST /v1/articles", bare)
	req := httptest.NewRequest("POST", "/v1/articles", nil)
	w := discardWriter{header: http.Header{}}
	var base, with time.Duration
	for b.Loop() {
		start := time.Now()
		bare.ServeHTTP(w, req)
		mid := time.Now()
		wrapped.ServeHTTP(w, req)
		with += time.Since(mid)
		base += mid.Sub(start)
	}
	b.ReportMetric(float64((with-base).Nanoseconds())/float64(b.N), "added-ns/op")
}

type discardWriter struct{ header http.Header }

func (w discardWriter) Header() http.Header         { return w.header }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}
