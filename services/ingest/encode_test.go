package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics"

	"github.com/newsroom/newsroom/pkg/problem"
)

// TestAcceptedAsEncodingJSON: the accepted answer, written by hand, is
// byte for byte what encoding/json writes, whatever its strings hold.
func TestAcceptedAsEncodingJSON(t *testing.T) {
	pieces := []string{"a", "Z", "0", "-", "/", ":", "?", "&", "<", ">", "\"", "\\", "\n", "\r", "\t", "\b", "\f",
		"\x00", "\x1f", "\x7f", "é", "€", "😀", "\u2028", "\u2029", "\xff", "\xe2\x82", "https://news.example.com/a/b?c=d&e=f"}
	rng := rand.New(rand.NewPCG(3, 4))
	str := func() string {
		var b bytes.Buffer
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	release := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	for i := range 2000 {
		resp := SubmitResponse{ID: str(), Revision: rng.Int64N(1 << 40), State: str(), StatusURL: str(), URL: str()}
		if i%100 == 0 {
			resp.ReleaseAt = &release
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if err := encodeAccepted(context.Background(), rec, resp); err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.Bytes(); !bytes.Equal(got, append(want, '\n')) {
			t.Fatalf("%+v:\n got %s\nwant %s", resp, got, want)
		}
		if rec.Code != 202 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Location") != resp.StatusURL {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
	}
}

// countingMetrics records each observation with its labels.
type countingMetrics struct {
	labels []string
	seen   *[]string
}

func (c countingMetrics) With(lv ...string) metrics.Counter {
	return countingMetrics{append(slices.Clone(c.labels), lv...), c.seen}
}
func (c countingMetrics) Add(float64) { *c.seen = append(*c.seen, strings.Join(c.labels, "=")) }

type countingHistogram struct{ countingMetrics }

func (c countingHistogram) With(lv ...string) metrics.Histogram {
	return countingHistogram{countingMetrics{append(slices.Clone(c.labels), lv...), c.seen}}
}
func (c countingHistogram) Observe(float64) { c.Add(0) }

// TestInstrumentingLabels: each call is counted and timed under its method
// and outcome, "ok" or the status of its error.
func TestInstrumentingLabels(t *testing.T) {
	var counted, timed []string
	m := &Metrics{Requests: countingMetrics{seen: &counted}, Latency: countingHistogram{countingMetrics{seen: &timed}}}
	ep := instrumenting(m, "create")(func(_ context.Context, req any) (any, error) {
		if req == "bad" {
			return nil, problem.New(http.StatusConflict, "exists", "t", "d")
		}
		return "fine", nil
	})
	for _, req := range []string{"good", "bad", "good"} {
		_, _ = ep(context.Background(), req)
	}
	want := []string{"method=create=outcome=ok", "method=create=outcome=409", "method=create=outcome=ok"}
	if !slices.Equal(counted, want) || !slices.Equal(timed, want) {
		t.Fatalf("counted %v, timed %v; want %v", counted, timed, want)
	}
}

// TestAPIMetrics: the API's answers reach /metrics by route and status,
// the refusals before the endpoint (a missing token, a scope, a body that
// fails validation) as well as the accepted ones.
func TestAPIMetrics(t *testing.T) {
	e := startEnv(t, "", Config{})
	e.submit("application/json", []byte(`{"headline": "Metrics", "body": "Counted."}`))
	e.do("POST", "/v1/articles", "", "application/json", []byte(`{}`))
	e.do("POST", "/v1/articles", readerToken, "application/json", []byte(`{"headline": "h", "body": "b"}`))
	e.do("POST", "/v1/articles", deskToken, "application/json", []byte(`{"headline": ""}`))
	e.do("GET", "/v1/articles/no-such-article", readerToken, "", nil)
	rec := httptest.NewRecorder()
	e.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{
		`newsroom_api_requests_total{code="202",route="POST /v1/articles",service="ingest"} 1`,
		`newsroom_api_requests_total{code="401",route="POST /v1/articles",service="ingest"} 1`,
		`newsroom_api_requests_total{code="403",route="POST /v1/articles",service="ingest"} 1`,
		`newsroom_api_requests_total{code="400",route="POST /v1/articles",service="ingest"} 1`,
		`newsroom_api_requests_total{code="404",route="GET /v1/articles/{id}",service="ingest"} 1`,
		`newsroom_api_request_seconds_count{route="POST /v1/articles",service="ingest"} 4`,
	} {
		if !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}
