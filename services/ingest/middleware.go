package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"

	"github.com/newsroom/newsroom/pkg/apiauth"
	"github.com/newsroom/newsroom/pkg/problem"
	"github.com/newsroom/newsroom/pkg/telemetry"
)

// Metrics are go-kit instruments for the API's endpoints, labelled by
// method and outcome ("ok" or the HTTP status of the error); plug in
// Prometheus, expvar or any other go-kit backend.
type Metrics struct {
	Requests metrics.Counter
	Latency  metrics.Histogram
}

// DiscardMetrics records nothing.
func DiscardMetrics() *Metrics {
	return &Metrics{Requests: discard.NewCounter(), Latency: discard.NewHistogram()}
}

// statusOf is the HTTP status an error is answered with.
func statusOf(err error) int {
	var d *problem.Details
	if errors.As(err, &d) {
		return d.Status
	}
	return http.StatusInternalServerError
}

// outcome is "ok" or the status an error is answered with.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return strconv.Itoa(statusOf(err))
}

// instrumenting counts and times every call of an endpoint.
func instrumenting(m *Metrics, method string) endpoint.Middleware {
	// The instruments of the common outcome, labelled once.
	okRequests := m.Requests.With("method", method, "outcome", "ok")
	okLatency := m.Latency.With("method", method, "outcome", "ok")
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			start := time.Now()
			resp, err := next(ctx, req)
			if err == nil {
				okRequests.Add(1)
				okLatency.Observe(time.Since(start).Seconds())
				return resp, err
			}
			labels := []string{"method", method, "outcome", outcome(err)}
			m.Requests.With(labels...).Add(1)
			m.Latency.With(labels...).Observe(time.Since(start).Seconds())
			return resp, err
		}
	}
}

// logging writes one line per call: who did what to which article, how it
// ended. Server faults are logged at error level with their cause, once,
// here at the edge; the editor sees only the problem document.
func logging(log *slog.Logger, method string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			start := time.Now()
			resp, err := next(ctx, req)
			level := slog.LevelInfo
			if err != nil && statusOf(err) >= 500 {
				level = slog.LevelError
			}
			if !log.Enabled(ctx, level) {
				return resp, err
			}
			if id := articleIDOf(req, resp); id != "" {
				ctx = telemetry.WithArticleID(ctx, id)
			}
			attrs := [5]slog.Attr{slog.String("method", method), slog.String("editor", apiauth.EditorFrom(ctx)),
				slog.String("outcome", outcome(err)), slog.String("took", time.Since(start).String())}
			n := 4
			if err != nil {
				attrs[4], n = slog.String("err", err.Error()), 5
			}
			log.LogAttrs(ctx, level, "api", attrs[:n]...)
			return resp, err
		}
	}
}

func articleIDOf(req, resp any) string {
	switch r := resp.(type) {
	case SubmitResponse:
		return r.ID
	case RetractResponse:
		return r.ID
	case Status:
		return r.ID
	}
	switch r := req.(type) {
	case SubmitRequest:
		return r.Article.GetId()
	case RetractRequest:
		return r.ID
	case string:
		return r
	}
	return ""
}
